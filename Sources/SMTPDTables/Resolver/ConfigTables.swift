/// Supplies tables that the library does not read itself: an embedding program that talks to LDAP, SQL or a
/// `table-*` program gives the resolver its tables this way (or replaces a file: or db: table with its own).
public protocol TableProvider: Sendable {
    /// The table for `declaration`, or nil to let the library open it (file:, db: and inline tables).
    func table(for declaration: TableDeclaration) throws(TableError) -> Table?
}

/// The tables of a configuration opened for lookups, each once, plus smtpd's built-in ones
/// (`<localnames>`, `<localhost>`, `<anyhost>`, `<anydestination>`; config.c `config_default`).
final class ConfigTables: Sendable {
    let config: SMTPDConfig
    private let provider: (any TableProvider)?
    private let opened: Locked<[String: Table]>
    /// The smtpd release whose table reading is reproduced.
    let version: SMTPDVersion

    init(config: SMTPDConfig, host: HostFacts, provider: (any TableProvider)?,
         version: SMTPDVersion = .newest) throws(TableError) {
        self.config = config
        self.provider = provider
        self.version = version
        let delimiter = config.subaddressingDelimiter
        func list(_ name: String, _ keys: [String]) -> Table {
            Table(entries: keys.map { (key: $0, value: nil) }, kind: .list, name: name, subaddressDelimiter: delimiter)
        }
        // Before 7.5 (upstream commit 23bb908b) each address was also added bracketed, as an address literal
        // (IPv6 ones, already bracketed, twice more: `[[::1]]` and `[ipv6:[::1]]`).
        var localnames = ["localhost", host.hostname]
        for address in host.localAddresses {
            localnames.append(address)
            if version.has(.ipLiteralRelayed) { continue }
            localnames.append("[\(address)]")
            if address.hasPrefix("[") { localnames.append("[ipv6:\(address)]") }
        }
        opened = Locked([
            "<localnames>": list("<localnames>", localnames),
            "<localhost>": list("<localhost>", ["local"] + host.localAddresses),
            "<anyhost>": list("<anyhost>", ["local", "0.0.0.0/0", "::/0"]),
            "<anydestination>": list("<anydestination>", ["*"]),
        ])
    }

    /// The table a reference names, opened on first use. Two threads asking for the same new table may both
    /// open it; the first one stored is kept, so every later lookup shares one table.
    func table(_ reference: TableReference) throws(TableError) -> Table {
        if let t = opened.withLock({ $0[reference.name] }) { return t }
        guard let declaration = config.table(reference) else {
            throw TableError(.config, path: config.path, "undefined table <\(reference.name)>")
        }
        let table = try open(declaration)
        return opened.withLock { tables in
            if let first = tables[reference.name] { return first }
            tables[reference.name] = table
            return table
        }
    }

    func table(named name: String) throws(TableError) -> Table { try table(.named(name)) }

    private func open(_ declaration: TableDeclaration) throws(TableError) -> Table {
        if let provider, let supplied = try provider.table(for: declaration) { return supplied }
        let options = TableOptions(subaddressDelimiter: config.subaddressingDelimiter, version: version)
        if case .inline = declaration.backend {
            return Table(entries: declaration.entries.map { (key: $0.key, value: $0.value) }, name: declaration.name,
                         subaddressDelimiter: options.subaddressDelimiter)
        }
        // `idx:` is this package's own proc: helper (table-idx): the path is read as it reads it.
        if declaration.backend == .other(ProcServer.helperBackend) {
            return try Table(path: declaration.config ?? "", backend: nil, options: options)
        }
        guard TableSources.source(named: declaration.backend.name) != nil else {
            throw TableError(.usage, path: declaration.location.file, line: declaration.location.line,
                             "table <\(declaration.name)>: backend \(declaration.backend.name) is not read by this "
                             + "library (it reads \(TableSources.names.joined(separator: ", ")) and inline tables)")
        }
        return try Table(path: declaration.config ?? "", backend: declaration.backend, options: options)
    }
}
