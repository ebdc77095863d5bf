/// One element of an alias value (an expansion node), as upstream to.c `text_to_expandnode` reads it.
public struct ExpansionNode: Hashable, Sendable, CustomStringConvertible {
    /// What an element is (upstream smtpd.h `enum expand_type`); also the kind of a `ResolutionNode`.
    public enum Kind: String, Sendable, CaseIterable {
        /// `error:NNN text` or `:error:NNN text`: ends the expansion with that SMTP reply.
        case error
        /// `:include:/path` or `include:/path`: more alias values read from a file.
        case include
        /// `|command` or `"|command"`: the message is piped to a command.
        case filter
        /// `/path`: the message is appended to a file.
        case file
        /// `user@domain`.
        case address
        /// A local or virtual user name.
        case username
    }

    /// What the element is.
    public var kind: Kind
    /// The text smtpd keeps: `550 text` for errors, the path, the command, the user name, or `user@domain`.
    public var value: String
    /// The parts of an `.address` node (the user part cut at 255 bytes, as smtpd's buffer does).
    public var address: MailAddress?

    /// A node from its parts, taken as given.
    public init(kind: Kind, value: String, address: MailAddress? = nil) {
        self.kind = kind
        self.value = value
        self.address = address
    }

    /// `kind:value`, e.g. `address:bob@example.org`.
    public var description: String { "\(kind.rawValue):\(value)" }

    /// Parses one trimmed element; nil when smtpd would find it invalid.
    public init?(element: String) {
        guard let node = ExpansionNode.parse(Array(element.utf8)[...]) else { return nil }
        self = node
    }

    /// Parses a whole alias value (a comma-separated list, quotes and `\` escapes, upstream expand.c
    /// `expand_line`). Any invalid element, an unbalanced quote or a trailing `\` makes the whole value
    /// invalid, as in smtpd. Empty elements are skipped.
    public static func parseList(_ value: String) throws(TableError) -> [ExpansionNode] {
        try parseList(Array(value.utf8)[...])
    }

    static func parseList(_ value: ArraySlice<UInt8>) throws(TableError) -> [ExpansionNode] {
        guard value.count < 2048 else {
            throw TableError(.invalidValue, "alias value too long (\(value.count) bytes, smtpd allows 2047)")
        }
        var nodes: [ExpansionNode] = []
        var failure: TableError?
        splitList(value) { element in
            let item = trimmedCSpace(element)
            if item.isEmpty { return true }
            guard let node = parse(item) else {
                failure = TableError(.invalidValue, "invalid alias element '\(String(lossyBytes: item))'")
                return false
            }
            nodes.append(node)
            return true
        } onError: { message in
            failure = TableError(.invalidValue, message)
        }
        if let failure { throw failure }
        return nodes
    }

    /// Splits a list on commas outside quotes; `\` escapes (and is dropped), quotes are kept in the element.
    /// `body` returns false to stop. Upstream expand.c `expand_line_split` / mailaddr.c `mailaddr_line_split`.
    static func splitList(_ value: ArraySlice<UInt8>, _ body: (ArraySlice<UInt8>) -> Bool,
                          onError: (String) -> Void) {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(64)
        var escaped = false, inDouble = false, inSingle = false
        for c in value {
            if escaped {
                buffer.append(c)
                escaped = false
                continue
            }
            if c == UInt8(ascii: "\\") { escaped = true; continue }
            if c == UInt8(ascii: ","), !inDouble, !inSingle {
                if !body(buffer[...]) { return }
                buffer.removeAll(keepingCapacity: true)
                continue
            }
            buffer.append(c)
            if c == UInt8(ascii: "\""), !inSingle { inDouble.toggle() }
            if c == UInt8(ascii: "'"), !inDouble { inSingle.toggle() }
        }
        if escaped { onError("alias value ends with '\\'"); return }
        if inDouble || inSingle { onError("unbalanced quote in alias value"); return }
        if !buffer.isEmpty { _ = body(buffer[...]) }
    }

    /// Whether `parse` accepts the trimmed element `s`, without building a node in the common cases (a user
    /// name, a plain address): makemap checks millions of alias values.
    static func isValid(_ s: UnsafeRawBufferPointer) -> Bool {
        var allUsername = true
        var at = -1
        for (i, c) in s.enumerated() {
            if isASCIIAlnum(c) || c == UInt8(ascii: "_") || c == UInt8(ascii: ".") || c == UInt8(ascii: "-")
                || c == UInt8(ascii: "+") { continue }
            allUsername = false
            if c == UInt8(ascii: "@"), at < 0 { at = i }
        }
        if allUsername, s.count < 256, !s.isEmpty { return true }
        if at > 0, at < s.count - 1, s.count >= 3 {
            var ok = true
            for c in s[..<at] where !(isASCIIAlnum(c) || addressUserExtras.contains(c)) { ok = false; break }
            if ok {
                for c in s[(at + 1)...]
                where !(isASCIIAlnum(c) || c == UInt8(ascii: "-") || c == UInt8(ascii: ".")) { ok = false; break }
            }
            if ok { return true }
        }
        return parse(Array(s)[...]) != nil
    }

    /// One element, tried as error, include, filter, file, address, then username (the upstream order).
    static func parse(_ s: ArraySlice<UInt8>) -> ExpansionNode? {
        if let n = parseError(s) { return n }
        if let n = parseInclude(s) { return n }
        if let n = parseFilter(s) { return n }
        if let n = parseFile(s) { return n }
        if let n = parseAddress(s) { return n }
        // to.c `alias_is_address` cuts the line at the first `@` before it checks the characters, and the
        // username test then reads the cut line: `user@[127.0.0.1]` and `user@bad_domain` become `user`.
        if s.count >= 3, let at = s.firstIndex(of: UInt8(ascii: "@")), at != s.startIndex, at != s.endIndex - 1 {
            return parseUsername(s[s.startIndex..<at])
        }
        return parseUsername(s)
    }

    private static func parseError(_ s: ArraySlice<UInt8>) -> ExpansionNode? {
        let rest: ArraySlice<UInt8>
        if hasPrefixIgnoringCase(s, ":error:") { rest = s.dropFirst(7) }
        else if hasPrefixIgnoringCase(s, "error:") { rest = s.dropFirst(6) }
        else { return nil }
        guard rest.count < 1024, rest.count >= 5 else { return nil }
        let b = Array(rest)
        guard b[3] == UInt8(ascii: " "), isASCIIAlnum(b[4]),
              b[0] == UInt8(ascii: "4") || b[0] == UInt8(ascii: "5"),
              isASCIIDigit(b[1]), isASCIIDigit(b[2]) else { return nil }
        return ExpansionNode(kind: .error, value: String(lossyBytes: b))
    }

    private static func parseInclude(_ s: ArraySlice<UInt8>) -> ExpansionNode? {
        let rest: ArraySlice<UInt8>
        if hasPrefixIgnoringCase(s, ":include:") { rest = s.dropFirst(9) }
        else if hasPrefixIgnoringCase(s, "include:") { rest = s.dropFirst(8) }
        else { return nil }
        guard let file = parseFile(rest) else { return nil }
        return ExpansionNode(kind: .include, value: file.value)
    }

    private static func parseFilter(_ s: ArraySlice<UInt8>) -> ExpansionNode? {
        var body = s
        let quoted = body.first == UInt8(ascii: "\"")
        if quoted { body = body.dropFirst() }
        guard body.first == UInt8(ascii: "|") else { return nil }
        body = body.dropFirst()
        guard body.count < 1024 else { return nil }
        if quoted {
            guard body.last == UInt8(ascii: "\"") else { return nil }
            body = body.dropLast()
        }
        return ExpansionNode(kind: .filter, value: String(lossyBytes: body))
    }

    private static func parseFile(_ s: ArraySlice<UInt8>) -> ExpansionNode? {
        guard s.first == UInt8(ascii: "/"), s.count < 1024 else { return nil }
        return ExpansionNode(kind: .file, value: String(lossyBytes: s))
    }

    private static let addressUserExtras = Set("!#$%*/?|^{}`~&'+-=_.".utf8)

    private static func parseAddress(_ s: ArraySlice<UInt8>) -> ExpansionNode? {
        guard s.count >= 3, let at = s.firstIndex(of: UInt8(ascii: "@")),
              at != s.startIndex, at != s.endIndex - 1 else { return nil }
        let user = s[s.startIndex..<at], domain = s[(at + 1)...]
        guard user.allSatisfy({ isASCIIAlnum($0) || addressUserExtras.contains($0) }),
              domain.allSatisfy({ isASCIIAlnum($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") })
        else { return nil }
        // smtpd copies each part into a 256-byte buffer without checking: longer parts are cut.
        let u = String(lossyBytes: user.prefix(255)), d = String(lossyBytes: domain.prefix(255))
        return ExpansionNode(kind: .address, value: "\(u)@\(d)", address: MailAddress(user: u, domain: d))
    }

    private static func parseUsername(_ s: ArraySlice<UInt8>) -> ExpansionNode? {
        guard s.count < 256, s.allSatisfy({
            isASCIIAlnum($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".")
                || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "+")
        }) else { return nil }
        return ExpansionNode(kind: .username, value: String(lossyBytes: s))
    }
}
