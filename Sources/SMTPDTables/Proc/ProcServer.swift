/// Serves one table to smtpd over the proc: protocol (`ProcProtocol`): what `smtpd-tables serve` and the
/// `table-idx` / `table-passwd` helpers run.
///
/// ```swift
/// let status = ProcServer.run(ProcServer.Configuration(table: "file:/etc/mail/vdomains"))
/// ```
/// The table is opened after the handshake, at the release smtpd announces (unless one is given), so the
/// file's lines mean what they mean to that smtpd. A table that cannot be opened is not fatal: every request is
/// answered `error` (a temporary failure smtpd logs) until an `update` loads it. An `update` that fails keeps
/// the entries in use and answers `error`.
public enum ProcServer {
    /// The backend name of this package's helper in smtpd.conf: `table NAME idx:/PATH` runs
    /// PATH_LIBEXEC/table-idx (a short word without `:` that smtpd's parser takes as a backend).
    public static let helperBackend = "idx"

    /// What to serve.
    public struct Configuration: Sendable {
        /// The table as smtpd.conf names it: `file:PATH`, `db:PATH`, `passwd:PATH`, or a bare path (a Berkeley DB
        /// file is read as db:, anything else as file:).
        public var table: String
        /// The release whose table semantics are served; nil: the one smtpd announces (else the newest).
        public var version: SMTPDVersion?
        /// smtpd's `smtp sub-addr-delim`, for the mailaddr service.
        public var subaddressDelimiter: UInt8

        public init(table: String, version: SMTPDVersion? = nil, subaddressDelimiter: UInt8 = UInt8(ascii: "+")) {
            self.table = table
            self.version = version
            self.subaddressDelimiter = subaddressDelimiter
        }

        /// The services registered: credentials and userinfo for a passwd table, else every service but `auth`
        /// (smtpd folds the whole `user:password` key to lower case, upstream issue #1268, so a password with a
        /// capital could never match: AUTH looks `credentials` up and checks the hash itself instead).
        public var services: [String] {
            if Table.split(spec: table).0 == PasswdTable.backend { return ["credentials", "userinfo"] }
            return TableService.allCases.map(\.rawValue)
        }
    }

    /// Speaks the protocol on `input` and `output` until smtpd closes its end. Returns the exit status: 0 at the
    /// end of input, 1 after a read or write error or a broken handshake (explained on standard error).
    public static func run(_ configuration: Configuration, input: Int32 = 0, output: Int32 = 1) -> Int32 {
        var channel = LineChannel(input: input, output: output)
        var handshake = ProcProtocol.Handshake()
        handshaking: while true {
            switch channel.line(limit: ProcProtocol.maxLineLength) {
            case .lines(let line):
                do {
                    if try handshake.read(line[...]) { break handshaking }
                } catch {
                    return fail("handshake: \(error.reason)")
                }
            case .tooLong: return fail("handshake: line too long")
            case .end: return fail("end of input during the handshake")
            case .failed(let e): return fail(e.description)
            }
        }
        let session = ProcSession(configuration, handshake: handshake)
        do {
            try channel.write(ProcProtocol.registration(configuration.services))
        } catch {
            return fail(error.description)
        }
        while true {
            let reply: [UInt8]?
            switch channel.batch(limit: ProcProtocol.maxLineLength) {
            case .lines(let request): reply = session.answer(request[...])
            case .tooLong:
                // Over any key smtpd sends: nothing can be parsed back to its ID, so nothing can be answered.
                writeDiagnostic("\(session.label): request line too long, ignored")
                reply = nil
            case .end: return 0
            case .failed(let e): return fail(e.description)
            }
            guard let reply else { continue }
            do { try channel.write(reply) } catch { return fail(error.description) }
        }
    }

    private static func fail(_ message: String) -> Int32 {
        writeDiagnostic("smtpd-tables proc backend: \(message)")
        return 1
    }
}

/// The answering side of a proc: backend, without the I/O: one request line in, one reply line out.
/// Used by `ProcServer.run`, and directly by tests and the fuzzer.
public final class ProcSession {
    public let configuration: ProcServer.Configuration
    /// The release whose semantics are served.
    public let version: SMTPDVersion
    /// The table's name as smtpd announced it.
    public let tableName: [UInt8]?
    private var table: Table?
    private var loadError: String?
    private var fetchCursor = 0

    /// Opens the table (at the announced release unless the configuration names one). A failure to open it is
    /// logged on standard error and answered `error` until an update succeeds.
    public init(_ configuration: ProcServer.Configuration, handshake: ProcProtocol.Handshake = .init()) {
        self.configuration = configuration
        tableName = handshake.tableName
        var version = configuration.version ?? .newest
        if configuration.version == nil, let announced = handshake.smtpdVersion {
            if let v = try? SMTPDVersion(announced) { version = v }
        }
        self.version = version
        load()
    }

    /// `table NAME` in diagnostics.
    var label: String { "table \(tableName.map { String(decoding: $0, as: UTF8.self) } ?? configuration.table)" }

    @discardableResult
    private func load() -> String? {
        let options = TableOptions(subaddressDelimiter: configuration.subaddressDelimiter, version: version)
        do {
            if let table {
                try table.reload()
            } else {
                table = try Table(configuration.table, options: options)
            }
            loadError = nil
            return nil
        } catch {
            let message = error.description
            if table == nil { loadError = message }
            writeDiagnostic("\(label): \(message)")
            return message
        }
    }

    /// The reply to one request line (without its final LF; a LF inside is part of the key), or nil when the
    /// line cannot be answered in a form smtpd accepts (no request ID, or no operation to answer for).
    public func answer(_ line: ArraySlice<UInt8>) -> [UInt8]? {
        let request: ProcProtocol.Request
        switch ProcProtocol.parse(line, tableName: tableName) {
        case .success(let r): request = r
        case .failure(let malformed):
            guard let op = malformed.operation, let id = malformed.id else {
                writeDiagnostic("\(label): malformed request ignored: \(malformed.reason)")
                return nil
            }
            return ProcProtocol.reply(op, id: id, .error(malformed.reason))
        }
        return ProcProtocol.reply(request.operation, id: request.id, answer(request))
    }

    private func answer(_ request: ProcProtocol.Request) -> ProcProtocol.Answer {
        if request.operation == .update {
            if let failure = load() { return .error("update failed, old entries kept: \(failure)") }
            return .ok
        }
        guard let name = request.service else { return .error("no service") }
        guard let service = TableService(rawValue: name) else {
            if name == "auth" {
                return .error("auth is not served: smtpd folds the password to lower case; use credentials")
            }
            return .error("unknown service \(name.prefix(64))")
        }
        guard let table else { return .error("table not loaded: \(loadError ?? "unknown error")") }
        do throws(TableError) {
            switch request.operation {
            case .check:
                return try table.contains(bytes: request.key ?? [], service: service) ? .ok : .notFound
            case .lookup:
                guard let m = try table.lookup(bytes: request.key ?? [], service: service) else { return .notFound }
                return .found(Array(m.valueSlice ?? m.keySlice))
            case .fetch:
                return fetch(table, service: service)
            case .update:
                return .ok
            }
        } catch {
            return .error(error.message)
        }
    }

    /// smtpd's fetch on its own tables: the keys in turn, starting over after the last (table_static.c
    /// `table_static_fetch`, in the table's key order).
    private func fetch(_ table: Table, service: TableService) -> ProcProtocol.Answer {
        let snapshot = table.snapshot
        let live = snapshot.liveEntries
        guard !live.isEmpty else { return .notFound }
        let ordered: [Int32]
        if snapshot.matchOrder == .smallestKey {
            ordered = live.sorted { a, b in snapshot.key(a).lexicographicallyPrecedes(snapshot.key(b)) }
        } else {
            ordered = live
        }
        if fetchCursor >= ordered.count { fetchCursor = 0 }
        defer { fetchCursor += 1 }
        return .found(Array(snapshot.key(ordered[fetchCursor])))
    }
}

extension ProcServer {
    /// The entry point of a `PATH_LIBEXEC/table-*` helper as smtpd runs it: `arguments[0]` is the table's name
    /// (not the program's), `arguments[1]` the path after `BACKEND:`. `backend` is the reading forced on the
    /// path (`passwd`), nil to tell db: from file: by content. Returns the exit status.
    public static func runAsHelper(backend: String?, arguments: [String]) -> Int32 {
        guard arguments.count == 2, arguments[1].hasPrefix("/") else {
            return fail("usage: table NAME BACKEND:/absolute/path in smtpd.conf (got \(arguments.count - 1) "
                        + "arguments); by hand: smtpd-tables serve TABLE")
        }
        let spec = backend.map { "\($0):\(arguments[1])" } ?? arguments[1]
        return run(Configuration(table: spec))
    }
}
