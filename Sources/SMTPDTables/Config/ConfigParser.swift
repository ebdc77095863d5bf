import Foundation

/// The smtpd.conf grammar (parse.y), as a recursive-descent parser over `ConfigLexer`'s tokens.
/// It stops at the first error, which names the file and line as smtpd's `yyerror` would.
struct ConfigParser {
    /// What smtpd knows of a table's shape (`t_type`): the grammar restricts some uses to lists or mappings.
    enum TableShape { case list, hash, dynamic, unknown }

    private var lexer: ConfigLexer
    private var tok: ConfigToken
    private var previous: ConfigToken
    private let checkTableFiles: Bool
    private let topPath: String

    private(set) var config: SMTPDConfig

    private var tableIndex: [String: Int] = [:]
    private var tableShapes: [String: TableShape] = [:]
    private var anonymousCount = 0
    private var actionNames: Set<String> = []
    private var mdaWrappers: Set<String> = []
    private var processors: Set<String> = []
    /// Filter name -> (is a chain, its processor).
    private var filters: [String: (chain: Bool, proc: String?)] = [:]
    private var pkiNames: Set<String> = []
    private var caNames: Set<String> = []
    private var hasSRSKey = false
    private var hasSocketListener = false

    init(text: [UInt8], path: String, checkTableFiles: Bool) throws {
        lexer = ConfigLexer(text: text, path: path)
        self.checkTableFiles = checkTableFiles
        topPath = path
        config = SMTPDConfig(path: path)
        let first = ConfigToken(kind: .newline, text: "", file: path, line: 1)
        tok = first
        previous = first
        tok = try lexer.next()
    }

    // MARK: token helpers

    private mutating func advance() throws -> ConfigToken {
        previous = tok
        tok = try lexer.next()
        return previous
    }

    private func fail(_ message: String, at token: ConfigToken) -> TableError {
        TableError(.config, path: token.file, line: token.line, message)
    }

    /// An error at the current token (a syntax error, where yacc saw it).
    private func syntaxError() -> TableError {
        fail("syntax error", at: tok)
    }

    /// An error in what was just read (a check in a grammar action).
    private func semantic(_ message: String) -> TableError {
        fail(message, at: previous)
    }

    private mutating func expectString() throws -> String {
        guard tok.isString else { throw syntaxError() }
        return try advance().text
    }

    private mutating func expect(_ k: ConfigKeyword) throws {
        guard tok.isKeyword(k) else { throw syntaxError() }
        _ = try advance()
    }

    private mutating func expectChar(_ c: Character) throws {
        guard tok.isChar(c) else { throw syntaxError() }
        _ = try advance()
    }

    private mutating func accept(_ k: ConfigKeyword) throws -> Bool {
        if tok.isKeyword(k) {
            _ = try advance()
            return true
        }
        return false
    }

    private mutating func skipNewlines() throws {
        while tok.kind == .newline { _ = try advance() }
    }

    // MARK: directive text

    /// The source text from `first` to the last token read, continuation lines joined.
    private func text(from first: ConfigToken) -> String {
        guard let start = first.start, let end = previous.end, previous.file == first.file, end >= start,
              let bytes = lexer.bytes(of: first.file), end <= bytes.count
        else {
            return first.text
        }
        let slice = String(decoding: bytes[start..<end], as: UTF8.self)
        var parts: [String] = []
        for var line in slice.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasSuffix("\\") { line = line.dropLast() }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if !trimmed.isEmpty { parts.append(trimmed) }
        }
        return parts.joined(separator: " ")
    }

    private func location(_ t: ConfigToken) -> ConfigLocation {
        ConfigLocation(file: t.file, line: t.line)
    }

    // MARK: grammar

    mutating func parse() throws -> SMTPDConfig {
        while true {
            switch tok.kind {
            case .end:
                config.macros = lexer.macros.map { m in
                    config.macros.first(where: { $0.name == m.name && $0.value == m.value })
                        ?? MacroDefinition(name: m.name, value: m.value, location: ConfigLocation(file: topPath, line: 0))
                }
                config.includedFiles = Array(lexer.filesRead.dropFirst())
                if config.rules.isEmpty {
                    throw TableError(.config, path: topPath, "no rules, nothing to do")
                }
                return config
            case .newline:
                _ = try advance()
                continue
            default:
                try directive()
                guard tok.kind == .newline else { throw syntaxError() }
                _ = try advance()
            }
        }
    }

    private mutating func directive() throws {
        let first = tok
        switch tok.kind {
        case .keyword(.include):
            _ = try advance()
            let path = try expectString()
            do {
                try lexer.include(path)
            } catch var e as TableError {
                e.path = first.file
                e.line = previous.line
                throw e
            }
        case .string:
            let name = try advance().text
            try expectChar("=")
            let value = try expectString()
            if name.contains(where: { $0.isWhitespace }) {
                throw semantic("macro name cannot contain whitespace")
            }
            lexer.define(name, value)
            config.macros.removeAll { $0.name == name }
            config.macros.append(MacroDefinition(name: name, value: value, location: location(first)))
        case .keyword(.table):
            try tableDirective()
        case .keyword(.action):
            try actionDirective()
        case .keyword(.match):
            try matchDirective()
        case .keyword(.listen):
            try listenDirective()
            keepRaw(first)
        case .keyword(.bounce):
            try bounceDirective(); keepRaw(first)
        case .keyword(.admd):
            _ = try advance()
            let s = try expectString()
            if s.utf8.contains(where: { $0 < 0x20 || $0 > 0x7e }) { throw semantic("not a valid admd") }
            keepRaw(first)
        case .keyword(.ca):
            _ = try advance()
            let name = try hostName()
            caNames.insert(name)
            try expect(.cert)
            _ = try expectString()
            keepRaw(first)
        case .keyword(.pki):
            _ = try advance()
            pkiNames.insert(try hostName())
            while true {
                if try accept(.cert) || accept(.key) {
                    _ = try expectString()
                } else if try accept(.dhe) {
                    let v = try expectString().lowercased()
                    if !["none", "auto", "legacy"].contains(v) {
                        throw semantic("invalid DHE keyword: \(previous.text)")
                    }
                } else {
                    break
                }
            }
            keepRaw(first)
        case .keyword(.mda):
            _ = try advance()
            if try accept(.limit) {
                try limits(["max-session", "max-session-per-user", "task-lowat", "task-hiwat", "task-release"],
                           what: "scheduler")
            } else if try accept(.wrapper) {
                let name = try expectString()
                _ = try expectString()
                if mdaWrappers.contains(name) {
                    throw semantic("mda wrapper already declared with that name: \(name)")
                }
                mdaWrappers.insert(name)
            } else {
                throw syntaxError()
            }
            keepRaw(first)
        case .keyword(.mta):
            try mtaDirective(); keepRaw(first)
        case .keyword(.proc):
            _ = try advance()
            let name = try expectString()
            _ = try expectString()
            if processors.contains(name) { throw semantic("processor already exists with that name: \(name)") }
            try procParams()
            processors.insert(name)
            keepRaw(first)
        case .keyword(.queue):
            _ = try advance()
            if try accept(.compression) {
            } else if try accept(.encryption) {
                if tok.isString { _ = try advance() }
            } else if try accept(.ttl) {
                let d = try expectString()
                if delay(d) == nil { throw semantic("invalid ttl delay: \(d)") }
            } else {
                throw syntaxError()
            }
            keepRaw(first)
        case .keyword(.scheduler):
            _ = try advance()
            try expect(.limit)
            try limits(["max-inflight", "max-evp-batch-size", "max-msg-batch-size", "max-schedule"], what: "scheduler")
            keepRaw(first)
        case .keyword(.smtp):
            try smtpDirective(); keepRaw(first)
        case .keyword(.srs):
            _ = try advance()
            if try accept(.key) {
                if try accept(.backup) {
                    _ = try expectString()
                } else {
                    _ = try expectString()
                    hasSRSKey = true
                }
            } else if try accept(.ttl) {
                let d = try expectString()
                guard let seconds = delay(d) else { throw semantic("ttl delay \"\(d)\" is invalid") }
                if seconds / 86400 == 0 { throw semantic("ttl delay \"\(d)\" is too short") }
            } else {
                throw syntaxError()
            }
            keepRaw(first)
        case .keyword(.filter):
            try filterDirective(); keepRaw(first)
        default:
            throw syntaxError()
        }
    }

    private mutating func keepRaw(_ first: ConfigToken) {
        config.otherDirectives.append(RawDirective(keyword: first.text, text: text(from: first),
                                                   location: location(first)))
    }

    /// `ca NAME` and `pki NAME`: `*` or a valid host name, folded to lower case.
    private mutating func hostName() throws -> String {
        let name = try expectString()
        if name != "*" && !ConfigValues.isHostName(name) {
            throw semantic("not a valid domain name: \(name)")
        }
        return name.lowercased()
    }

    private func delay(_ s: String) -> Int? { ConfigValues.delay(s) }

    /// `STRING NUMBER` pairs with keys from `keys`.
    private mutating func limits(_ keys: Set<String>, what: String) throws {
        while tok.isString {
            let key = try advance().text
            guard tok.kind == .number else { throw syntaxError() }
            _ = try advance()
            if !keys.contains(key) { throw semantic("invalid \(what) limit keyword: \(key)") }
        }
    }

    private mutating func procParams() throws {
        var seen: Set<ConfigKeyword> = []
        while true {
            let k: ConfigKeyword
            switch tok.kind {
            case .keyword(.user): k = .user
            case .keyword(.group): k = .group
            case .keyword(.chroot): k = .chroot
            default: return
            }
            _ = try advance()
            _ = try expectString()
            if seen.contains(k) { throw semantic("\(k.rawValue) already specified for this processor") }
            seen.insert(k)
        }
    }

    private mutating func bounceDirective() throws {
        _ = try advance()
        try expect(.warnInterval)
        repeat {
            let d = try expectString()
            if delay(d) == nil { throw semantic("invalid bounce delay: \(d)") }
        } while tok.isChar(",") ? (try advance(), true).1 : false
    }

    private mutating func mtaDirective() throws {
        _ = try advance()
        if try accept(.maxDeferred) {
            guard tok.kind == .number else { throw syntaxError() }
            _ = try advance()
            return
        }
        try expect(.limit)
        if try accept(.for) {
            try expect(.domain)
            _ = try expectString()
        }
        while true {
            if try accept(.inet4) || accept(.inet6) { continue }
            guard tok.isString else { return }
            let key = try advance().text
            guard tok.kind == .number else { throw syntaxError() }
            _ = try advance()
            if !ConfigValues.mtaLimits.contains(key) { throw semantic("invalid mta limit keyword: \(key)") }
        }
    }

    private mutating func smtpDirective() throws {
        _ = try advance()
        if try accept(.limit) {
            try limits(["max-rcpt", "max-mails"], what: "session")
        } else if try accept(.ciphers) {
            _ = try expectString()
        } else if try accept(.maxMessageSize) {
            if tok.kind == .number {
                let t = try advance()
                if t.number < 0 { throw semantic("invalid size: \(t.text)") }
            } else {
                let s = try expectString()
                if ConfigValues.scaled(s) == nil { throw semantic("invalid size: \(s)") }
            }
        } else if try accept(.subAddrDelim) {
            let s = try expectString()
            let bytes = Array(s.utf8)
            guard bytes.count == 1 else { throw semantic("subaddressing-delimiter must be one character") }
            let c = bytes[0]
            if c == 32 || (c >= 9 && c <= 13) || c < 0x20 || c > 0x7e || c == UInt8(ascii: "@") {
                throw semantic("sub-addr-delim uses invalid character")
            }
            config.subaddressingDelimiter = c
        } else {
            throw syntaxError()
        }
    }

    // MARK: tables

    private mutating func tableDirective() throws {
        let first = try advance()
        let name = try expectString()
        if tableIndex[name] != nil {
            throw semantic("table \"\(name)\" already defined")
        }
        if tok.isChar("{") {
            _ = try advance()
            try skipNewlines()
            let entries = try tableValues()
            let decl = TableDeclaration(name: name, backend: .inline, config: nil, entries: entries,
                                        location: location(first))
            add(decl, shape: entries.first?.value == nil ? .list : .hash)
            return
        }
        let spec = try expectString()
        var backend: TableBackend
        var configString: String?
        if spec.hasPrefix("/") {
            backend = .file
            configString = spec
        } else if let colon = spec.firstIndex(of: ":") {
            let b = String(spec[..<colon])
            configString = String(spec[spec.index(after: colon)...])
            switch b {
            case "file", "static": backend = .file
            case "db": backend = .db
            default: backend = .other(b)
            }
        } else {
            switch spec {
            case "file", "static": backend = .file
            case "db": backend = .db
            default: backend = .other(spec)
            }
        }
        if let c = configString, !c.hasPrefix("/") {
            throw semantic("invalid backend parameter for table: \(name)")
        }
        var shape: TableShape = .dynamic
        if backend == .file {
            shape = .unknown
            if checkTableFiles {
                guard let c = configString, let s = ConfigValues.fileTableShape(path: c) else {
                    throw semantic("invalid configuration file \(configString ?? "(null)") for table \(name)")
                }
                shape = s ? .list : .hash
            }
        } else if backend == .db, checkTableFiles {
            guard let c = configString, FileManager.default.isReadableFile(atPath: c) else {
                throw semantic("invalid configuration file \(configString ?? "(null)") for table \(name)")
            }
        } else if case .other(let b) = backend, b == "getpwnam" || b == "proc" {
            shape = .dynamic
        }
        add(TableDeclaration(name: name, backend: backend, config: configString, location: location(first)),
            shape: shape)
    }

    private mutating func add(_ decl: TableDeclaration, shape: TableShape) {
        tableIndex[decl.name] = config.tables.count
        tableShapes[decl.name] = shape
        config.tables.append(decl)
    }

    /// `tableval_list '}'`: a list of words, or of `key = value` (or `key => value`) pairs, separated by
    /// commas, newlines or nothing; the opening brace is already read.
    private mutating func tableValues() throws -> [InlineTableEntry] {
        var entries: [InlineTableEntry] = []
        var mapping: Bool?
        while true {
            let key = try expectString()
            let isPair = tok.isChar("=") || tok.kind == .arrow
            if mapping == nil { mapping = isPair }
            if isPair != mapping { throw syntaxError() }
            if isPair {
                _ = try advance()
                entries.append(InlineTableEntry(key: key, value: try expectString()))
            } else {
                entries.append(InlineTableEntry(key: key))
            }
            // comma: ',' optnl | nl | empty; then either another element or optnl '}'.
            if tok.isChar(",") {
                _ = try advance()
                try skipNewlines()
                continue
            }
            try skipNewlines()
            if tok.isChar("}") {
                _ = try advance()
                return entries
            }
        }
    }

    /// `tables`: `<name>`, `{ ... }` or a single word (an anonymous list of one).
    private mutating func tables() throws -> TableReference {
        if tok.isChar("<") {
            _ = try advance()
            let name = try expectString()
            try expectChar(">")
            guard tableIndex[name] != nil else { throw semantic("no such table: \(name)") }
            return .named(name)
        }
        let first = tok
        let entries: [InlineTableEntry]
        if tok.isChar("{") {
            _ = try advance()
            try skipNewlines()
            entries = try tableValues()
        } else if tok.isString {
            entries = [InlineTableEntry(key: try advance().text)]
        } else {
            throw syntaxError()
        }
        let decl = TableDeclaration(name: "<dynamic:\(anonymousCount)>", backend: .inline, config: nil,
                                    entries: entries, isAnonymous: true, location: location(first))
        anonymousCount += 1
        add(decl, shape: entries.first?.value == nil ? .list : .hash)
        return .inline(decl)
    }

    /// True when a table may start here (after an optional-table keyword such as `auth` or `rdns`).
    private var tableStarts: Bool { tok.isString || tok.isChar("{") || tok.isChar("<") }

    /// smtpd's `table_check_use` on the table's shape.
    private func check(_ t: TableReference, allow: Set<TableShape>, _ message: String) throws {
        let shape = tableShapes[t.name] ?? .unknown
        if shape == .dynamic || shape == .unknown { return }
        if !allow.contains(shape) {
            throw semantic("table \"\(t.name)\" may not be used for \(message) lookups")
        }
    }

    // MARK: actions

    private mutating func actionDirective() throws {
        let first = try advance()
        let name = try expectString()
        if actionNames.contains(name) {
            throw semantic("dispatcher already declared with that name: \(name)")
        }
        var options: [ActionOption] = []
        let method: DeliveryMethod
        switch tok.kind {
        case .keyword(.mbox):
            _ = try advance(); method = .mbox
        case .keyword(.maildir):
            _ = try advance()
            var path: String?
            if tok.isString { path = try advance().text }
            method = .maildir(path: path, junk: try accept(.junk))
        case .keyword(.lmtp):
            _ = try advance()
            let dest = try expectString()
            method = .lmtp(destination: dest, rcptTo: try accept(.rcptTo))
        case .keyword(.mda):
            _ = try advance()
            method = .mda(command: try expectString())
        case .keyword(.forwardOnly):
            _ = try advance(); method = .forwardOnly
        case .keyword(.expandOnly):
            _ = try advance(); method = .expandOnly
        case .keyword(.relay):
            _ = try advance(); method = .relay
        default:
            throw syntaxError()
        }
        if method.isLocal {
            try localOptions(method, &options)
        } else {
            try relayOptions(&options)
        }
        while try accept(.ttl) {
            let d = try expectString()
            if options.contains(where: { if case .ttl = $0 { return true } else { return false } }) {
                throw semantic("ttl already specified for this dispatcher")
            }
            if delay(d) == nil { throw semantic("ttl delay \"\(d)\" is invalid") }
            options.append(.ttl(d))
        }
        actionNames.insert(name)
        config.actions.append(ActionDeclaration(name: name, method: method, options: options,
                                                text: text(from: first), location: location(first)))
    }

    private mutating func localOptions(_ method: DeliveryMethod, _ options: inout [ActionOption]) throws {
        var user = false, alias = false, virtual = false, userbase = false
        while true {
            switch tok.kind {
            case .keyword(.user):
                _ = try advance()
                let u = try expectString()
                if method == .mbox { throw semantic("user may not be specified for this dispatcher") }
                if method == .forwardOnly { throw semantic("user may not be specified for forward-only") }
                if method == .expandOnly { throw semantic("user may not be specified for expand-only") }
                if user { throw semantic("user already specified for this dispatcher") }
                user = true
                options.append(.user(u))
            case .keyword(.alias), .keyword(.virtual):
                let isAlias = tok.isKeyword(.alias)
                _ = try advance()
                let t = try tables()
                if isAlias {
                    if alias { throw semantic("alias mapping already specified for this dispatcher") }
                    if virtual { throw semantic("virtual mapping already specified for this dispatcher") }
                } else {
                    if virtual { throw semantic("virtual mapping already specified for this dispatcher") }
                    if alias { throw semantic("alias mapping already specified for this dispatcher") }
                }
                try check(t, allow: [.hash], isAlias ? "alias" : "virtual")
                if isAlias { alias = true } else { virtual = true }
                options.append(isAlias ? .alias(t) : .virtual(t))
            case .keyword(.userbase):
                _ = try advance()
                let t = try tables()
                if userbase { throw semantic("userbase mapping already specified for this dispatcher") }
                try check(t, allow: [.hash], "userbase")
                userbase = true
                options.append(.userbase(t))
            case .keyword(.wrapper):
                _ = try advance()
                let w = try expectString()
                if !mdaWrappers.contains(w) { throw semantic("no mda wrapper with that name: \(w)") }
                options.append(.wrapper(w))
            default:
                return
            }
        }
    }

    private mutating func relayOptions(_ options: inout [ActionOption]) throws {
        var seen: Set<String> = []
        var backup = false, smarthost = false
        func once(_ key: String, _ message: String) throws {
            if seen.contains(key) { throw semantic(message) }
            seen.insert(key)
        }
        /// `KEYWORD STRING`, given at most once per action.
        func stringOption(_ key: String) throws -> String {
            _ = try advance()
            let value = try expectString()
            try once(key, "\(key) already specified for this dispatcher")
            return value
        }
        while true {
            switch tok.kind {
            case .keyword(.helo):
                options.append(.helo(try stringOption("helo")))
            case .keyword(.heloSrc):
                _ = try advance()
                let t = try tables()
                try once("helo-src", "helo-source mapping already specified for this dispatcher")
                try check(t, allow: [.hash], "helo-source")
                options.append(.heloSource(t))
            case .keyword(.pki):
                options.append(.pki(try stringOption("pki")))
            case .keyword(.ca):
                options.append(.ca(try stringOption("ca")))
            case .keyword(.ciphers):
                options.append(.ciphers(try stringOption("ciphers")))
            case .keyword(.protocols):
                options.append(.protocols(try stringOption("protocols")))
            case .keyword(.src):
                _ = try advance()
                let t = try tables()
                try once("src", "source mapping already specified for this dispatcher")
                try check(t, allow: [.list, .hash], "source")
                options.append(.source(t))
            case .keyword(.mailFrom):
                options.append(.mailFrom(try stringOption("mail-from")))
            case .keyword(.backup):
                _ = try advance()
                var mx: String?
                if try accept(.mx) { mx = try expectString() }
                if backup { throw semantic("backup already specified for this dispatcher") }
                if smarthost { throw semantic("backup and host are mutually exclusive") }
                backup = true
                options.append(.backup(mx: mx))
            case .keyword(.host), .keyword(.domain):
                let isHost = tok.isKeyword(.host)
                _ = try advance()
                let t = try tables()
                if smarthost { throw semantic("host mapping already specified for this dispatcher") }
                if backup {
                    throw semantic(isHost ? "backup and host are mutually exclusive"
                                          : "backup and domain are mutually exclusive")
                }
                try check(t, allow: isHost ? [.list] : [.hash], "host")
                smarthost = true
                options.append(isHost ? .host(t) : .domain(t))
            case .keyword(.tls):
                _ = try advance()
                let noVerify = try accept(.noVerify)
                try once("tls", "tls already specified for this dispatcher")
                options.append(.tls(verify: !noVerify))
            case .keyword(.auth):
                _ = try advance()
                let t = try tables()
                if !smarthost { throw semantic("auth may not be specified without host on a dispatcher") }
                try once("auth", "auth mapping already specified for this dispatcher")
                try check(t, allow: [.hash], "auth")
                options.append(.auth(t))
            case .keyword(.filter):
                _ = try advance()
                if tok.isString {
                    let f = try advance().text
                    try once("filter", "filter already specified for this dispatcher")
                    if filters[f] == nil { throw semantic("no filter exist with that name: \(f)") }
                    options.append(.filter(name: f, chain: []))
                } else {
                    try once("filter", "filter already specified for this dispatcher")
                    options.append(.filter(name: nil, chain: try filterChain()))
                }
            case .keyword(.srs):
                _ = try advance()
                if !hasSRSKey { throw semantic("an srs key is required for srs to be specified in an action") }
                try once("srs", "srs already specified for this dispatcher")
                options.append(.srs)
            default:
                return
            }
        }
    }

    // MARK: match rules

    private mutating func matchDirective() throws {
        let first = try advance()
        var conditions: [MatchCondition] = []
        var flags: Set<String> = []
        func set(_ flag: String, _ what: String) throws {
            if flags.contains(flag) { throw semantic("\(what) already specified for this rule") }
            flags.insert(flag)
        }
        /// `[regex] <table>` after a condition's keyword: reads both, marks `flag` as given, and checks the
        /// table's shape (a list, or a mapping too where `mappingAllowed` and no regex).
        func tableCondition(_ flag: String, _ what: String, mappingAllowed: Bool = false) throws -> (TableReference, Bool) {
            _ = try advance()
            let regex = try accept(.regex)
            let t = try tables()
            try set(flag, flag)
            try check(t, allow: mappingAllowed && !regex ? [.list, .hash] : [.list], what)
            return (t, regex)
        }
        while true {
            var negated = false
            if tok.isChar("!") {
                _ = try advance()
                negated = true
            }
            let regex: Bool
            let kind: MatchConditionKind
            switch tok.kind {
            case .keyword(.tag):
                let (t, r) = try tableCondition("tag", "tag")
                regex = r
                kind = .tag(t, regex: regex)
            case .keyword(.helo):
                let (t, r) = try tableCondition("helo", "helo")
                regex = r
                kind = .helo(t, regex: regex)
            case .keyword(.tls):
                _ = try advance()
                try set("tls", "tls")
                kind = .tls
            case .keyword(.auth):
                _ = try advance()
                regex = try accept(.regex)
                if regex || tableStarts {
                    let t = try tables()
                    try set("auth", "auth")
                    try check(t, allow: regex ? [.list] : [.list, .hash], "auth")
                    kind = .auth(t, regex: regex)
                } else {
                    try set("auth", "auth")
                    kind = .auth(nil, regex: false)
                }
            case .keyword(.mailFrom), .keyword(.rcptTo):
                let isMailFrom = tok.isKeyword(.mailFrom)
                let what = isMailFrom ? "mail-from" : "rcpt-to"
                let (t, r) = try tableCondition(what, what, mappingAllowed: true)
                regex = r
                kind = isMailFrom ? .mailFrom(t, regex: regex) : .rcptTo(t, regex: regex)
            case .keyword(.from):
                _ = try advance()
                switch tok.kind {
                case .keyword(.socket):
                    _ = try advance(); try set("from", "from"); kind = .fromSocket
                case .keyword(.local):
                    _ = try advance(); try set("from", "from"); kind = .fromLocal
                case .keyword(.any):
                    _ = try advance(); try set("from", "from"); kind = .fromAny
                case .keyword(.src):
                    let (t, r) = try tableCondition("from", "from")
                    regex = r
                    kind = .fromSource(t, regex: regex)
                case .keyword(.rdns):
                    _ = try advance()
                    regex = try accept(.regex)
                    if regex || tableStarts {
                        let t = try tables()
                        try set("from", "from")
                        try check(t, allow: [.list], "rdns")
                        kind = .fromRDNS(t, regex: regex)
                    } else {
                        try set("from", "from")
                        kind = .fromRDNS(nil, regex: false)
                    }
                case .keyword(.auth):
                    _ = try advance()
                    regex = try accept(.regex)
                    if regex || tableStarts {
                        let t = try tables()
                        try set("from", "from")
                        try check(t, allow: [.list], "from")
                        kind = .fromAuth(t, regex: regex)
                    } else {
                        try set("from", "from")
                        kind = .fromAuth(nil, regex: false)
                    }
                    flags.insert("auth")
                case .keyword(.mailFrom):
                    let (t, r) = try tableCondition("from", "from", mappingAllowed: true)
                    regex = r
                    kind = .fromMailFrom(t, regex: regex)
                    flags.insert("mail-from")
                default:
                    throw syntaxError()
                }
            case .keyword(.for):
                _ = try advance()
                switch tok.kind {
                case .keyword(.local):
                    _ = try advance(); try set("for", "for"); kind = .forLocal
                case .keyword(.any):
                    _ = try advance(); try set("for", "for"); kind = .forAny
                case .keyword(.domain):
                    let (t, r) = try tableCondition("for", "'for'")
                    regex = r
                    kind = .forDomain(t, regex: regex)
                case .keyword(.rcptTo):
                    let (t, r) = try tableCondition("for", "for", mappingAllowed: true)
                    regex = r
                    kind = .forRcptTo(t, regex: regex)
                    flags.insert("rcpt-to")
                default:
                    throw syntaxError()
                }
            default:
                if negated { throw syntaxError() }
                let decision: MatchDecision
                if try accept(.reject) {
                    decision = .reject
                } else if try accept(.action) {
                    let name = try expectString()
                    if !actionNames.contains(name) { throw semantic("no such dispatcher: \(name)") }
                    decision = .action(name)
                } else {
                    throw syntaxError()
                }
                config.rules.append(MatchRule(conditions: conditions, decision: decision,
                                              text: text(from: first), location: location(first)))
                return
            }
            conditions.append(MatchCondition(negated: negated, kind))
        }
    }

    // MARK: filters

    /// `'{' optnl filter_list '}'`: the names of a filter chain.
    private mutating func filterChain() throws -> [String] {
        try expectChar("{")
        try skipNewlines()
        var names: [String] = []
        var procs: Set<String> = []
        while true {
            let name = try expectString()
            guard let f = filters[name] else { throw semantic("no filter exist with that name: \(name)") }
            if f.chain { throw semantic("no filter chain allowed within a filter chain: \(name)") }
            if names.contains(name) { throw semantic("no filter allowed twice within a filter chain: \(name)") }
            if let p = f.proc {
                if procs.contains(p) { throw semantic("no proc allowed twice within a filter chain: \(p)") }
                procs.insert(p)
            }
            names.append(name)
            if tok.isChar(",") {
                _ = try advance()
                try skipNewlines()
                continue
            }
            try skipNewlines()
            if tok.isChar("}") {
                _ = try advance()
                return names
            }
        }
    }

    private mutating func filterDirective() throws {
        _ = try advance()
        let name = try expectString()
        func checkNew() throws {
            if filters[name] != nil { throw semantic("filter already exists with that name: \(name)") }
        }
        switch tok.kind {
        case .keyword(.proc):
            _ = try advance()
            let p = try expectString()
            try checkNew()
            if !processors.contains(p) { throw semantic("no processor exist with that name: \(p)") }
            filters[name] = (false, p)
        case .keyword(.procExec):
            _ = try advance()
            _ = try expectString()
            try checkNew()
            filters[name] = (false, name)
            try procParams()
            processors.insert(name)
        case .keyword(.phase):
            _ = try advance()
            try checkNew()
            filters[name] = (false, nil)
            try filterPhase()
        case .keyword(.chain):
            _ = try advance()
            try checkNew()
            _ = try filterChain()
            filters[name] = (true, nil)
        default:
            throw syntaxError()
        }
    }

    private mutating func filterPhase() throws {
        // Which checks each phase accepts (parse.y filter_phase_*_options).
        let global: Set<String> = ["fcrdns", "rdns", "src"]
        let allowed: Set<String>
        var junk = true
        switch tok.kind {
        case .keyword(.connect): allowed = global
        case .keyword(.helo), .keyword(.ehlo): allowed = global.union(["helo"])
        case .keyword(.auth): allowed = global.union(["helo", "auth"])
        case .keyword(.mailFrom), .keyword(.data): allowed = global.union(["helo", "auth", "mail-from"])
        case .keyword(.rcptTo): allowed = global.union(["helo", "auth", "mail-from", "rcpt-to"])
        case .keyword(.commit):
            allowed = global.union(["helo", "auth", "mail-from"])
            junk = false
        default: throw syntaxError()
        }
        _ = try advance()
        try expect(.match)
        if tok.isChar("!") { _ = try advance() }
        let check: String
        switch tok.kind {
        case .keyword(.fcrdns): check = "fcrdns"
        case .keyword(.rdns): check = "rdns"
        case .keyword(.src): check = "src"
        case .keyword(.helo): check = "helo"
        case .keyword(.auth): check = "auth"
        case .keyword(.mailFrom): check = "mail-from"
        case .keyword(.rcptTo): check = "rcpt-to"
        default: throw syntaxError()
        }
        guard allowed.contains(check) else { throw syntaxError() }
        _ = try advance()
        switch check {
        case "fcrdns":
            break
        case "rdns", "auth":
            if try accept(.regex) {
                _ = try tables()
            } else if tableStarts {
                _ = try tables()
            }
        default:
            _ = try accept(.regex)
            _ = try tables()
        }
        switch tok.kind {
        case .keyword(.junk), .keyword(.bypass):
            guard junk else { throw syntaxError() }
            _ = try advance()
        case .keyword(.reject), .keyword(.disconnect), .keyword(.rewrite), .keyword(.report):
            _ = try advance()
            _ = try expectString()
        default:
            throw syntaxError()
        }
    }

    // MARK: listeners

    private mutating func listenDirective() throws {
        let first = try advance()
        try expect(.on)
        var seen: Set<String> = []
        func once(_ key: String, _ message: String) throws {
            if seen.contains(key) { throw semantic(message) }
            seen.insert(key)
        }
        var listener = ListenerDeclaration(interface: "", location: location(first))
        if try accept(.socket) {
            listener.interface = "socket"
            while true {
                switch tok.kind {
                case .keyword(.filter):
                    _ = try advance()
                    try listenFilter(&seen)
                case .keyword(.maskSrc):
                    _ = try advance()
                    try once("mask-src", "mask-source already specified")
                case .keyword(.noDSN):
                    _ = try advance()
                    try once("no-dsn", "no-dsn already specified")
                case .keyword(.tag):
                    _ = try advance()
                    let t = try expectString()
                    try once("tag", "tag already specified")
                    if t.utf8.count >= 33 { throw semantic("tag name too long") }
                    listener.tag = t
                default:
                    if hasSocketListener { throw semantic("socket listener already configured") }
                    hasSocketListener = true
                    config.listeners.append(listener)
                    return
                }
            }
        }
        listener.interface = try expectString()
        var ssl = false, auth = false, pkis: [String] = []
        var ca: String?
        while true {
            switch tok.kind {
            case .keyword(.inet4), .keyword(.inet6):
                _ = try advance()
                try once("family", "address family already specified")
            case .keyword(.port):
                _ = try advance()
                if tok.kind == .number {
                    let n = try advance().number
                    try once("port", "port already specified")
                    if n <= 0 || n > 65535 { throw semantic("invalid port: \(n)") }
                } else if tok.isKeyword(.smtp) || tok.isKeyword(.smtps) {
                    _ = try advance()
                    try once("port", "port already specified")
                } else {
                    let p = try expectString()
                    try once("port", "port already specified")
                    if !ConfigValues.isServiceName(p) { throw semantic("invalid port: \(p)") }
                }
            case .keyword(.filter):
                _ = try advance()
                try listenFilter(&seen)
            case .keyword(.smtps):
                _ = try advance()
                _ = try accept(.verify)
                try once("ssl", "TLS mode already specified")
                ssl = true
            case .keyword(.tls):
                _ = try advance()
                try once("ssl", "TLS mode already specified")
                ssl = true
            case .keyword(.tlsRequire):
                _ = try advance()
                _ = try accept(.verify)
                try once("ssl", "TLS mode already specified")
                ssl = true
            case .keyword(.ciphers), .keyword(.protocols):
                let k = try advance().text
                _ = try expectString()
                try once(k, "\(k) already specified")
            case .keyword(.pki):
                _ = try advance()
                pkis.append(try expectString())
                if pkis.count > 32 { throw semantic("too many pki specified") }
            case .keyword(.ca):
                _ = try advance()
                let c = try expectString()
                try once("ca", "ca already specified")
                ca = c
            case .keyword(.auth), .keyword(.authOptional):
                _ = try advance()
                var t: TableReference?
                if tableStarts { t = try tables() }
                try once("auth", "auth already specified")
                auth = true
                listener.auth = t
            case .keyword(.tag):
                _ = try advance()
                let t = try expectString()
                try once("tag", "tag already specified")
                if t.utf8.count >= 33 { throw semantic("tag name too long") }
                listener.tag = t
            case .keyword(.hostname):
                _ = try advance()
                let h = try expectString()
                try once("hostname", "hostname already specified")
                listener.hostname = h
            case .keyword(.hostnames):
                _ = try advance()
                let t = try tables()
                try once("hostnames", "hostnames already specified")
                if let s = tableShapes[t.name], s == .list {
                    throw semantic("invalid use of table \"\(t.name)\" as HOSTNAMES parameter")
                }
                listener.hostnames = t
            case .keyword(.maskSrc):
                _ = try advance()
                try once("mask-src", "mask-source already specified")
            case .keyword(.receivedAuth):
                _ = try advance()
                try once("received-auth", "received-auth already specified")
            case .keyword(.noDSN):
                _ = try advance()
                try once("no-dsn", "no-dsn already specified")
            case .keyword(.proxyV2):
                _ = try advance()
                try once("proxy-v2", "proxy-v2 already specified")
            case .keyword(.senders):
                _ = try advance()
                let t = try tables()
                _ = try accept(.masquerade)
                try once("senders", "senders already specified")
                if let s = tableShapes[t.name], s == .list {
                    throw semantic("invalid use of table \"\(t.name)\" as SENDERS parameter")
                }
                listener.senders = t
            default:
                // create_if_listener and config_listener (smtpd exits there without a line number).
                if auth && !ssl { throw semantic("invalid listen option: auth requires tls/smtps") }
                if !pkis.isEmpty && !ssl { throw semantic("invalid listen option: pki requires tls/smtps") }
                if pkis.isEmpty && ssl { throw semantic("invalid listen option: pki required for tls/smtps") }
                for p in pkis where !pkiNames.contains(p.lowercased()) {
                    throw semantic("pki name not found: \(p)")
                }
                if let ca, !caNames.contains(ca.lowercased()) { throw semantic("ca name not found: \(ca)") }
                config.listeners.append(listener)
                return
            }
        }
    }

    private mutating func listenFilter(_ seen: inout Set<String>) throws {
        if seen.contains("filter") { throw semantic("filter already specified") }
        seen.insert("filter")
        if tok.isString {
            let f = try advance().text
            if filters[f] == nil { throw semantic("no filter exist with that name: \(f)") }
        } else {
            _ = try filterChain()
        }
    }
}
