#if canImport(Glibc)
import Glibc
#endif

/// Lints an smtpd.conf and every table it declares, the way a careful admin would, and reports each problem
/// with its file and line: malformed and duplicate entries, values that are invalid for the way a table is used,
/// credentials smtpd cannot use, weak hashes, virtual entries for domains the server does not accept, wildcard
/// patterns that do not match what they seem to, db files older than their source, stale temporary files of
/// killed makemap runs. Never prints a password or a hash.
public struct SetupChecker {
    /// The configuration checked, with the tables it declares.
    public let config: SMTPDConfig
    /// How targets are resolved (host name, userbase, home directories); nil skips the checks that resolve
    /// every alias and virtual entry (loops, chains too deep, targets that resolve nowhere).
    public let resolverOptions: Resolver.Options?

    /// A checker for `config`. `resolverOptions` names the host facts explicitly
    /// (`Resolver.Options(host: .system())` for this machine's); nil skips the checks that resolve entries.
    public init(config: SMTPDConfig, resolverOptions: Resolver.Options?) {
        self.config = config
        self.resolverOptions = resolverOptions
    }

    /// Every finding, sorted by file and line.
    public func run() -> [Finding] { run(memo: ExpansionMemo()) }

    /// `run()`, judging alias entries with the verdicts kept in `memo` (see `checkResolution`); nil resolves every
    /// entry in full (the reference the memo is tested against).
    func run(memo: ExpansionMemo?) -> [Finding] {
        var findings: [Finding] = []
        var loaded: [String: LoadedTable] = [:]
        for declaration in config.tables where !declaration.isAnonymous || declaration.backend != .inline {
            if let table = load(declaration, into: &findings) { loaded[declaration.name] = table }
        }
        let uses = uses()
        for use in uses {
            guard let table = loaded[use.table] else { continue }
            check(use: use.kind, of: table, into: &findings)
        }
        checkCredentialUses(uses, loaded, into: &findings)
        checkVirtualDomains(loaded, into: &findings)
        if let resolverOptions, let resolver = try? Resolver(config: config, options: resolverOptions) {
            checkResolution(resolver, loaded, memo: memo, into: &findings)
        }
        return findings.sorted {
            ($0.file ?? "", $0.line ?? 0, $0.severity) < ($1.file ?? "", $1.line ?? 0, $1.severity)
        }
    }

    // MARK: Loading

    /// A table's entries in file order with their lines, duplicates included.
    struct LoadedTable {
        typealias Entry = (key: [UInt8], value: [UInt8]?, line: Int?)
        var name: String
        var path: String
        var entries: [Entry]
    }

    private func load(_ declaration: TableDeclaration, into findings: inout [Finding]) -> LoadedTable? {
        let name = declaration.name
        switch declaration.backend {
        case .file:
            guard let path = declaration.path else { return nil }
            do {
                var bytes = try SystemFile.readRegular(path)
                let version = resolverOptions?.smtpdVersion ?? .newest
                let parsed = try TableLineParser.parse(&bytes, path: path, grammar: .fileTable(version))
                var table = LoadedTable(name: name, path: path, entries: [])
                var firstLine: [[UInt8]: Int] = [:]
                for e in parsed.entries {
                    let key = Array(bytes[Int(e.keyStart)..<Int(e.keyStart + e.keyLength)])
                    let value = e.valueLength >= 0
                        ? Array(bytes[Int(e.valueStart)..<(Int(e.valueStart) + Int(e.valueLength))]) : nil
                    if let first = firstLine[key] {
                        findings.append(Finding(.error, "duplicate-entry", file: path, line: Int(e.line), table: name,
                            "duplicate entry for \(String(lossyBytes: key)) (first at line \(first)): smtpd keeps this one, makemap refuses the file"))
                    } else {
                        firstLine[key] = Int(e.line)
                    }
                    table.entries.append((key, value, Int(e.line)))
                }
                return table
            } catch {
                findings.append(Finding(.error, error.kind == .io ? "unreadable-table" : "malformed-entry",
                                        file: error.path ?? path, line: error.line, table: name, error.message))
                return nil
            }
        case .db:
            guard let path = declaration.path else { return nil }
            checkDBFreshness(path: path, table: name, into: &findings)
            for stale in AtomicFile.staleTemporaries(for: path) {
                findings.append(Finding(.warning, "stale-temporary", file: stale, table: name,
                    "temporary file of a killed makemap run (its writer is gone); the next successful build removes it"))
            }
            do {
                let table = try Table(path: path, backend: .db)
                var loadedTable = LoadedTable(name: name, path: path, entries: [])
                table.forEachEntry { k, v in loadedTable.entries.append((Array(k), v.map(Array.init), nil)) }
                return loadedTable
            } catch {
                findings.append(Finding(.error, "unreadable-table", file: error.path ?? path, table: name, error.message))
                return nil
            }
        case .inline:
            let entries = declaration.entries.map { (Array($0.key.utf8).asciiLowercased(), $0.value.map { Array($0.utf8) }, Optional(declaration.location.line)) }
            return LoadedTable(name: name, path: declaration.location.file, entries: entries)
        case .other(let backend) where backend == ProcServer.helperBackend:
            // table-idx reads the path as a bare path: a Berkeley DB file as db:, anything else as file:.
            guard let path = declaration.path else { return nil }
            var served = declaration
            served.backend = DBTable.recognises(path: path) ? .db : .file
            return load(served, into: &findings)
        case .other(let backend) where backend == PasswdTable.backend.name:
            guard let path = declaration.path else { return nil }
            do {
                let table = try Table(path: path, backend: PasswdTable.backend, options: TableOptions())
                var loadedTable = LoadedTable(name: name, path: path, entries: [])
                table.forEachEntry { k, v in loadedTable.entries.append((Array(k), v.map(Array.init), nil)) }
                return loadedTable
            } catch {
                findings.append(Finding(.error, error.kind == .io ? "unreadable-table" : "malformed-entry",
                                        file: error.path ?? path, line: error.line, table: name, error.message))
                return nil
            }
        case .other:
            return nil
        }
    }

    private func checkDBFreshness(path: String, table: String, into findings: inout [Finding]) {
        guard path.hasSuffix(".db") else { return }
        let source = String(path.dropLast(3))
        guard let src = SystemFile.status(source), (src.st_mode & S_IFMT) == S_IFREG else { return }
        guard let db = SystemFile.status(path) else {
            findings.append(Finding(.error, "db-missing", file: path, table: table,
                                    "no db file, but its source \(source) exists: run makemap \(source)"))
            return
        }
        let older = db.st_mtim.tv_sec < src.st_mtim.tv_sec
            || (db.st_mtim.tv_sec == src.st_mtim.tv_sec && db.st_mtim.tv_nsec < src.st_mtim.tv_nsec)
        if older {
            findings.append(Finding(.warning, "db-older-than-source", file: path, table: table,
                "older than its source \(source): smtpd still serves the old entries; run makemap"))
        }
    }

    // MARK: Uses

    enum Use: Equatable {
        /// `credentials` is a listener's `auth <table>` (crypt(3) hashes smtpd checks passwords against);
        /// `relayCredentials` a relay action's `auth <table>` (`label user:password` in clear, sent to the relay).
        case alias, virtual, credentials, relayCredentials, userbase, domain, netaddr, mailaddr
    }

    /// The tables that hold passwords or hashes (used by a listener's or a relay's `auth`): findings about
    /// them name keys and problems, never values.
    var secretTables: Set<String> {
        Set(uses().filter { $0.kind == .credentials || $0.kind == .relayCredentials }.map(\.table))
    }

    /// How each table is used by the configuration (a table may have several uses).
    func uses() -> [(table: String, kind: Use)] {
        var out: [(String, Use)] = []
        for action in config.actions {
            if let t = action.alias { out.append((t.name, .alias)) }
            if let t = action.virtual { out.append((t.name, .virtual)) }
            if let t = action.userbase { out.append((t.name, .userbase)) }
            for case .auth(let t) in action.options { out.append((t.name, .relayCredentials)) }
        }
        for listener in config.listeners {
            if let t = listener.auth { out.append((t.name, .credentials)) }
        }
        for rule in config.rules {
            for condition in rule.conditions {
                switch condition.kind {
                case .forDomain(let t, let regex) where !regex: out.append((t.name, .domain))
                case .fromSource(let t, let regex) where !regex: out.append((t.name, .netaddr))
                case .fromMailFrom(let t, let regex) where !regex: out.append((t.name, .mailaddr))
                case .forRcptTo(let t, let regex) where !regex: out.append((t.name, .mailaddr))
                case .mailFrom(let t, let regex) where !regex: out.append((t.name, .mailaddr))
                case .rcptTo(let t, let regex) where !regex: out.append((t.name, .mailaddr))
                default: break
                }
            }
        }
        var seen = Set<String>()
        return out.filter { seen.insert("\($0.0)/\($0.1)").inserted }
    }

    private func check(use: Use, of table: LoadedTable, into findings: inout [Finding]) {
        let secret = secretTables.contains(table.name)
        for entry in table.entries {
            let key = String(lossyBytes: entry.key)
            func report(_ severity: Finding.Severity, _ code: String, _ message: String) {
                findings.append(Finding(severity, code, file: table.path, line: entry.line, table: table.name, message))
            }
            switch use {
            case .alias, .virtual:
                guard let value = entry.value else { continue }
                do {
                    _ = try ExpansionNode.parseList(value[...])
                } catch {
                    let problem = secret ? "its value is not a valid alias list (not shown: table <\(table.name)> holds credentials)"
                        : error.message
                    report(.error, "invalid-alias", "\(key): \(problem): smtpd answers 424 for this recipient")
                }
            case .credentials:
                guard let value = entry.value else {
                    report(.error, "credentials-no-value", "\(key): no password hash")
                    continue
                }
                do {
                    let credentials = try Credentials(key: entry.key, value: value)
                    for problem in credentials.problems {
                        report(.error, "credentials-unusable", "\(key): \(problem)")
                    }
                    let analysis = credentials.analysis
                    if credentials.problems.isEmpty && analysis.isWeak {
                        var text = "\(key): weak hash (\(analysis.format.rawValue)"
                        if let cost = analysis.cost { text += ", cost \(cost)" }
                        report(.warning, "weak-hash", text + ")")
                    }
                } catch {
                    report(.error, "credentials-invalid", "\(key): \(error.message)")
                }
            case .relayCredentials:
                guard let value = entry.value else {
                    report(.error, "relay-credentials-no-value", "\(key): no user:password for the relay")
                    continue
                }
                guard let credentials = try? Credentials(key: entry.key, value: value), credentials.hadUsername else {
                    report(.error, "relay-credentials-invalid",
                           "\(key): a relay's credentials are user:password in clear text (smtpd sends them to the relay)")
                    continue
                }
                let analysis = HashAnalysis(credentials.passwordBytes)
                if analysis.format != .plainText, analysis.format != .unknown, analysis.format != .empty {
                    report(.warning, "relay-credentials-hashed",
                           "\(key): the password looks like a \(analysis.format.rawValue) hash; smtpd sends a relay's "
                           + "credentials as written, so the relay would be given the hash as the password")
                }
            case .userbase:
                guard let value = entry.value else { continue }
                do {
                    _ = try UserInfo(key: key, value: String(lossyBytes: value))
                } catch {
                    report(.error, "invalid-userinfo", "\(key): \(error.message)")
                }
            case .domain:
                if let note = wildcardNote(pattern: entry.key) { report(.note, "wildcard-pattern", note) }
            case .netaddr:
                if NetworkAddress.parse(entry.key[...]) == nil {
                    report(.warning, "invalid-netaddr", "\(key) is not an address or network: it only matches itself as text")
                } else if let written = NetworkAddress.overflowingPrefix(entry.key[...]),
                          let net = NetworkAddress.parse(entry.key[...]) {
                    let meaning = net.prefixLength <= 0 ? "every IPv4 address" : "a /\(net.prefixLength)"
                    report(.error, "netaddr-prefix-overflow",
                           "\(key): the prefix /\(written) overflows smtpd's parser, which reads it as \(meaning)")
                }
            case .mailaddr:
                if let at = entry.key.lastIndex(of: UInt8(ascii: "@")),
                   let note = wildcardNote(pattern: Array(entry.key[(at + 1)...])) {
                    report(.note, "wildcard-pattern", note)
                }
            }
        }
    }

    /// One table used both as a listener's credentials (hashes) and a relay's (clear text), or as credentials
    /// and as an alias or virtual table: each use reads the other's values wrongly.
    private func checkCredentialUses(_ uses: [(table: String, kind: Use)], _ loaded: [String: LoadedTable],
                                     into findings: inout [Finding]) {
        for name in Set(uses.map(\.table)).sorted() {
            let kinds = Set(uses.filter { $0.table == name }.map { "\($0.kind)" })
            let place = loaded[name]?.path ?? config.path
            if kinds.contains("credentials"), kinds.contains("relayCredentials") {
                findings.append(Finding(.warning, "credentials-used-both-ways", file: place, table: name,
                    "table <\(name)> is used by a listener's auth (crypt(3) hashes) and by a relay's auth (clear-text "
                    + "user:password): one of the two cannot work; use two tables"))
            }
            if kinds.contains("credentials") || kinds.contains("relayCredentials"),
               kinds.contains("alias") || kinds.contains("virtual") {
                findings.append(Finding(.warning, "credentials-as-alias", file: place, table: name,
                    "table <\(name)> holds credentials and is also used as an alias or virtual table: its passwords "
                    + "and hashes would be read as addresses"))
            }
        }
    }

    /// What a `*` pattern really matches, when that is unlikely to be what was meant.
    func wildcardNote(pattern: [UInt8]) -> String? {
        guard pattern.contains(UInt8(ascii: "*")) else { return nil }
        let p = String(lossyBytes: pattern)
        let stars = pattern.prefix { $0 == UInt8(ascii: "*") }.count
        let rest = pattern.dropFirst(stars)
        if rest.isEmpty { return nil }
        if !rest.contains(UInt8(ascii: "*")) {
            if rest.first == UInt8(ascii: ".") {
                let base = String(lossyBytes: rest.dropFirst())
                return "\(p) matches one label under \(base) (a.\(base)), not deeper names (a.b.\(base)) nor \(base) itself: smtpd's * stops at the first '.'"
            }
            return "\(p): smtpd's * skips only up to the first '\(Character(UnicodeScalar(rest.first ?? 0)))', without backtracking"
        }
        if pattern.last == UInt8(ascii: "*") && !pattern.dropLast().contains(UInt8(ascii: "*")) {
            let stem = String(lossyBytes: pattern.dropLast())
            return "\(p) matches names longer than \(stem), but not \(stem) itself"
        }
        return "\(p): each * skips only up to the first occurrence of the character after it, without backtracking"
    }

    // MARK: Virtual entries vs accepted domains

    /// A virtual table entry `user@domain` (or `@domain`) whose domain no `for domain` table of a rule that leads
    /// to that action accepts: mail for it is never routed to this table.
    private func checkVirtualDomains(_ loaded: [String: LoadedTable], into findings: inout [Finding]) {
        for action in config.actions {
            guard let virtual = action.virtual, let vtable = loaded[virtual.name] else { continue }
            var domainTables: [Table] = []
            var acceptsAny = false
            for rule in config.rules where rule.actionName == action.name {
                for condition in rule.conditions where !condition.negated {
                    switch condition.kind {
                    case .forDomain(let ref, let regex):
                        if regex { acceptsAny = true; continue }
                        if let t = makeTable(ref, loaded) { domainTables.append(t) } else { acceptsAny = true }
                    case .forAny, .forRcptTo: acceptsAny = true
                    default: break
                    }
                }
            }
            if acceptsAny || domainTables.isEmpty { continue }
            for entry in vtable.entries {
                guard let at = entry.key.lastIndex(of: UInt8(ascii: "@")) else { continue }
                let domain = Array(entry.key[(at + 1)...])
                if domain.isEmpty || domain.contains(UInt8(ascii: "*")) { continue }
                let accepted = domainTables.contains { (try? $0.contains(String(lossyBytes: domain), service: .domain)) == true }
                if accepted { continue }
                var message = "\(String(lossyBytes: entry.key)): \(String(lossyBytes: domain)) is not in the domain table of any rule for action \"\(action.name)\": this entry is never used"
                if let hint = wildcardHint(domain: domain, tables: domainTables) { message += " (\(hint))" }
                findings.append(Finding(.warning, "virtual-domain-not-served", file: vtable.path, line: entry.line,
                                        table: vtable.name, message))
            }
        }
    }

    private func wildcardHint(domain: [UInt8], tables: [Table]) -> String? {
        for table in tables {
            for entry in table.entries where entry.keyBytes.first == UInt8(ascii: "*") {
                let suffix = entry.keyBytes.drop { $0 == UInt8(ascii: "*") }
                if domain.count > suffix.count, domain.suffix(suffix.count).elementsEqual(suffix) {
                    return "\(entry.key) does not match it: * does not span dots"
                }
            }
        }
        return nil
    }

    private func makeTable(_ ref: TableReference, _ loaded: [String: LoadedTable]) -> Table? {
        guard let t = loaded[ref.name] else { return nil }
        return Table(byteEntries: t.entries.map { (key: $0.key, value: $0.value) }, name: t.path)
    }

    // MARK: Resolution of every entry

    /// Resolves each alias and virtual entry as smtpd would and reports loops, chains deeper than smtpd's
    /// limit and targets that resolve nowhere. `error:` entries fail on purpose and are not reported; values
    /// that do not parse are reported by the value checks.
    ///
    /// Each entry is first judged with the verdicts of the entries it leads to (`ExpansionMemo`), taken in an
    /// order that judges an alias's targets before the alias: a table of N aliases of F targets each costs
    /// about N x F, not the product of the fan-outs along every chain. Only entries that fail are resolved in
    /// full, for the message.
    private func checkResolution(_ resolver: Resolver, _ loaded: [String: LoadedTable], memo: ExpansionMemo?,
                                 into findings: inout [Finding]) {
        var done = Set<String>()
        for action in config.actions {
            for (ref, isVirtual) in [(action.alias, false), (action.virtual, true)] {
                guard let ref, let table = loaded[ref.name] else { continue }
                for entry in targetsFirst(table.entries) {
                    guard entry.value != nil, let recipient = probe(for: entry.key, virtual: isVirtual) else { continue }
                    guard done.insert("\(table.name)\u{0}\(recipient)").inserted else { continue }
                    if let memo, let verdict = try? resolver.verdict(recipient, memo: memo), verdict.accepted,
                       verdict.trusted {
                        continue
                    }
                    guard let result = try? resolver.resolve(recipient), !result.accepted,
                          result.action == action.name, !result.nodes.isEmpty else { continue }
                    // The node that failed; for a loop smtpd marks none: take the repeated node that closes it.
                    let looping = result.nodes.first { n in
                        n.duplicate && ancestry(of: n.id, in: result.nodes).dropLast()
                            .contains { $0.kind == n.kind && $0.value == n.value }
                    }
                    let failed = result.failedNode.flatMap { $0 < result.nodes.count ? $0 : nil }
                        ?? looping?.id ?? result.nodes.count - 1
                    let node = result.nodes[failed]
                    let key = String(lossyBytes: entry.key)
                    var chain = ancestry(of: failed, in: result.nodes).map(\.value).joined(separator: " -> ")
                    var target = node.value
                    if secretTables.contains(table.name) {
                        chain = "not shown: table <\(table.name)> holds credentials"
                        target = "its value"
                    }
                    func report(_ code: String, _ message: String) {
                        findings.append(Finding(.error, code, file: table.path, line: entry.line,
                                                table: table.name, message))
                    }
                    switch result.code {
                    case 524:
                        if looping != nil {
                            report("expansion-loop", "\(key): expansion loops (\(chain)); smtpd answers 524 5.2.4")
                        } else if node.depth < 9 {
                            // 524 short of the depth limit: an address in a virtual domain with no entry.
                            report("unresolvable-target", "\(key): \(target) resolves nowhere (\(chain)): \(result.reply ?? "524")")
                        } else {
                            report("expansion-too-deep", "\(key): the chain \(chain) is deeper than smtpd allows; smtpd answers 524 5.2.4")
                        }
                    case 550 where node.kind != .error:
                        report("unresolvable-target", "\(key): \(target) resolves nowhere (\(chain)): \(result.reply ?? "550")")
                    default:
                        break
                    }
                }
            }
        }
    }

    /// The entries in an order where an entry comes after the entries its value names (a depth-first
    /// post-order over the user names in the values; a loop is cut where the walk meets it again).
    private func targetsFirst(_ entries: [LoadedTable.Entry]) -> [LoadedTable.Entry] {
        var index: [[UInt8]: Int] = [:]
        for (i, e) in entries.enumerated() where e.value != nil { index[e.key] = i }
        func targets(_ i: Int) -> [Int] {
            guard let value = entries[i].value, let nodes = try? ExpansionNode.parseList(value[...]) else { return [] }
            return nodes.compactMap { n in
                guard n.kind == .username else { return nil }
                let user = Array(n.value.utf8).asciiLowercased()
                let cut = user.firstIndex(of: config.subaddressingDelimiter).map { Array(user[..<$0]) }
                return index[user] ?? cut.flatMap { index[$0] }
            }
        }
        var order: [LoadedTable.Entry] = []
        var state = [UInt8](repeating: 0, count: entries.count)  // 0 new, 1 on the walk, 2 done
        for start in entries.indices where state[start] == 0 {
            var stack: [(node: Int, next: [Int])] = [(start, targets(start))]
            state[start] = 1
            while !stack.isEmpty {
                if let child = stack[stack.count - 1].next.popLast() {
                    if state[child] == 0 {
                        state[child] = 1
                        stack.append((child, targets(child)))
                    }
                } else {
                    let done = stack.removeLast().node
                    state[done] = 2
                    order.append(entries[done])
                }
            }
        }
        return order
    }

    /// The recipient that exercises an entry: `key@localhost` for aliases; the address itself, or a made-up
    /// user for a catch-all, for virtual entries (bare user names are reached through other entries).
    private func probe(for key: [UInt8], virtual: Bool) -> String? {
        let text = String(lossyBytes: key)
        guard virtual else { return text.contains("@") ? nil : text + "@localhost" }
        guard let at = key.lastIndex(of: UInt8(ascii: "@")) else { return nil }
        let domain = key[(at + 1)...]
        if domain.isEmpty || domain.contains(UInt8(ascii: "*")) { return nil }
        return at == 0 ? "smtpd-tables-check-catch-all" + text : text
    }

    private func ancestry(of id: Int, in nodes: [ResolutionNode]) -> [ResolutionNode] {
        var chain: [ResolutionNode] = []
        var current: Int? = id
        while let c = current, c < nodes.count, chain.count <= nodes.count {
            chain.append(nodes[c])
            current = nodes[c].parent
        }
        return chain.reversed()
    }
}
