/// The tables of a configuration opened for lookups, each once, plus smtpd's built-in ones
/// (`<localnames>`, `<localhost>`, `<anyhost>`, `<anydestination>`; config.c `config_default`).
final class ConfigTables {
    let config: SMTPDConfig
    private var opened: [String: Table] = [:]

    init(config: SMTPDConfig, hostname: String, localAddresses: [String]) throws(TableError) {
        self.config = config
        let delimiter = config.subaddressingDelimiter
        func list(_ name: String, _ keys: [String]) -> Table {
            Table(entries: keys.map { (key: $0, value: nil) }, kind: .list, name: name, subaddressDelimiter: delimiter)
        }
        opened["<localnames>"] = list("<localnames>", ["localhost", hostname] + localAddresses)
        opened["<localhost>"] = list("<localhost>", ["local"] + localAddresses)
        opened["<anyhost>"] = list("<anyhost>", ["local", "0.0.0.0/0", "::/0"])
        opened["<anydestination>"] = list("<anydestination>", ["*"])
    }

    /// The table a reference names, opened on first use.
    func table(_ reference: TableReference) throws(TableError) -> Table {
        if let t = opened[reference.name] { return t }
        guard let declaration = config.table(reference) else {
            throw TableError(.config, path: config.path, "undefined table <\(reference.name)>")
        }
        let delimiter = config.subaddressingDelimiter
        let table: Table
        switch declaration.backend {
        case .file:
            table = try Table(path: declaration.path ?? "", backend: .file, subaddressDelimiter: delimiter)
        case .db:
            table = try Table(path: declaration.path ?? "", backend: .db, subaddressDelimiter: delimiter)
        case .inline:
            table = Table(entries: declaration.entries.map { (key: $0.key, value: $0.value) }, name: declaration.name,
                          subaddressDelimiter: delimiter)
        case .other(let backend):
            throw TableError(.usage, path: declaration.location.file, line: declaration.location.line,
                             "table <\(declaration.name)>: backend \(backend) is not supported by the resolver")
        }
        opened[reference.name] = table
        return table
    }

    func table(named name: String) throws(TableError) -> Table { try table(.named(name)) }
}
