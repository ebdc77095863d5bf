/// Where a declaration of smtpd.conf was written.
public struct ConfigLocation: Equatable, Sendable, CustomStringConvertible {
    /// The file, as named on the command line or in its `include` directive.
    public var file: String
    /// The 1-based line the declaration starts on.
    public var line: Int

    public init(file: String, line: Int) {
        self.file = file
        self.line = line
    }

    public var description: String { "\(file):\(line)" }
}

/// The backend of a table, as smtpd's `table_create` picks it.
public enum TableBackend: Equatable, Sendable {
    /// A text file read by smtpd itself (`file:/path`, or a bare absolute path).
    case file
    /// A Berkeley DB hash built by makemap (`db:/path.db`).
    case db
    /// Entries written in smtpd.conf between braces.
    case inline
    /// Any other backend (`proc:`, `ldap:`, `sqlite:`, ...), kept as written: smtpd runs an external
    /// `table-NAME` helper for it.
    case other(String)

    /// The backend's name as smtpd spells it (`file`, `db`, `static` for inline tables).
    public var name: String {
        switch self {
        case .file: return "file"
        case .db: return "db"
        case .inline: return "static"
        case .other(let n): return n
        }
    }
}

/// One entry of an inline table: a key, and a value when the table is a mapping.
public struct InlineTableEntry: Equatable, Sendable {
    public var key: String
    public var value: String?

    public init(key: String, value: String? = nil) {
        self.key = key
        self.value = value
    }
}

/// A table of smtpd.conf: declared with `table NAME ...`, or anonymous (`{ a, b }`, or a bare word, where a
/// table is expected).
public struct TableDeclaration: Equatable, Sendable {
    /// The table's name; anonymous tables are named `<dynamic:N>` as smtpd names them.
    public var name: String
    public var backend: TableBackend
    /// What follows `BACKEND:` (for file and db tables the absolute path); nil for inline tables.
    public var config: String?
    /// The entries of an inline table, in the order written; empty for other backends.
    public var entries: [InlineTableEntry]
    /// True for tables written in place in an action, a match rule or a listener.
    public var isAnonymous: Bool
    public var location: ConfigLocation

    public init(name: String, backend: TableBackend, config: String?, entries: [InlineTableEntry] = [],
                isAnonymous: Bool = false, location: ConfigLocation) {
        self.name = name
        self.backend = backend
        self.config = config
        self.entries = entries
        self.isAnonymous = isAnonymous
        self.location = location
    }

    /// The path of a table whose file this library reads: file:, db:, passwd: and idx: (this package's proc:
    /// helper, table-idx).
    public var path: String? {
        switch backend {
        case .file, .db: return config
        case .other(let name) where name == ProcServer.helperBackend || TableSources.source(named: name) != nil:
            return config
        default: return nil
        }
    }

    /// For an inline table, its kind: a mapping when its entries have values, else a list. Nil for other
    /// backends, whose kind is known only once the table is loaded.
    public var inlineKind: TableKind? {
        guard backend == .inline else { return nil }
        return entries.first?.value == nil ? .list : .mapping
    }
}

/// A table named where one is expected: `<name>`, or an anonymous table written in place.
public enum TableReference: Equatable, Sendable {
    /// `<name>`: a table declared with `table name ...`.
    case named(String)
    /// `{ ... }` or a single bare word: an anonymous inline table.
    case inline(TableDeclaration)

    /// The table's name (`<dynamic:N>` for anonymous ones).
    public var name: String {
        switch self {
        case .named(let n): return n
        case .inline(let t): return t.name
        }
    }
}

/// How an action delivers (its method, the word after `action NAME`).
public enum DeliveryMethod: Equatable, Sendable {
    case mbox
    /// `maildir [PATH] [junk]`; a path starting with `~/` is relative to the user's home directory.
    case maildir(path: String?, junk: Bool)
    /// `lmtp DESTINATION [rcpt-to]`.
    case lmtp(destination: String, rcptTo: Bool)
    /// `mda COMMAND`.
    case mda(command: String)
    case forwardOnly
    case expandOnly
    /// `relay [options]`: the options are in the action's `options`.
    case relay

    /// True for every method but `relay`.
    public var isLocal: Bool { self != .relay }
}

/// One option of an action, as written.
public enum ActionOption: Equatable, Sendable {
    // Local delivery options.
    case alias(TableReference)
    case virtual(TableReference)
    case userbase(TableReference)
    case user(String)
    case wrapper(String)
    // Relay options.
    case helo(String)
    case heloSource(TableReference)
    case pki(String)
    case ca(String)
    case ciphers(String)
    case protocols(String)
    case source(TableReference)
    case mailFrom(String)
    /// `backup` or `backup mx NAME`.
    case backup(mx: String?)
    case host(TableReference)
    case domain(TableReference)
    /// `tls` (verify true) or `tls no-verify`.
    case tls(verify: Bool)
    case auth(TableReference)
    /// `filter NAME`, or `filter { a, b }` (then `chain` holds the names and `name` is nil).
    case filter(name: String?, chain: [String])
    case srs
    // Any action.
    case ttl(String)
}

/// An `action NAME METHOD [options]` declaration (a "dispatcher" in smtpd's source).
public struct ActionDeclaration: Equatable, Sendable {
    public var name: String
    public var method: DeliveryMethod
    /// Every option, in the order written.
    public var options: [ActionOption]
    /// The declaration as written (continuation lines joined).
    public var text: String
    public var location: ConfigLocation

    public init(name: String, method: DeliveryMethod, options: [ActionOption], text: String,
                location: ConfigLocation) {
        self.name = name
        self.method = method
        self.options = options
        self.text = text
        self.location = location
    }

    /// The `alias <table>` option, if any.
    public var alias: TableReference? {
        for case .alias(let t) in options { return t }
        return nil
    }

    /// The `virtual <table>` option, if any.
    public var virtual: TableReference? {
        for case .virtual(let t) in options { return t }
        return nil
    }

    /// The `userbase <table>` option, if any (smtpd then uses it instead of the system's passwd).
    public var userbase: TableReference? {
        for case .userbase(let t) in options { return t }
        return nil
    }

    /// The `user NAME` option, if any.
    public var user: String? {
        for case .user(let u) in options { return u }
        return nil
    }

    /// The `wrapper NAME` option, if any.
    public var wrapper: String? {
        for case .wrapper(let w) in options { return w }
        return nil
    }

    /// The `ttl DELAY` option, as written.
    public var ttl: String? {
        for case .ttl(let t) in options { return t }
        return nil
    }
}

/// What a condition of a match rule tests. `regex` means the `regex` keyword was given (the table holds
/// regular expressions).
public enum MatchConditionKind: Equatable, Sendable {
    case fromAny
    case fromLocal
    case fromSocket
    case fromSource(TableReference, regex: Bool)
    /// `from rdns`, or `from rdns [regex] <table>`.
    case fromRDNS(TableReference?, regex: Bool)
    /// `from auth`, or `from auth [regex] <table>`. smtpd reads it as `from any` plus an auth condition
    /// (the negation applies to the auth part).
    case fromAuth(TableReference?, regex: Bool)
    /// `from mail-from [regex] <table>`: `from any` plus a mail-from condition.
    case fromMailFrom(TableReference, regex: Bool)
    case forAny
    case forLocal
    case forDomain(TableReference, regex: Bool)
    /// `for rcpt-to [regex] <table>`: `for any` plus a rcpt-to condition.
    case forRcptTo(TableReference, regex: Bool)
    case tag(TableReference, regex: Bool)
    case helo(TableReference, regex: Bool)
    case tls
    /// `auth`, or `auth [regex] <table>`.
    case auth(TableReference?, regex: Bool)
    case mailFrom(TableReference, regex: Bool)
    case rcptTo(TableReference, regex: Bool)

    /// The table this condition looks up, if any.
    public var table: TableReference? {
        switch self {
        case .fromAny, .fromLocal, .fromSocket, .forAny, .forLocal, .tls: return nil
        case .fromRDNS(let t, _), .fromAuth(let t, _), .auth(let t, _): return t
        case .fromSource(let t, _), .fromMailFrom(let t, _), .forDomain(let t, _), .forRcptTo(let t, _),
             .tag(let t, _), .helo(let t, _), .mailFrom(let t, _), .rcptTo(let t, _):
            return t
        }
    }
}

/// One condition of a match rule, with its `!`.
public struct MatchCondition: Equatable, Sendable {
    public var negated: Bool
    public var kind: MatchConditionKind

    public init(negated: Bool = false, _ kind: MatchConditionKind) {
        self.negated = negated
        self.kind = kind
    }
}

/// What a match rule decides.
public enum MatchDecision: Equatable, Sendable {
    case action(String)
    case reject
}

/// A `match ... action NAME` or `match ... reject` rule. smtpd tries rules in order; the first that matches wins.
/// A rule without a `from` condition means `from local`, one without `for` means `for local`: they are not
/// added to `conditions` (see `matchesFromLocalByDefault`).
public struct MatchRule: Equatable, Sendable {
    /// The conditions in the order written.
    public var conditions: [MatchCondition]
    public var decision: MatchDecision
    /// The rule as written (continuation lines joined).
    public var text: String
    public var location: ConfigLocation

    public init(conditions: [MatchCondition], decision: MatchDecision, text: String, location: ConfigLocation) {
        self.conditions = conditions
        self.decision = decision
        self.text = text
        self.location = location
    }

    /// The action's name, nil for `reject`.
    public var actionName: String? {
        if case .action(let n) = decision { return n }
        return nil
    }

    private var hasFrom: Bool {
        conditions.contains {
            switch $0.kind {
            case .fromAny, .fromLocal, .fromSocket, .fromSource, .fromRDNS, .fromAuth, .fromMailFrom: return true
            default: return false
            }
        }
    }

    private var hasFor: Bool {
        conditions.contains {
            switch $0.kind {
            case .forAny, .forLocal, .forDomain, .forRcptTo: return true
            default: return false
            }
        }
    }

    /// True when the rule has no `from` condition, so smtpd applies it to local senders only.
    public var matchesFromLocalByDefault: Bool { !hasFrom }
    /// True when the rule has no `for` condition, so smtpd applies it to local destinations only.
    public var matchesForLocalByDefault: Bool { !hasFor }
}

/// A directive kept as written because the table layer does not use it (`listen`, `pki`, `filter`, `queue`, ...).
public struct RawDirective: Equatable, Sendable {
    /// The directive's first word (`listen`, `pki`, `ca`, `filter`, `proc`, `mda`, `mta`, `smtp`, `queue`,
    /// `scheduler`, `bounce`, `srs`, `admd`).
    public var keyword: String
    /// The directive as written (continuation lines joined).
    public var text: String
    public var location: ConfigLocation

    public init(keyword: String, text: String, location: ConfigLocation) {
        self.keyword = keyword
        self.text = text
        self.location = location
    }
}

/// A `name = "value"` macro definition.
public struct MacroDefinition: Equatable, Sendable {
    public var name: String
    public var value: String
    public var location: ConfigLocation

    public init(name: String, value: String, location: ConfigLocation) {
        self.name = name
        self.value = value
        self.location = location
    }
}

/// A `listen on ...` directive, with the options the table layer may need.
public struct ListenerDeclaration: Equatable, Sendable {
    /// The interface, address or host name, or `socket` for the local socket.
    public var interface: String
    /// `hostname NAME`: the name this listener presents (smtpd's own name otherwise).
    public var hostname: String?
    /// `hostnames <table>`, `senders <table>`, `auth <table>` / `auth-optional <table>`.
    public var hostnames: TableReference?
    public var senders: TableReference?
    public var auth: TableReference?
    /// `tag NAME`.
    public var tag: String?
    public var location: ConfigLocation
}
