/// Reading a Berkeley DB map record by record, as `makemap -U` does (makemap.c `dump_db`).
public enum DBDump {
    /// Walks every record of the database at `path` in its own order (hash: libdb's bucket order; btree:
    /// sorted), giving the raw key and value bytes as stored (trailing NULs included), valid only during `body`.
    ///
    /// - Parameters:
    ///   - path: the database file.
    ///   - method: the access method to open the file as; upstream opens it as the `-d` type (hash by
    ///     default) and fails on a file of the other kind. `nil` detects it.
    ///   - body: called with each record's key and value.
    /// - Throws: upstream's wording without the program name: `dbopen: PATH: Invalid argument`,
    ///   `db->seq: PATH: ...`.
    public static func forEachRecord(path: String, method: DBAccessMethod?,
                                     _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> Void) throws(TableError) {
        let db: BerkeleyDB
        do {
            db = try BerkeleyDB.open(readingFrom: path, as: method)
        } catch {
            throw TableError(.io, "dbopen: \(path): \(error.message)")
        }
        do {
            try db.forEachRecord { key, value in
                body(key, value)
                return true
            }
            try db.close()
        } catch let error as BerkeleyDBError {
            throw TableError(.io, "db->seq: \(path): \(error.message)")
        } catch {
            throw TableError(.io, "db->seq: \(path): \(error)")
        }
    }
}
