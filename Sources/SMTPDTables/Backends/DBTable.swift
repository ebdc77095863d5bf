/// The `db:` backend (upstream table_db.c). Filled in by the db issue.
enum DBTable {
    static func load(path: String, delimiter: UInt8) throws(TableError) -> TableRecords {
        throw TableError(.usage, path: path, "db: tables are not supported yet")
    }

    /// Whether the file starts like a Berkeley DB file (hash or btree magic), for guessing a bare path's kind.
    static func looksLikeDB(path: String) -> Bool { false }
}
