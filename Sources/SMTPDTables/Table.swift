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

/// An OpenSMTPD table (`file:` or `db:`) loaded for lookups with smtpd's exact semantics.
///
/// ```swift
/// let vusers = try Table("file:/etc/mail/vusers")
/// if let hit = try vusers.lookup("alice@example.org", service: .mailaddr) { print(hit.key) }
/// if case .alias(let nodes)? = try aliases.value(for: "root", service: .alias) { ... }
/// ```
/// Keys are folded to lower case, exact services hash the key, and pattern services (domain, mailaddr,
/// netaddr) go through indexes that give the same answer as smtpd's walk over every entry; where several
/// entries match, the smallest key in byte order is reported. A `Table` is not safe to share between threads.
public final class Table {
    /// Where a table's entries live.
    public enum Backend: String, Sendable {
        case file
        case db
    }

    public let backend: Backend
    public let path: String
    /// The sub-addressing delimiter used by the mailaddr service (smtpd's `smtp sub-addr-delim`, default `+`).
    public let subaddressDelimiter: UInt8
    /// Whether lookups first check the file's mtime and reload a changed file, as smtpd does for db: tables.
    /// A reload that fails during a lookup keeps the entries already loaded and is tried again at the next
    /// lookup, as smtpd keeps its open handle when reopening fails (table_db.c `table_db_update`): a map
    /// being rewritten in place (`cp new.db map.db`) is answered from the old entries, not with errors.
    public var reloadsOnChange: Bool
    /// Why the last reload attempted by a lookup failed; nil when it succeeded or none was needed. The
    /// entries in use are then still those of the last successful load.
    public private(set) var lastReloadError: TableError?

    private var records: TableRecords
    private var stamp: FileStamp?

    /// Opens a table named as smtpd.conf names it: `file:PATH`, `db:PATH`, or a bare path (a Berkeley DB file
    /// is read as `db:`, anything else as `file:`).
    public convenience init(_ spec: String, subaddressDelimiter: UInt8 = UInt8(ascii: "+")) throws(TableError) {
        let (backend, path) = Table.split(spec: spec)
        try self.init(path: path, backend: backend, subaddressDelimiter: subaddressDelimiter)
    }

    /// Opens the table at `path` with the given backend (nil: guess from the file's content).
    public init(path: String, backend: Backend? = nil, subaddressDelimiter: UInt8 = UInt8(ascii: "+")) throws(TableError) {
        let chosen = backend ?? (DBTable.looksLikeDB(path: path) ? .db : .file)
        self.backend = chosen
        self.path = path
        self.subaddressDelimiter = subaddressDelimiter
        self.reloadsOnChange = chosen == .db
        self.stamp = FileStamp.of(path: path)
        self.records = try Table.load(path: path, backend: chosen, delimiter: subaddressDelimiter)
    }

    /// Parses table text held in memory as a `file:` table (for tests and tools that build tables).
    public init(contents: [UInt8], name: String = "<memory>", subaddressDelimiter: UInt8 = UInt8(ascii: "+")) throws(TableError) {
        var bytes = contents
        let parsed = try TableLineParser.parse(&bytes, path: name)
        backend = .file
        path = name
        self.subaddressDelimiter = subaddressDelimiter
        reloadsOnChange = false
        records = TableRecords(kind: parsed.kind, storage: bytes, entries: parsed.entries, delimiter: subaddressDelimiter)
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
    init(byteEntries: [(key: [UInt8], value: [UInt8]?)], kind preset: TableKind? = nil, name: String,
         subaddressDelimiter: UInt8 = UInt8(ascii: "+")) {
        let kind = preset ?? (byteEntries.first.map { $0.value == nil ? .list : .mapping } ?? .mapping)
        var storage: [UInt8] = []
        var spans: [EntrySpan] = []
        for (key, value) in byteEntries where key.count <= TableLineParser.maxKeyLength
            && (value == nil) == (kind == .list) && storage.count + key.count + (value?.count ?? 0) < Int(Int32.max) {
            var span = EntrySpan(keyStart: UInt32(storage.count), keyLength: UInt32(key.count), valueStart: 0,
                                 valueLength: -1, line: 0)
            storage += key.asciiLowercased()
            if let value {
                span.valueStart = UInt32(storage.count)
                span.valueLength = Int32(value.count)
                storage += value
            }
            spans.append(span)
        }
        backend = .file
        path = name
        self.subaddressDelimiter = subaddressDelimiter
        reloadsOnChange = false
        records = TableRecords(kind: kind, storage: storage, entries: spans, delimiter: subaddressDelimiter)
    }

    static func split(spec: String) -> (Backend?, String) {
        if spec.hasPrefix("file:") { return (.file, String(spec.dropFirst(5))) }
        if spec.hasPrefix("db:") { return (.db, String(spec.dropFirst(3))) }
        return (nil, spec)
    }

    private static func load(path: String, backend: Backend, delimiter: UInt8) throws(TableError) -> TableRecords {
        switch backend {
        case .file: return try FileTable.load(path: path, delimiter: delimiter)
        case .db: return try DBTable.load(path: path, delimiter: delimiter)
        }
    }

    /// List or mapping (db: tables are mappings; `makemap -t set` values are `<set>`).
    public var kind: TableKind { records.kind }

    /// The number of distinct keys.
    public var count: Int { records.count }

    /// Reloads the table if its file changed since it was read. Returns whether it did. On failure the
    /// entries already loaded stay in use and the error is thrown.
    @discardableResult
    public func reloadIfChanged() throws(TableError) -> Bool {
        let now = FileStamp.of(path: path)
        guard now != stamp else { return false }
        records = try Table.load(path: path, backend: backend, delimiter: subaddressDelimiter)
        stamp = now
        return true
    }

    /// Finds the entry for `key` as `service` would (default: exact key). Returns nil when nothing matches.
    /// Throws when the key is over smtpd's 1023-byte limit. A changed file that fails to reload is answered
    /// from the entries already loaded (see `reloadsOnChange`, `lastReloadError`).
    public func lookup(_ key: String, service: TableService = .string) throws(TableError) -> TableMatch? {
        try lookup(bytes: Array(key.utf8), service: service)
    }

    /// The byte form of `lookup(_:service:)`.
    public func lookup(bytes key: [UInt8], service: TableService = .string) throws(TableError) -> TableMatch? {
        guard let index = try find(key, service: service) else { return nil }
        return match(index)
    }

    /// Whether anything matches, without building a result (smtpd's `table_match`).
    public func contains(_ key: String, service: TableService = .string) throws(TableError) -> Bool {
        try find(Array(key.utf8), service: service) != nil
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
            throw e
        }
    }

    /// Every entry in force (the last of each key), in file order.
    public var entries: [TableMatch] { records.liveEntries.map(match) }

    /// The raw form of `entries` for fast tools: (key, value) byte slices in file order.
    public func forEachEntry(_ body: (ArraySlice<UInt8>, ArraySlice<UInt8>?) throws -> Void) rethrows {
        for i in records.liveEntries { try body(records.key(i), records.value(i)) }
    }

    func find(_ key: [UInt8], service: TableService) throws(TableError) -> Int32? {
        guard key.count <= TableLineParser.maxKeyLength else {
            throw TableError(.keyTooLong, "lookup key too long (\(key.count) bytes, smtpd allows 1023)")
        }
        reloadForLookup()
        // Most queries are already lower case: fold (and copy) only those that are not.
        let folded = key.contains(where: { ($0 &- 0x41) < 26 }) ? key.asciiLowercased() : key
        return records.find(folded, service: service)
    }

    /// Before a lookup: reload a changed file; when that fails, keep answering from the entries already
    /// loaded (as smtpd keeps its open handle) and say why in `lastReloadError`.
    private func reloadForLookup() {
        guard reloadsOnChange else { return }
        do {
            try reloadIfChanged()
            lastReloadError = nil
        } catch {
            lastReloadError = error
        }
    }

    /// The reference walk, for verification and benchmarks: the same answer as `lookup(_:service:)`, found
    /// the way smtpd finds it, by testing every entry with the service's match function (linear in the table's
    /// size; use `lookup` for real work).
    public func lookupByScan(_ key: String, service: TableService = .string) throws(TableError) -> TableMatch? {
        try lookupByScan(bytes: Array(key.utf8), service: service)
    }

    /// The byte form of `lookupByScan(_:service:)`.
    public func lookupByScan(bytes key: [UInt8], service: TableService = .string) throws(TableError) -> TableMatch? {
        guard key.count <= TableLineParser.maxKeyLength else {
            throw TableError(.keyTooLong, "lookup key too long (\(key.count) bytes, smtpd allows 1023)")
        }
        reloadForLookup()
        return scanReference(key, service: service)
    }

    /// The reference answer by a walk over every entry, as smtpd computes it (for checking the indexes).
    func scanReference(_ key: [UInt8], service: TableService) -> TableMatch? {
        records.scan(key.asciiLowercased(), service: service).map(match)
    }

    private func match(_ i: Int32) -> TableMatch {
        let line = Int(records.entries[Int(i)].line)
        return TableMatch(keySlice: records.key(i), valueSlice: records.value(i), line: line > 0 ? line : nil)
    }
}
