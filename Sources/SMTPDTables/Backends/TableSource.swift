/// One backend of tables: how its entries are read into a snapshot (upstream's `struct table_backend`, one per
/// `table_*.c`). Each backend is one type in its own file, and one line in `TableSources.all`.
protocol TableSource: Sendable {
    /// The backend as smtpd.conf names it (`file:`, `db:`).
    static var backend: TableBackend { get }
    /// Whether lookups check the file and reload it when it changed (smtpd does for db:; file: tables are
    /// reloaded by `smtpctl update table` only).
    static var reloadsOnChange: Bool { get }
    /// Reads every entry of the table at `path`.
    static func load(path: String, options: TableOptions) throws(TableError) -> TableSnapshot
    /// Whether the file at `path` is in this backend's format, for a bare path (read a few bytes at most).
    static func recognises(path: String) -> Bool
}

/// The backends this library reads, by name.
enum TableSources {
    /// Every backend, in the order a bare path is tried: the first that recognises the file reads it
    /// (`file` recognises anything, so it comes last).
    static let all: [any TableSource.Type] = [DBTable.self, PasswdTable.self, FileTable.self]

    /// The names of the backends, for messages.
    static var names: [String] { all.map { $0.backend.name } }

    /// The backend named `name` (`file`, `db`), nil for one this library does not read.
    static func source(named name: String) -> (any TableSource.Type)? {
        all.first { $0.backend.name == name }
    }

    /// The backend that reads the file at a bare `path`.
    static func detect(path: String) -> any TableSource.Type {
        all.first { $0.recognises(path: path) } ?? FileTable.self
    }
}
