import ArgumentParser
import SMTPDTables

struct ResolveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resolve",
        abstract: "Show who an address resolves to under smtpd.conf.",
        discussion: """
            Follows smtpd.conf's match rules, actions, alias and virtual tables, userbase and ~/.forward files \
            as smtpd does when it answers RCPT TO, and prints the expansion tree (each node with the table:key \
            that produced it) and the deliveries, or smtpd's reply. On a terminal, control characters from \
            tables are shown escaped (\\x1b); through a pipe they are written unchanged. With - as the only \
            address, the addresses are read from standard input, one per line. A refused address says why \
            (the keys tried in order with their tables, the user missing from which userbase, the rule that \
            rejected or that none matched, the depth limit). Exit status: 0 every \
            address accepted, 1 any rejected, 2 errors.
            """)

    @Option(name: .customShort("f"), help: ArgumentHelp("The smtpd.conf to read.", valueName: "file"),
            completion: .file())
    var file: String = "/etc/smtpd.conf"

    @Option(help: ArgumentHelp("smtpd's own name (for `for local` and bare users; default: /etc/mailname, else the host name).",
                               valueName: "name"))
    var hostname: String?

    @Option(help: ArgumentHelp("The client address the mail comes from (default: local, i.e. submitted on this machine).",
                               valueName: "ip"))
    var source: String = "local"

    @Option(name: .customLong("from"), help: ArgumentHelp("The MAIL FROM address.", valueName: "address"))
    var mailFrom: String = ""

    @Option(help: ArgumentHelp("The user the client authenticated as.", valueName: "user"))
    var auth: String?

    @Option(help: ArgumentHelp("The client's reverse DNS name.", valueName: "name"))
    var rdns: String?

    @Option(help: ArgumentHelp("Prefix for home directories when reading ~/.forward files.", valueName: "dir"),
            completion: .directory)
    var homeRoot: String = ""

    @OptionGroup var versionOptions: VersionOptions

    @Flag(help: "Print JSON: one array with an object per address (see smtpd-tables(8), JSON OUTPUT).")
    var json = false

    @Argument(help: "The recipient addresses, or - to read them from standard input, one per line.")
    var addresses: [String]

    func validate() throws {
        guard !addresses.isEmpty else { throw ValidationError("give at least one address") }
    }

    func run() throws {
        let resolutions: [Resolution]
        let selection = try versionOptions.selection()
        do {
            let config = try SMTPDConfig.load(path: file, options: .init(smtpdVersion: selection.version))
            let sender = SenderContext(source: source, rdns: rdns, mailFrom: mailFrom, authenticatedUser: auth)
            var host = HostFacts.system()
            if let hostname { host.hostname = hostname }
            var options = Resolver.Options(host: host, sender: sender, homeRoot: homeRoot)
            options.smtpdVersion = selection.version
            let resolver = try Resolver(config: config, options: options)
            resolutions = try ResolveCommand.recipients(addresses).map { a throws(TableError) in try resolver.resolve(a) }
        } catch {
            Output.warn("\(error)")
            throw ExitCode(2)
        }
        if json {
            var writer = JSONArrayWriter(smtpdVersion: selection.version)
            for r in resolutions { writer.append(ResolveCommand.jsonFields(r)) }
            writer.finish()
        } else {
            // The text's only control character of its own is the LF.
            var out = OutputBuffer()
            out.appendText(VersionOptions.banner(selection) + "\n" + resolutions.map(ResolveCommand.text).joined(separator: "\n"))
            out.flush()
        }
        if resolutions.contains(where: { !$0.accepted }) { throw ExitCode(1) }
    }

    /// The addresses to resolve: the arguments, or with `-` the lines of standard input (blank lines skipped).
    static func recipients(_ arguments: [String]) -> [String] {
        guard arguments == ["-"] else { return arguments }
        var reader = LineReader()
        var lines: [String] = []
        while let line = reader.next() {
            let blank: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
            guard let first = line.firstIndex(where: { !blank($0) }),
                  let last = line.lastIndex(where: { !blank($0) }) else { continue }
            lines.append(String(decoding: line[first...last], as: UTF8.self))
        }
        return lines
    }

    // MARK: text

    static func text(_ r: Resolution) -> String {
        var s = "\(r.address): " + (r.accepted ? "accepted" : "rejected: \(r.reply ?? "")") + "\n"
        if let reason = r.reason { s += "  why: \(reason)\n" }
        if let rule = r.rule { s += "  rule: \(rule)\n" } else if !r.accepted { s += "  rule: none matched\n" }
        var children: [Int: [ResolutionNode]] = [:]
        for n in r.nodes { children[n.parent ?? -1, default: []].append(n) }
        func walk(_ n: ResolutionNode, _ indent: String) {
            var line = "\(indent)\(n.kind.rawValue) \(n.value)"
            if let t = n.table { line += "  (\(t)\(n.key.map { ":\($0)" } ?? ""))" }
            if let a = n.action { line += "  -> action \(a)" }
            if n.kind == .address, n.rule != nil, n.action == nil { line += "  -> reject" }
            if n.duplicate { line += "  [duplicate, discarded]" }
            if n.id == r.failedNode { line += "  [failed here]" }
            s += line + "\n"
            // The keys tried, for the node that failed (every node's are in the JSON).
            if n.id == r.failedNode, !n.lookups.isEmpty {
                s += "\(indent)  tried: " + n.lookups.map { "\($0.table):\($0.key) (\($0.result.rawValue))" }
                    .joined(separator: ", ") + "\n"
            }
            for c in children[n.id] ?? [] { walk(c, indent + "  ") }
        }
        if !r.nodes.isEmpty { s += "  tree:\n" }
        for root in children[-1] ?? [] { walk(root, "    ") }
        if !r.deliveries.isEmpty { s += r.accepted ? "  deliveries:\n" : "  deliveries (not queued):\n" }
        for d in r.deliveries {
            switch d {
            case .user(let name, let sub, let action):
                s += "    user \(name)\(sub.isEmpty ? "" : " (subaddress \(sub))")  via \(action)"
            case .file(let path, let user, let action): s += "    file \(path) as \(user)  via \(action)"
            case .filter(let cmd, let user, let action): s += "    filter \"\(cmd)\" as \(user)  via \(action)"
            case .relay(let address, let action): s += "    relay to \(address)  via \(action)"
            }
            if let refusal = r.refusals.first(where: { $0.delivery == d }) {
                s += "  [the mda refuses it: \"\(refusal.message)\", a bounce]"
            }
            s += "\n"
        }
        return s
    }

    // MARK: JSON

    static func lookupObject(_ l: ResolutionLookup) -> JSONValue {
        .object([("table", .string(l.table)), ("key", .string(l.key)), ("result", .string(l.result.rawValue))])
    }

    /// One object per address (fields in the man page, smtpd-tables(8), JSON OUTPUT).
    static func jsonFields(_ r: Resolution) -> [(String, JSONValue)] {
        let deliveries = r.deliveries.map { d -> JSONValue in
            var object = deliveryObject(d)
            if case .object(var f) = object, let refusal = r.refusals.first(where: { $0.delivery == d }) {
                f.append(("refused", .string(refusal.message)))
                object = .object(f)
            }
            return object
        }
        func deliveryObject(_ d: Delivery) -> JSONValue {
            switch d {
            case .user(let name, let sub, let action):
                return .object([("type", .string("user")), ("user", .string(name)), ("subaddress", .string(sub)),
                                ("action", .string(action))])
            case .file(let path, let user, let action):
                return .object([("type", .string("file")), ("path", .string(path)), ("user", .string(user)),
                                ("action", .string(action))])
            case .filter(let cmd, let user, let action):
                return .object([("type", .string("filter")), ("command", .string(cmd)), ("user", .string(user)),
                                ("action", .string(action))])
            case .relay(let address, let action):
                return .object([("type", .string("relay")), ("address", .string(address)), ("action", .string(action))])
            }
        }
        let tree = r.nodes.map { n -> JSONValue in
            var fields: [(String, JSONValue)] = [
                ("id", .int(n.id)), ("parent", n.parent.map { .int($0) } ?? .null), ("kind", .string(n.kind.rawValue)),
                ("value", .string(n.value)), ("depth", .int(n.depth)), ("table", .optional(n.table)),
                ("key", .optional(n.key)),
            ]
            if let rule = n.rule { fields.append(("rule", .string(rule))) }
            if let action = n.action { fields.append(("action", .string(action))) }
            if n.duplicate { fields.append(("duplicate", .bool(true))) }
            fields.append(("lookups", .array(n.lookups.map(lookupObject))))
            return .object(fields)
        }
        var fields: [(String, JSONValue)] = [("address", .string(r.address)), ("accepted", .bool(r.accepted))]
        if let reply = r.reply { fields.append(("error", .string(reply))) }
        fields.append(("failedNode", r.failedNode.map { .int($0) } ?? .null))
        fields.append(("reason", .optional(r.reason)))
        // The keys tried for the node that failed (each node has its own in `tree`).
        let failedLookups = r.failedNode.flatMap { f in r.nodes.first { $0.id == f } }?.lookups ?? []
        fields.append(("lookups", .array(failedLookups.map(lookupObject))))
        fields += [
            ("code", .int(r.code)), ("rule", .optional(r.rule)), ("action", .optional(r.action)),
            ("deliveries", .array(deliveries)), ("tree", .array(tree)),
        ]
        return fields
    }
}
