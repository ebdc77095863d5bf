/// The proc: table protocol 0.1 of OpenSMTPD 7.6 and later (upstream table_proc.c), at the byte level: the
/// handshake lines, the requests smtpd sends and the replies it accepts.
///
/// smtpd ends its lookup process (and so the daemon) on any reply it cannot parse, so every reply built here
/// is one LF-terminated line with no CR, the request's ID echoed, and a non-empty value without line breaks.
public enum ProcProtocol {
    /// The protocol version this side speaks.
    public static let version: [UInt8] = Array("0.1".utf8)
    /// The longest key smtpd sends (its lookup keys are at most 1023 bytes).
    public static let maxKeyLength = 1023
    /// The longest request line read before it is discarded as malformed (a 1023-byte key plus the header,
    /// with room for a long table name).
    public static let maxLineLength = 4096

    /// What a request asks.
    public enum Operation: String, Sendable, CaseIterable {
        case update, check, lookup, fetch

        /// The first word of the reply smtpd waits for.
        var replyWord: String { rawValue + "-result" }
    }

    /// Every service name smtpd knows (table.c `table_service_from_name`, `none` aside).
    public static let serviceNames: [String] = TableService.allCases.map(\.rawValue) + ["auth"]

    /// One request from smtpd.
    public struct Request: Sendable, Equatable {
        public var operation: Operation
        /// The service named (nil for `update`), as written: it may be one this side does not know.
        public var service: String?
        /// The request's ID, echoed in the reply.
        public var id: [UInt8]
        /// The key of `check` and `lookup`: everything after the ID, `|` included.
        public var key: [UInt8]?
    }

    /// A line that is not a request: `id` and `operation` are set when enough was read to answer it with an
    /// `error` (a request of a known operation with a bad version or a missing field); otherwise no reply can
    /// be well formed (smtpd would take it for the answer to its next request), and the line is only logged.
    public struct Malformed: Error, Sendable, Equatable {
        public var operation: Operation?
        public var id: [UInt8]?
        public var reason: String
    }

    /// Parses one request line (without its LF). `tableName`, the name smtpd gave in the handshake, lets a
    /// name that itself holds `|` be skipped whole.
    public static func parse(_ line: ArraySlice<UInt8>, tableName: [UInt8]? = nil) -> Result<Request, Malformed> {
        let bar = UInt8(ascii: "|")
        var rest = line
        func field() -> ArraySlice<UInt8>? {
            guard let end = rest.firstIndex(of: bar) else { return nil }
            defer { rest = rest[(end + 1)...] }
            return rest[rest.startIndex..<end]
        }
        func fail(_ reason: String, _ op: Operation? = nil, _ id: ArraySlice<UInt8>? = nil) -> Result<Request, Malformed> {
            .failure(Malformed(operation: op, id: id.map(Array.init), reason: reason))
        }
        guard let word = field(), word.elementsEqual("table".utf8) else { return fail("not a table request") }
        guard let version = field() else { return fail("no protocol version") }
        guard field() != nil else { return fail("no time stamp") }
        // The table's name: the one announced, which may hold `|`, else up to the next `|`.
        if let name = tableName, rest.starts(with: name), rest.dropFirst(name.count).first == bar {
            rest = rest.dropFirst(name.count + 1)
        } else if field() == nil {
            return fail("no table name")
        }
        let opField = field()
        let opWord = opField ?? rest
        guard let op = Operation(rawValue: String(decoding: opWord, as: UTF8.self)) else {
            return fail("unknown operation")
        }
        if op == .update {
            // `update|ID` ends the line: the rest is the ID.
            let id = rest
            guard opField != nil, validID(id) else { return fail("no request ID", op, nil) }
            guard version.elementsEqual(Self.version) else { return fail("unsupported protocol version", op, id) }
            return .success(Request(operation: op, service: nil, id: Array(id), key: nil))
        }
        guard opField != nil, let service = field() else { return fail("no service", op, nil) }
        let id: ArraySlice<UInt8>
        var key: ArraySlice<UInt8>?
        if op == .fetch {
            id = rest
        } else {
            guard let i = field() else { return fail("no key", op, nil) }
            id = i
            key = rest
        }
        guard validID(id) else { return fail("no request ID", op, nil) }
        guard version.elementsEqual(Self.version) else { return fail("unsupported protocol version", op, id) }
        return .success(Request(operation: op, service: String(decoding: service, as: UTF8.self), id: Array(id),
                                key: key.map(Array.init)))
    }

    /// An ID that can be echoed in a well-formed reply (smtpd's are 8 hex digits; any bytes but `|`, CR, LF
    /// and NUL are echoed as they came).
    static func validID(_ id: ArraySlice<UInt8>) -> Bool {
        !id.isEmpty && !id.contains(where: { $0 == UInt8(ascii: "|") || $0 == 0x0A || $0 == 0x0D || $0 == 0 })
    }

    /// An answer to a request.
    public enum Answer: Sendable, Equatable {
        /// `ok` to update; `found` to check.
        case ok
        /// `found|VALUE` to lookup and fetch.
        case found([UInt8])
        case notFound
        /// A temporary failure; smtpd logs the message.
        case error(String)
    }

    /// The reply line for `answer` to the request `id` of `operation`, LF included. A value smtpd could not
    /// take (empty, or holding CR, LF or NUL) becomes an `error`; the message of an error is cut to one line.
    public static func reply(_ operation: Operation, id: [UInt8], _ answer: Answer) -> [UInt8] {
        var out = Array(operation.replyWord.utf8)
        out.append(UInt8(ascii: "|"))
        out += id.filter { $0 != 0x0A && $0 != 0x0D }
        out.append(UInt8(ascii: "|"))
        switch answer {
        case .ok:
            out += Array((operation == .update ? "ok" : "found").utf8)
        case .found(let value):
            if operation == .check {
                out += Array("found".utf8)
            } else if value.isEmpty {
                out += errorText("empty value (the protocol cannot carry it)")
            } else if value.contains(where: { $0 == 0x0A || $0 == 0x0D || $0 == 0 }) {
                out += errorText("value holds a line break or NUL (the protocol cannot carry it)")
            } else {
                out += Array("found|".utf8)
                out += value
            }
        case .notFound:
            out += Array((operation == .update ? "error|nothing to update" : "not-found").utf8)
        case .error(let message):
            out += errorText(message)
        }
        out.append(0x0A)
        return out
    }

    private static func errorText(_ message: String) -> [UInt8] {
        // One line, printable: smtpd logs it as it is.
        let clean = message.utf8.prefix(400).map { $0 < 0x20 || $0 == 0x7F ? UInt8(ascii: " ") : $0 }
        return Array("error".utf8) + (clean.isEmpty ? [] : [UInt8(ascii: "|")] + clean)
    }

    /// The handshake lines smtpd sends before `config|ready` (the keys known today).
    public struct Handshake: Sendable, Equatable {
        /// `config|smtpd-version|7.6.0-portable`.
        public var smtpdVersion: String?
        /// `config|protocol|0.1`.
        public var protocolVersion: String?
        /// `config|tablename|NAME`.
        public var tableName: [UInt8]?

        public init() {}

        /// Reads one handshake line (without its LF): true at `config|ready`. Unknown `config|` keys are
        /// ignored; a line that is not `config|...` is an error.
        public mutating func read(_ line: ArraySlice<UInt8>) throws(Malformed) -> Bool {
            let prefix = Array("config|".utf8)
            guard line.starts(with: prefix) else {
                throw Malformed(operation: nil, id: nil, reason: "handshake line is not config|...")
            }
            let rest = line.dropFirst(prefix.count)
            if rest.elementsEqual("ready".utf8) { return true }
            guard let bar = rest.firstIndex(of: UInt8(ascii: "|")) else { return false }
            let key = String(decoding: rest[..<bar], as: UTF8.self)
            let value = rest[(bar + 1)...]
            switch key {
            case "smtpd-version": smtpdVersion = String(decoding: value, as: UTF8.self)
            case "protocol": protocolVersion = String(decoding: value, as: UTF8.self)
            case "tablename": tableName = Array(value)
            default: break
            }
            return false
        }
    }

    /// The registration lines for `services`, then `register|ready`.
    public static func registration(_ services: [String]) -> [UInt8] {
        var out: [UInt8] = []
        for s in services { out += Array("register|\(s)\n".utf8) }
        out += Array("register|ready\n".utf8)
        return out
    }
}
