#if canImport(Glibc)
import Glibc
#endif

/// Who a recipient address resolves to under an smtpd.conf: the match rule it hits, the expansion tree
/// through alias and virtual tables, userbase and `~/.forward` files, and the deliveries smtpd would queue
/// or the reply it would give to `RCPT TO` (upstream lka_session.c, aliases.c, expand.c, forward.c, ruleset.c).
///
/// ```swift
/// let resolver = try Resolver(config: try SMTPDConfig.load(path: "/etc/smtpd.conf"))
/// let r = try resolver.resolve("root@localhost")
/// print(r.accepted, r.deliveries)
/// ```
/// Tables are opened on first use and kept; a `Resolver` is not safe to share between threads.
public final class Resolver {
    /// How to resolve.
    public struct Options: Sendable {
        /// smtpd's own name: the domain of bare recipients and a name of `for local`
        /// (default: `/etc/mailname`, else the canonical host name, as smtpd picks it).
        public var hostname: String
        /// The sender side of the session, for `from`, `auth`, `mail-from`, `helo` and `tag` conditions.
        public var sender: SenderContext
        /// Prefixed to every home directory when looking for `~/.forward` (tests; empty for the real paths).
        public var homeRoot: String
        /// The user smtpd runs alias files and pipes as (Debian: `opensmtpd`, upstream `_smtpd`).
        public var smtpdUser: String
        /// The machine's addresses, which smtpd adds to `<localnames>` and `<localhost>` (default: getifaddrs).
        public var localAddresses: [String]

        public init(hostname: String? = nil, sender: SenderContext = SenderContext(), homeRoot: String = "",
                    smtpdUser: String = "opensmtpd", localAddresses: [String]? = nil) {
            self.hostname = hostname ?? Resolver.defaultHostname()
            self.sender = sender
            self.homeRoot = homeRoot
            self.smtpdUser = smtpdUser
            self.localAddresses = localAddresses ?? Resolver.interfaceAddresses()
        }
    }

    public let config: SMTPDConfig
    public let options: Options
    let tables: ConfigTables

    /// Prepares to resolve under `config`. Throws when a built-in table cannot be made.
    public init(config: SMTPDConfig, options: Options = Options()) throws(TableError) {
        self.config = config
        self.options = options
        tables = try ConfigTables(config: config, hostname: options.hostname, localAddresses: options.localAddresses)
    }

    /// Resolves one recipient as smtpd would on `RCPT TO:<recipient>` (the angle brackets are optional).
    /// A rejection is a result, not an error; throws only when a table cannot be opened.
    public func resolve(_ recipient: String) throws(TableError) -> Resolution {
        guard let address = Resolver.parseRecipient(recipient, hostname: options.hostname) else {
            return Resolution(input: recipient, address: recipient, accepted: false,
                              reply: "501 5.1.3 Recipient address syntax error", rule: nil, action: nil,
                              nodes: [], deliveries: [], failedNode: nil)
        }
        var session = ExpansionSession(resolver: self, recipient: address)
        return try session.run(input: recipient)
    }

    /// smtp_session.c `smtp_mailaddr` for `RCPT TO`: split at the last `@`, drop a source route, check the
    /// parts, and give a bare user smtpd's own name as its domain. Nil when smtpd answers 501.
    static func parseRecipient(_ text: String, hostname: String) -> MailAddress? {
        var t = Substring(text)
        if t.hasPrefix("<") {
            guard let close = t.firstIndex(of: ">") else { return nil }
            t = t[t.index(after: t.startIndex)..<close]
        }
        guard var address = MailAddress(String(t)) else { return nil }
        if let colon = address.user.firstIndex(of: ":") { address.user = String(address.user[address.user.index(after: colon)...]) }
        guard !address.user.isEmpty, validLocalPart(address.user) else { return nil }
        if address.domain.isEmpty { address.domain = hostname }
        guard validDomainPart(address.domain) else { return nil }
        return address
    }

    private static let atext = Set("!#$%&'*/?^`{|}~+-=_".utf8)

    static func validLocalPart(_ s: String) -> Bool {
        let atoms = Array(s.utf8).split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        return atoms.allSatisfy { !$0.isEmpty && $0.allSatisfy { isASCIIAlnum($0) || atext.contains($0) } }
    }

    static func validDomainPart(_ s: String) -> Bool {
        if s.hasPrefix("[") {
            var inner = s.dropFirst()
            if inner.lowercased().hasPrefix("ipv6:") { inner = inner.dropFirst(5) }
            guard inner.hasSuffix("]") else { return false }
            let literal = String(inner.dropLast())
            var buf = [UInt8](repeating: 0, count: 16)
            return inet_pton(AF_INET6, literal, &buf) == 1 || inet_pton(AF_INET, literal, &buf) == 1
        }
        guard !s.isEmpty, s.utf8.count < 256, !s.hasSuffix(".") else { return false }
        // res_hnok: dot-separated labels of letters, digits, '-' (not first) and '_'.
        return Array(s.utf8).split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false).allSatisfy {
            guard let f = $0.first, f != UInt8(ascii: "-") else { return false }
            return $0.allSatisfy { isASCIIAlnum($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") }
        }
    }

    /// The name smtpd gives itself (util.c `getmailname`): the first line of `mailnameFile`, else the host
    /// name, canonicalized through the resolver when it has no dot.
    public static func defaultHostname(mailnameFile: String = "/etc/mailname") -> String {
        if let f = fopen(mailnameFile, "r") {
            defer { fclose(f) }
            var line: UnsafeMutablePointer<CChar>?
            var cap = 0
            if getline(&line, &cap, f) > 0, let line {
                var name = String(cString: line)
                free(line)
                if name.hasSuffix("\n") { name.removeLast() }
                return name
            }
            free(line)
        }
        var buf = [CChar](repeating: 0, count: 256)
        guard gethostname(&buf, buf.count) == 0 else { return "localhost" }
        let name = stringFromCBuffer(buf)
        if name.contains(".") { return name }
        var hints = addrinfo()
        hints.ai_flags = AI_CANONNAME
        var res: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(name, nil, &hints, &res) == 0, let res else { return name }
        defer { freeaddrinfo(res) }
        return res.pointee.ai_canonname.map { String(cString: $0) } ?? name
    }

    /// The machine's interface addresses as smtpd writes them (`127.0.0.1`, `[::1]`).
    public static func interfaceAddresses() -> [String] {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0 else { return [] }
        defer { freeifaddrs(list) }
        var out: [String] = []
        var p = list
        while let cur = p {
            defer { p = cur.pointee.ifa_next }
            guard let sa = cur.pointee.ifa_addr else { continue }
            var buf = [CChar](repeating: 0, count: 64)
            switch Int32(sa.pointee.sa_family) {
            case AF_INET:
                sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin in
                    var a = sin.pointee.sin_addr
                    _ = inet_ntop(AF_INET, &a, &buf, 64)
                }
                out.append(stringFromCBuffer(buf))
            case AF_INET6:
                sa.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { sin in
                    var a = sin.pointee.sin6_addr
                    _ = inet_ntop(AF_INET6, &a, &buf, 64)
                }
                out.append("[\(stringFromCBuffer(buf))]")
            default: continue
            }
        }
        return out
    }
}
