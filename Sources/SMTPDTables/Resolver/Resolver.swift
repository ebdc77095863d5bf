#if canImport(Glibc)
import Glibc
#endif

/// Who a recipient address resolves to under an smtpd.conf: the match rule it hits, the expansion tree
/// through alias and virtual tables, userbase and `~/.forward` files, and the deliveries smtpd would queue
/// or the reply it would give to `RCPT TO` (upstream lka_session.c, aliases.c, expand.c, forward.c, ruleset.c).
///
/// ```swift
/// let config = try SMTPDConfig.load(path: "/etc/smtpd.conf")
/// let resolver = try Resolver(config: config, options: .init(host: .system()))
/// let r = try resolver.resolve("root@localhost")
/// print(r.accepted, r.deliveries)
/// ```
/// Tables are opened on first use and kept (and a db: table reloads when its file changes, as in smtpd). A
/// `Resolver` is safe to share between threads.
public final class Resolver: Sendable {
    /// How to resolve.
    public struct Options: Sendable {
        /// smtpd's own name and addresses (`HostFacts.system()` for this machine's).
        public var host: HostFacts
        /// The sender side of the session, for `from`, `auth`, `mail-from`, `helo` and `tag` conditions.
        public var sender: SenderContext
        /// Prefixed to every home directory when looking for `~/.forward` (tests; empty for the real paths).
        public var homeRoot: String
        /// The user smtpd runs alias files and pipes as (Debian: `opensmtpd`, upstream `_smtpd`).
        public var smtpdUser: String
        /// The smtpd release reproduced (how its tables are read; Versions.swift). Default: the newest.
        public var smtpdVersion: SMTPDVersion = .newest
        /// The time SRS timestamps are checked against, in seconds since 1970 (nil: the current time).
        public var now: Int64?

        /// smtpd's own name: the domain of bare recipients and a name of `for local`.
        public var hostname: String {
            get { host.hostname }
            set { host.hostname = newValue }
        }
        /// The machine's addresses, which smtpd adds to `<localnames>` and `<localhost>`.
        public var localAddresses: [String] {
            get { host.localAddresses }
            set { host.localAddresses = newValue }
        }

        public init(host: HostFacts, sender: SenderContext = SenderContext(), homeRoot: String = "",
                    smtpdUser: String = "opensmtpd") {
            self.host = host
            self.sender = sender
            self.homeRoot = homeRoot
            self.smtpdUser = smtpdUser
        }

        /// The host facts given one by one (no I/O: addresses not given are none).
        public init(hostname: String, sender: SenderContext = SenderContext(), homeRoot: String = "",
                    smtpdUser: String = "opensmtpd", localAddresses: [String] = []) {
            self.init(host: HostFacts(hostname: hostname, localAddresses: localAddresses), sender: sender,
                      homeRoot: homeRoot, smtpdUser: smtpdUser)
        }
    }

    public let config: SMTPDConfig
    public let options: Options
    let tables: ConfigTables

    /// Prepares to resolve under `config`. `tables` supplies the tables of backends this library does not
    /// read (`ldap:`, `proc:` programs, ...), or replaces ones it does; without it such a table is an error
    /// naming its backend when a resolution needs it. Throws when a built-in table cannot be made.
    public init(config: SMTPDConfig, options: Options, tables: (any TableProvider)? = nil) throws(TableError) {
        self.config = config
        self.options = options
        self.tables = try ConfigTables(config: config, host: options.host, provider: tables,
                                       version: options.smtpdVersion)
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

    /// Whether `recipient` would be accepted, taking users `memo` knows as resolved instead of expanding them
    /// (see `ExpansionMemo`); records the recipient's own user in `memo` when it is accepted. `trusted` false
    /// (or not accepted) means: confirm with `resolve`.
    func verdict(_ recipient: String, memo: ExpansionMemo) throws(TableError) -> (accepted: Bool, trusted: Bool) {
        guard let address = Resolver.parseRecipient(recipient, hostname: options.hostname) else { return (false, true) }
        var session = ExpansionSession(resolver: self, recipient: address)
        session.memo = memo
        let result = try session.run(input: recipient)
        guard result.accepted, !session.verdictUntrusted else { return (result.accepted, !session.verdictUntrusted) }
        // The recipient's own user node (under the root's rule) is what later resolutions meet.
        if let root = session.nodes.first, let rule = root.rule, session.nodes.count > 1,
           session.nodes[1].kind == .username, session.nodes[1].parent == 0 {
            memo.record(rule: rule, user: session.nodes[1].payload, deepest: session.deepest)
        }
        return (true, true)
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

    static func validDomainPart(_ s: String) -> Bool { isValidDomainPart(Array(s.utf8)) }
}
