/// The `file:` backend (upstream table_static.c): the whole file read at once, parsed by `TableLineParser`.
enum FileTable: TableSource {
    static let backend = TableBackend.file
    static let reloadsOnChange = false

    static func load(path: String, options: TableOptions) throws(TableError) -> TableSnapshot {
        try snapshot(parsing: try SystemFile.readRegular(path), path: path, options: options)
    }

    /// Any file can be read as text (a bare path that is no db file is a file table).
    static func recognises(path: String) -> Bool { true }

    /// Parses table text (from a file or memory; `path` names it in errors).
    static func snapshot(parsing contents: [UInt8], path: String, options: TableOptions) throws(TableError) -> TableSnapshot {
        var bytes = contents
        let parsed = try TableLineParser.parse(&bytes, path: path, grammar: .fileTable(options.version))
        return TableSnapshot(kind: parsed.kind, storage: bytes, entries: parsed.entries,
                             delimiter: options.subaddressDelimiter)
    }
}
