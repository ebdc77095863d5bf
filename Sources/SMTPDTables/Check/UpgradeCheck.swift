/// What changes meaning when the smtpd in use is replaced by another release (`check --upgrade-to`): every
/// line of the configuration's table files that the other release reads as another key or value (or cannot
/// read), the db sources that its makemap builds otherwise, the configuration lines one release accepts and
/// the other refuses, and the alias and virtual targets that an address-literal domain sends elsewhere.
///
/// Findings name the file, the line and the key; values are quoted only for tables that hold no secret (a
/// table used by `auth` shows its keys alone).
public struct UpgradeCheck: Sendable {
    /// The configuration to check (the file that was read).
    public var configPath: String
    /// The release in use.
    public var from: SMTPDVersion
    /// The release upgraded (or downgraded) to.
    public var to: SMTPDVersion

    public init(configPath: String, from: SMTPDVersion, to: SMTPDVersion) {
        self.configPath = configPath
        self.from = from
        self.to = to
    }

    /// The findings, in file and line order; none when nothing changes meaning.
    public func run() -> [Finding] {
        var findings: [Finding] = []
        let before = Result { () throws(TableError) in
            try SMTPDConfig.load(path: configPath, options: .init(smtpdVersion: from))
        }
        let after = Result { () throws(TableError) in
            try SMTPDConfig.load(path: configPath, options: .init(smtpdVersion: to))
        }
        switch (before, after) {
        case (.success, .failure(let e)):
            findings.append(Finding(.error, "upgrade-config-refused", file: e.path, line: e.line,
                                    "\(to) refuses this configuration: \(e.message) (\(from) accepts it)"))
        case (.failure(let e), .success):
            findings.append(Finding(.note, "upgrade-config-accepted", file: e.path, line: e.line,
                                    "\(to) accepts this configuration, which \(from) refuses: \(e.message)"))
        case (.failure(let e), .failure):
            findings.append(Finding(.error, "upgrade-config-unreadable", file: e.path, line: e.line,
                                    "neither \(from) nor \(to) reads this configuration: \(e.message)"))
        default:
            break
        }
        guard let config = (try? after.get()) ?? (try? before.get()) else { return findings }
        let secret = SetupChecker(config: config, resolverOptions: nil).secretTables
        let aliasLike = Set(config.actions.flatMap { [$0.alias?.name, $0.virtual?.name].compactMap { $0 } })

        findings += expansionChanges(config)
        var seen = Set<String>()
        for table in config.tables {
            guard let path = table.path, seen.insert("\(table.backend):\(path)").inserted else { continue }
            let shows = !secret.contains(table.name)
            switch table.backend {
            case .file:
                findings += compare(path, TableLineParser.Grammar.fileTable(from), TableLineParser.Grammar.fileTable(to),
                                    table: table.name, what: "smtpd", showValues: shows,
                                    addressTargets: aliasLike.contains(table.name))
            case .db:
                // The db keeps what the old makemap stored; the new makemap rebuilds it from the source.
                guard let source = MapBuilder.stripDB(path) else { continue }
                findings += compare(source, TableLineParser.Grammar.makemap(from), TableLineParser.Grammar.makemap(to),
                                    table: table.name, what: "makemap", showValues: shows,
                                    addressTargets: aliasLike.contains(table.name))
            default:
                continue
            }
        }
        return findings.sorted { ($0.file ?? "", $0.line ?? 0) < ($1.file ?? "", $1.line ?? 0) }
    }

    /// The configuration lines whose expansion changes: SRS decoding (7.3), an action's `user` (7.5),
    /// root's `~/.forward` files and pipes (7.5). The srs key itself is never shown.
    private func expansionChanges(_ config: SMTPDConfig) -> [Finding] {
        var findings: [Finding] = []
        let older = min(from, to), newer = max(from, to)
        if config.srs.key != nil, from.has(.srsDecoding) != to.has(.srsDecoding),
           let srs = config.otherDirectives.first(where: { $0.keyword == "srs" && $0.text.contains(" key ")
                                                            && !$0.text.contains(" backup ") }) {
            findings.append(Finding(.warning, "upgrade-srs", file: srs.location.file, line: srs.location.line,
                "srs key: \(newer) matches the rules on the decoded address of an SRS bounce (and decodes SRS "
                + "addresses that aliases produce); \(older) matched them on the address as received, so a bounce "
                + "to SRS0=...@this-host went to the local action with the decoded user"))
        }
        if from.has(.actionUserSkipsForwards) != to.has(.actionUserSkipsForwards) {
            for action in config.actions where action.method.isLocal {
                guard let user = action.user else { continue }
                findings.append(Finding(.warning, "upgrade-action-user-forwards", file: action.location.file,
                    line: action.location.line,
                    "action \"\(action.name)\" delivers as user \(user): \(newer) reads no ~/.forward of any other "
                    + "user for it (their mail goes to them directly); \(older) followed their ~/.forward files"))
            }
        }
        if from.has(.rootForwardRefusesFilesAndPipes) != to.has(.rootForwardRefusesFilesAndPipes),
           config.actions.contains(where: { $0.method.isLocal && $0.userbase == nil }),
           let root = try? Userbase.system.lookup("root"), root.uid == 0 {
            let path = (root.directory.hasSuffix("/") ? root.directory : root.directory + "/") + ".forward"
            if case .lines(let lines) = ForwardFile.open(directory: root.directory, uid: 0),
               lines.contains(where: { line in
                   line.split(separator: UInt8(ascii: ",")).contains { element in
                       let e = element.drop(while: isBlank)
                       return e.first == UInt8(ascii: "|") || e.first == UInt8(ascii: "/")
                   }
               }) {
                findings.append(Finding(.warning, "upgrade-root-forward", file: path,
                    "root's .forward names a file or a command: \(newer) refuses it (a temporary failure for every "
                    + "recipient that reaches root); \(older) delivered it as root"))
            }
        }
        return findings
    }

    private struct Entry: Equatable {
        var key: [UInt8]
        var value: [UInt8]?
    }

    /// The entries of `path` by line under `grammar`, and the first line it cannot read.
    private func entries(_ bytes: [UInt8], path: String, grammar: TableLineParser.Grammar) -> ([Int: Entry], TableError?) {
        var storage = bytes
        guard let result = try? TableLineParser.parseUpToFailure(&storage, path: path, grammar: grammar) else {
            return ([:], nil)
        }
        var out: [Int: Entry] = [:]
        for e in result.entries where out[Int(e.line)] == nil {
            let key = Array(storage[Int(e.keyStart)..<Int(e.keyStart) + Int(e.keyLength)])
            let value = e.valueLength < 0 ? nil
                : Array(storage[Int(e.valueStart)..<Int(e.valueStart) + Int(e.valueLength)])
            out[Int(e.line)] = Entry(key: key, value: value)
        }
        return (out, result.failure)
    }

    private func compare(_ path: String, _ old: TableLineParser.Grammar, _ new: TableLineParser.Grammar,
                         table: String, what: String, showValues: Bool, addressTargets: Bool) -> [Finding] {
        guard let bytes = try? SystemFile.readRegular(path) else { return [] }
        var findings: [Finding] = []
        let literalsMove = from.has(.ipLiteralRelayed) != to.has(.ipLiteralRelayed)
        if old != new {
            let (a, failA) = entries(bytes, path: path, grammar: old)
            let (b, failB) = entries(bytes, path: path, grammar: new)
            for line in Set(a.keys).union(b.keys).sorted() where a[line] != b[line] {
                findings.append(Finding(.warning, "upgrade-line-changes", file: path, line: line, table: table,
                                        describe(a[line], b[line], what: what, showValues: showValues)))
            }
            if let failB, failA?.line != failB.line {
                findings.append(Finding(.error, "upgrade-line-refused", file: path, line: failB.line, table: table,
                                        "\(what) \(to) cannot read this line: \(failB.message)"))
            }
        }
        if literalsMove && addressTargets {
            let (current, _) = entries(bytes, path: path, grammar: new)
            for (line, entry) in current.sorted(by: { $0.key < $1.key }) {
                guard let value = entry.value, contains(value, "@[") else { continue }
                let older = from < to ? from : to, newer = from < to ? to : from
                findings.append(Finding(.warning, "upgrade-address-literal", file: path, line: line, table: table,
                                        "`\(String(decoding: entry.key, as: UTF8.self))`: a target at an address literal "
                                        + "(user@[IP]) is a local user in \(older) and goes to the rules as a remote "
                                        + "address from 7.5 on (\(newer))"))
            }
        }
        return findings
    }

    private func describe(_ a: Entry?, _ b: Entry?, what: String, showValues: Bool) -> String {
        func text(_ e: Entry?) -> String {
            guard let e else { return "nothing (a comment, blank or unreadable line)" }
            let key = "key `\(String(decoding: e.key, as: UTF8.self))`"
            guard let v = e.value else { return key + " (no value)" }
            return showValues ? key + " value `\(String(decoding: v, as: UTF8.self))`" : key + " (value not shown)"
        }
        if !showValues, let a, let b, a.key == b.key {
            return "\(what) \(from) and \(to) read another value for key `\(String(decoding: a.key, as: UTF8.self))` "
                + "(not shown: a credentials table)"
        }
        return "\(what) \(from) reads \(text(a)); \(to) reads \(text(b))"
    }

    private func contains(_ bytes: [UInt8], _ needle: String) -> Bool {
        let n = Array(needle.utf8)
        guard bytes.count >= n.count else { return false }
        for i in 0...(bytes.count - n.count) where bytes[i] == n[0] && Array(bytes[i..<i + n.count]) == n { return true }
        return false
    }
}
