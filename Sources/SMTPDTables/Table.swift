/// One entry found by a lookup.
///
/// It holds slices of the table's storage (no copy is made by a lookup); the String and Array forms are
/// built when asked for.
public struct TableMatch: Sendable, Equatable {
    /// The raw bytes of the key as stored (folded to lower case); for pattern services, the pattern that matched.
    public var keySlice: ArraySlice<UInt8>
    /// The raw bytes of the value, byte for byte (not necessarily UTF-8); nil for list entries.
    public var valueSlice: ArraySlice<UInt8>?
    /// The line of the table file the entry came from (file: tables only).
    public var line: Int?

    public init(keySlice: ArraySlice<UInt8>, valueSlice: ArraySlice<UInt8>?, line: Int?) {
        self.keySlice = keySlice
        self.valueSlice = valueSlice
        self.line = line
    }

    /// The key as a String (invalid UTF-8 replaced).
    public var key: String { String(lossyBytes: keySlice) }
    /// The value as a String (invalid UTF-8 replaced); nil for list entries.
    public var value: String? { valueSlice.map { String(lossyBytes: $0) } }
    /// The key's bytes as an array.
    public var keyBytes: [UInt8] { Array(keySlice) }
    /// The value's bytes as an array; nil for list entries.
    public var valueBytes: [UInt8]? { valueSlice.map(Array.init) }
}

/// How a table is read: the settings that change what its entries mean.
public struct TableOptions: Sendable, Equatable {
    /// The sub-addressing delimiter used by the mailaddr service (smtpd's `smtp sub-addr-delim`, default `+`).
    public var subaddressDelimiter: UInt8
    /// The smtpd release whose reading is reproduced (file: tables: its line grammar; see Versions.swift).
    public var version: SMTPDVersion

    public init(subaddressDelimiter: UInt8 = UInt8(ascii: "+"), version: SMTPDVersion = .newest) {
        self.subaddressDelimiter = subaddressDelimiter
        self.version = version
    }
}

/// An OpenSMTPD table (`file:` or `db:`, or any backend of `TableSources`) loaded for lookups with smtpd's
/// exact semantics.
///
/// ```swift
/// let vusers = try Table("file:/etc/mail/vusers")
/// if let hit = try vusers.lookup("alice@example.org", service: .mailaddr) { print(hit.key) }
/// if case .alias(let nodes)? = try aliases.value(for: "root", service: .alias) { ... }
/// ```
/// Keys are folded to lower case, exact services hash the key, and pattern services (domain, mailaddr,
/// netaddr) go through indexes that give the same answer as smtpd's walk over every entry; where several
/// entries match, the smallest key in byte order is reported.
///
/// A `Table` is a handle on the current `TableSnapshot` and is safe to share between threads: a reload
/// loads a new snapshot beside the old one and swaps it in at once, so a lookup sees the old entries or the
/// new ones, never a mix; a lookup that is already running finishes on the snapshot it started with.
public final class Table: Sendable {
    public let backend: TableBackend
    public let path: String
    public let options: TableOptions
    /// The sub-addressing delimiter used by the mailaddr service (smtpd's `smtp sub-addr-delim`, default `+`).
    public var subaddressDelimiter: UInt8 { options.subaddressDelimiter }

    private struct State {
        var snapshot: TableSnapshot
        var stamp: FileStamp?
        var reloadsOnChange: Bool
        var lastReloadError: TableError?
        /// Set while one thread reloads: the others keep answering from the snapshot in use meanwhile.
        var reloading = false
    }
    private let state: Locked<State>
    /// How the entries are read again on reload (nil for tables that have no file).
    private let source: (any TableSource.Type)?

    /// Whether lookups first check the file's mtime and reload a changed file, as smtpd does for db: tables.
    /// A reload that fails during a lookup keeps the entries already loaded and is tried again at the next
    /// lookup, as smtpd keeps its open handle when reopening fails (table_db.c `table_db_update`): a map
    /// being rewritten in place (`cp new.db map.db`) is answered from the old entries, not with errors.
    public var reloadsOnChange: Bool {
        get { state.withLock { $0.reloadsOnChange } }
        set { state.withLock { $0.reloadsOnChange = newValue } }
    }

    /// Why the last reload attempted by a lookup failed; nil when it succeeded or none was needed. The
    /// entries in use are then still those of the last successful load.
    public var lastReloadError: TableError? { state.withLock { $0.lastReloadError } }

    /// The entries in use now. Lookups on a snapshot never reload: hold one to answer several questions from
    /// the same version of the table.
    public var snapshot: TableSnapshot { state.withLock { $0.snapshot } }

    /// Opens a table named as smtpd.conf names it: `file:PATH`, `db:PATH`, `passwd:PATH` (or any backend of
    /// `TableSources`), `idx:PATH` (read as the bare path), or a bare path (a Berkeley DB file is read as `db:`, anything else as `file:`).
    public convenience init(_ spec: String, options: TableOptions = TableOptions()) throws(TableError) {
        let (backend, path) = Table.split(spec: spec)
        try self.init(path: path, backend: backend, options: options)
    }

    /// The `init(_:options:)` form with the sub-addressing delimiter alone.
    public convenience init(_ spec: String, subaddressDelimiter: UInt8) throws(TableError) {
        try self.init(spec, options: TableOptions(subaddressDelimiter: subaddressDelimiter))
    }

    /// Opens the table at `path` with the given backend (nil: guess from the file's content).
    public convenience init(path: String, backend: TableBackend? = nil,
                            subaddressDelimiter: UInt8 = UInt8(ascii: "+")) throws(TableError) {
        try self.init(path: path, backend: backend, options: TableOptions(subaddressDelimiter: subaddressDelimiter))
    }

    /// Opens the table at `path` with the given backend (nil: guess from the file's content).
    public init(path: String, backend: TableBackend?, options: TableOptions) throws(TableError) {
        let source: any TableSource.Type
        if let backend {
            guard let known = TableSources.source(named: backend.name) else {
                throw TableError(.usage, path: path, "backend \(backend.name) is not read by this library "
                                 + "(it reads \(TableSources.names.joined(separator: ", ")))")
            }
            source = known
        } else {
            source = TableSources.detect(path: path)
            // smtpd reads a bare path ending in .db as a db: table: text there is a mistake, not a table.
            if path.hasSuffix(".db"), source.backend != .db, SystemFile.status(path) != nil {
                throw TableError(.format, path: path, "not a Berkeley DB file (a bare .db path is read as db:, as "
                                 + "smtpd reads it; name it file:\(path) to read it as text)")
            }
        }
        self.backend = source.backend
        self.path = path
        self.options = options
        self.source = source
        let stamp = FileStamp.of(path: path)
        let snapshot = try source.load(path: path, options: options)
        state = Locked(State(snapshot: snapshot, stamp: stamp, reloadsOnChange: source.reloadsOnChange))
    }

    /// Wraps a snapshot made elsewhere (inline tables, tables an embedding program builds).
    init(snapshot: TableSnapshot, backend: TableBackend, name: String, options: TableOptions) {
        self.backend = backend
        path = name
        self.options = options
        source = nil
        state = Locked(State(snapshot: snapshot, stamp: nil, reloadsOnChange: false))
    }

    /// Parses table text held in memory as a `file:` table (for tests and tools that build tables).
    public convenience init(contents: [UInt8], name: String = "<memory>", subaddressDelimiter: UInt8 = UInt8(ascii: "+")) throws(TableError) {
        let options = TableOptions(subaddressDelimiter: subaddressDelimiter)
        self.init(snapshot: try FileTable.snapshot(parsing: contents, path: name, options: options), backend: .file,
                  name: name, options: options)
    }

    /// Builds a table from entries already split into key and value, as smtpd fills an inline table of
    /// smtpd.conf (`{ a, b }` or `{ k = v }`; table_static.c `table_static_add`): keys are folded to lower
    /// case and kept byte for byte otherwise (`:`, spaces and `#` included), a repeated key keeps its last
    /// value. `kind` nil lets the first entry decide (a value: mapping); entries of the other shape, and keys
    /// over smtpd's 1023-byte limit, are dropped as smtpd drops them. `name` is the table's name in errors.
    public convenience init(entries: [(key: String, value: String?)], kind: TableKind? = nil,
                            name: String = "<memory>", subaddressDelimiter: UInt8 = UInt8(ascii: "+")) {
        self.init(byteEntries: entries.map { (Array($0.key.utf8), $0.value.map { Array($0.utf8) }) }, kind: kind,
                  name: name, subaddressDelimiter: subaddressDelimiter)
    }

    /// The byte form of `init(entries:kind:name:subaddressDelimiter:)`.
    convenience init(byteEntries: [(key: [UInt8], value: [UInt8]?)], kind preset: TableKind? = nil, name: String,
                     subaddressDelimiter: UInt8 = UInt8(ascii: "+")) {
        let options = TableOptions(subaddressDelimiter: subaddressDelimiter)
        self.init(snapshot: TableSnapshot(byteEntries: byteEntries, kind: preset, options: options), backend: .inline,
                  name: name, options: options)
    }

    /// Splits `BACKEND:PATH` for the backends this library reads; anything else is a bare path.
    static func split(spec: String) -> (TableBackend?, String) {
        guard let colon = spec.firstIndex(of: ":") else { return (nil, spec) }
        // `idx:PATH` (this package's proc: helper, as smtpd.conf names it) reads PATH as a bare path.
        if spec[..<colon] == ProcServer.helperBackend { return (nil, String(spec[spec.index(after: colon)...])) }
        guard let source = TableSources.source(named: String(spec[..<colon])) else { return (nil, spec) }
        return (source.backend, String(spec[spec.index(after: colon)...]))
    }

    /// List or mapping (db: tables are mappings; `makemap -t set` values are `<set>`).
    public var kind: TableKind { snapshot.kind }

    /// The number of distinct keys.
    public var count: Int { snapshot.count }

    /// Reloads the table if its file changed since it was read. Returns whether it did. On failure the
    /// entries already loaded stay in use and the error is thrown.
    @discardableResult
    public func reloadIfChanged() throws(TableError) -> Bool {
        guard let source else { return false }
        let now = FileStamp.of(path: path)
        guard now != state.withLock({ $0.stamp }) else { return false }
        let fresh = try source.load(path: path, options: options)
        state.withLock {
            $0.snapshot = fresh
            $0.stamp = now
        }
        return true
    }

    /// Reads the table's file again whether or not it changed (`smtpctl update table`). On failure the entries
    /// already loaded stay in use and the error is thrown.
    public func reload() throws(TableError) {
        guard let source else { return }
        let now = FileStamp.of(path: path)
        let fresh = try source.load(path: path, options: options)
        state.withLock {
            $0.snapshot = fresh
            $0.stamp = now
            $0.lastReloadError = nil
        }
    }

    /// Finds the entry for `key` as `service` would (default: exact key). Returns nil when nothing matches.
    /// Throws when the key is over smtpd's 1023-byte limit. A changed file that fails to reload is answered
    /// from the entries already loaded (see `reloadsOnChange`, `lastReloadError`).
    public func lookup(_ key: String, service: TableService = .string) throws(TableError) -> TableMatch? {
        try lookup(bytes: Array(key.utf8), service: service)
    }

    /// The byte form of `lookup(_:service:)`.
    public func lookup(bytes key: [UInt8], service: TableService = .string) throws(TableError) -> TableMatch? {
        try currentSnapshot().lookup(bytes: key, service: service)
    }

    /// Whether anything matches, without building a result (smtpd's `table_match`).
    public func contains(_ key: String, service: TableService = .string) throws(TableError) -> Bool {
        try currentSnapshot().contains(bytes: Array(key.utf8), service: service)
    }

    /// The byte form of `contains(_:service:)`.
    public func contains(bytes key: [UInt8], service: TableService = .string) throws(TableError) -> Bool {
        try currentSnapshot().contains(bytes: key, service: service)
    }

    /// The typed value smtpd would get for `key`: alias nodes, credentials, user info, ... Throws an error
    /// naming the file and line when the entry's value is not valid for `service`.
    public func value(for key: String, service: TableService) throws(TableError) -> LookupValue? {
        guard let m = try lookup(key, service: service) else { return nil }
        return try value(of: m, service: service)
    }

    /// The typed value of a match this table returned; throws an error naming the file and line when the
    /// entry's value is not valid for `service`.
    public func value(of m: TableMatch, service: TableService) throws(TableError) -> LookupValue {
        do {
            return try LookupValue.make(service: service, match: m)
        } catch {
            var e = error
            e.path = path
            e.line = m.line
            // A password table looked up as something else: say what is wrong without quoting the secret.
            if service != .credentials, let value = m.valueSlice, Credentials.looksSecret(value) {
                e.message = "the value of \(m.key) is not valid for the \(service.rawValue) service (not shown: it looks "
                    + "like a password or a hash)"
            }
            throw e
        }
    }

    /// Every entry in force (the last of each key), in file order.
    public var entries: [TableMatch] { snapshot.entries }

    /// The raw form of `entries` for fast tools: (key, value) byte slices in file order.
    public func forEachEntry(_ body: (ArraySlice<UInt8>, ArraySlice<UInt8>?) throws -> Void) rethrows {
        try snapshot.forEachEntry(body)
    }

    /// The snapshot a lookup answers from: first, for tables that reload on change, a changed file is loaded
    /// and swapped in; when that fails, the entries already loaded keep answering (as smtpd keeps its open
    /// handle) and `lastReloadError` says why. One thread reloads at a time; the others answer from the
    /// snapshot in use until the new one is in place.
    private func currentSnapshot() -> TableSnapshot {
        guard let source else { return snapshot }
        let (current, check) = state.withLock { s -> (TableSnapshot, Bool) in (s.snapshot, s.reloadsOnChange && !s.reloading) }
        guard check else { return current }
        let now = FileStamp.of(path: path)
        let changed = state.withLock { s -> Bool in
            guard now != s.stamp, !s.reloading else {
                if now == s.stamp { s.lastReloadError = nil }
                return false
            }
            s.reloading = true
            return true
        }
        guard changed else { return state.withLock { $0.snapshot } }
        let result = Result { () throws(TableError) in try source.load(path: path, options: options) }
        return state.withLock { s in
            s.reloading = false
            switch result {
            case .success(let fresh):
                s.snapshot = fresh
                s.stamp = now
                s.lastReloadError = nil
            case .failure(let error):
                s.lastReloadError = error
            }
            return s.snapshot
        }
    }

    /// The reference walk, for verification and benchmarks: the same answer as `lookup(_:service:)`, found
    /// the way smtpd finds it, by testing every entry with the service's match function (linear in the table's
    /// size; use `lookup` for real work). Not part of the API: `@_spi(Reference) import SMTPDTables`.
    @_spi(Reference)
    public func lookupByScan(bytes key: [UInt8], service: TableService = .string) throws(TableError) -> TableMatch? {
        try TableSnapshot.checkKeyLength(key)
        let s = currentSnapshot()
        return s.scan(key.asciiLowercased(), service: service).map(s.match)
    }

    /// The reference answer by a walk over every entry, as smtpd computes it (for checking the indexes).
    func scanReference(_ key: [UInt8], service: TableService) -> TableMatch? {
        let s = snapshot
        return s.scan(key.asciiLowercased(), service: service).map(s.match)
    }
}
