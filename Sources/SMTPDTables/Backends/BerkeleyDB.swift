// The one Swift file that calls libdb (Berkeley DB 5.3) through the CBerkeleyDB module.
//
// Every wrapper names, in its doc comment, the C function it corresponds to. libdb's API is a
// table of function pointers on each handle (`db->open`, `db->get`, `dbc->get`, ...); Swift calls
// them as `db.pointee.open!(db, ...)`.
//
// On-disk compatibility with OpenSMTPD's makemap: upstream calls the db 1.85 compatibility entry
// `dbopen(path, O_TRUNC|O_RDWR, 0644, DB_HASH or DB_BTREE, NULL)`, i.e. no HASHINFO/BTREEINFO,
// which gives libdb's own defaults: host byte order, page size chosen by libdb from the file
// system's block size (4096 on ext4), no fill factor, no element-count hint. `create` with default
// `CreateOptions` produces exactly that kind of file (checked with db5.3_stat -d and db5.3_dump -p).
// Note that a hash element-count hint is recorded in the file: the hash meta page's `h_nelem`
// (shown by `db5.3_dump -p`) is the hint plus the records inserted, so a file built with a hint
// dumps with a different header line than upstream's.
//
// The pure-Swift page check that runs before `DB->open` is in BerkeleyDBPageCheck.swift: it calls no libdb
// function, so it lives apart from this wrapper.

import CBerkeleyDB
import Glibc

// MARK: - Errors

/// A failure reported by libdb (or by the system under it): the return code, libdb's text for it,
/// the C function that failed and the database file.
struct BerkeleyDBError: Error, Equatable, Sendable, CustomStringConvertible {
    /// libdb's return code: an errno value (> 0) or one of libdb's own negative codes
    /// (`DB_NOTFOUND`, `DB_KEYEXIST`, `DB_RUNRECOVERY`, ...).
    var code: Int32
    /// The C function (handle method) that failed, as libdb names it: `DB->open`, `DBC->get`, ...
    var function: String
    /// The database file concerned, if any.
    var path: String?
    /// libdb's own diagnostic for this failure, when it gave one through its error callback,
    /// e.g. `BDB0641 __db_meta_setup: FILE: unexpected file type or format`.
    var detail: String?

    init(code: Int32, function: String, path: String? = nil, detail: String? = nil) {
        self.code = code
        self.function = function
        self.path = path
        self.detail = detail
    }

    /// libdb's text for `code` (`db_strerror(3)`), which covers errno values too.
    var message: String {
        guard let text = db_strerror(code) else { return "error \(code)" }
        return String(cString: text)
    }

    /// True when the file exists but is not a database libdb can read as asked
    /// (not a db at all, truncated, or another access method than the one requested).
    var isFormatError: Bool {
        // Our open flags are valid, so EINVAL from opening means libdb did not like the file.
        if code == EINVAL, ["DB->open", "DB->get_type", "DB->verify"].contains(function) { return true }
        return code == DB_OLD_VERSION || code == DB_VERIFY_BAD || code == DB_PAGE_NOTFOUND
            || code == DB_RUNRECOVERY
    }

    var description: String {
        var text = path.map { "\($0): " } ?? ""
        text += "\(function): \(message)"
        if let detail, !detail.isEmpty { text += " (\(detail))" }
        return text
    }

    /// The same failure as the project's user-facing error: `.format` for files that are not a
    /// readable database (with libdb's reason, e.g. `not a usable database: unexpected file type or
    /// format`), `.io` otherwise (`DB->open: No such file or directory`).
    var tableError: TableError {
        guard isFormatError else { return TableError(.io, path: path, "\(function): \(message)") }
        // libdb's diagnostics read "BDBnnnn function: path: reason"; keep the reason.
        let reason = detail.flatMap { $0.split(separator: ": ").last.map(String.init) } ?? message
        return TableError(.format, path: path, "not a usable database: \(reason)")
    }
}

// MARK: - Handle

/// An open Berkeley DB database file (one `DB` handle, no environment, no transactions).
///
/// Not thread-safe (the handle is opened without `DB_THREAD`): use it from one task at a time.
/// The handle is closed by `close()` or, failing that, when the object is released.
extension DBAccessMethod {
    var dbType: DBTYPE {
        switch self {
        case .hash: return DB_HASH
        case .btree: return DB_BTREE
        }
    }
}

final class BerkeleyDB {
    /// The access methods makemap and smtpd use (one enum for the library and this layer).
    typealias AccessMethod = DBAccessMethod

    /// Tuning for a new database. `nil` fields leave libdb's default, which is what upstream
    /// makemap gets; only set what the file is meant to differ in.
    struct CreateOptions: Sendable, Equatable {
        /// Bytes of in-memory cache (`DB->set_cachesize`); libdb's default is 256 KB, far too small to
        /// build a large hash quickly. Not stored in the file.
        var cacheSize: Int?
        /// Expected number of records (`DB->set_h_nelem`, hash only). Stored in the file: the meta
        /// page's `h_nelem` becomes hint + records, so `db5.3_dump -p` headers then differ from
        /// upstream makemap's, which never sets it. Measured gain on a 1M-record build: about 10%.
        var hashElementCount: UInt32?
        /// Desired records per hash bucket (`DB->set_h_ffactor`, hash only). Stored in the file.
        var hashFillFactor: UInt32?
        /// Page size in bytes, a power of two from 512 to 65536 (`DB->set_pagesize`). Stored in the file.
        var pageSize: UInt32?

        init(cacheSize: Int? = nil, hashElementCount: UInt32? = nil, hashFillFactor: UInt32? = nil,
             pageSize: UInt32? = nil) {
            self.cacheSize = cacheSize
            self.hashElementCount = hashElementCount
            self.hashFillFactor = hashFillFactor
            self.pageSize = pageSize
        }
    }

    /// What `put` did.
    enum PutOutcome: Sendable, Equatable {
        /// The record was stored (a new key, or an existing one replaced when overwriting).
        case inserted
        /// The key was already there and nothing was changed (`DB_KEYEXIST` under `DB_NOOVERWRITE`).
        case existing
    }

    /// The file this handle was opened on.
    let path: String
    /// The database's access method (detected from the file when opened with `nil`).
    let accessMethod: AccessMethod

    private var handle: UnsafeMutablePointer<DB>?
    private let errors: ErrorSink

    private init(handle: UnsafeMutablePointer<DB>, path: String, accessMethod: AccessMethod, errors: ErrorSink) {
        self.handle = handle
        self.path = path
        self.accessMethod = accessMethod
        self.errors = errors
    }

    deinit {
        if let handle {
            _ = handle.pointee.close?(handle, 0)
        }
    }

    // MARK: Opening

    /// Opens an existing database read-only (`db_create`, `DB->set_cachesize`, then
    /// `DB->open(..., DB_UNKNOWN or the given type, DB_RDONLY, 0)` and `DB->get_type`), and refuses
    /// a file shorter than its meta page says (see `checkLength`).
    ///
    /// - Parameters:
    ///   - method: the access method the file must have, or `nil` to accept hash or btree and
    ///     detect which (smtpd opens every `db:` table as hash, so it passes `.hash`).
    ///   - cacheSize: bytes of cache, `nil` for libdb's default.
    static func open(readingFrom path: String, as method: AccessMethod? = nil,
                     cacheSize: Int? = nil) throws(BerkeleyDBError) -> BerkeleyDB {
        try BerkeleyDBPageCheck.check(path: path)
        let (db, errors) = try makeHandle(path: path)
        do throws(BerkeleyDBError) {
            if let cacheSize { try setCacheSize(db, cacheSize, path: path, errors: errors) }
            let type = method?.dbType ?? DB_UNKNOWN
            try check(db.pointee.open!(db, nil, path, nil, type, UInt32(DB_RDONLY), 0),
                      "DB->open", path, errors)
            var actual = DB_UNKNOWN
            try check(db.pointee.get_type!(db, &actual), "DB->get_type", path, errors)
            let detected: AccessMethod
            switch actual {
            case DB_HASH: detected = .hash
            case DB_BTREE: detected = .btree
            default:
                // A recno, queue or heap database: valid libdb, but not a table.
                throw BerkeleyDBError(code: EINVAL, function: "DB->get_type", path: path,
                                      detail: "not a hash or btree database")
            }
            try checkLength(db, detected, path: path, errors: errors)
            try verify(path: path)
            return BerkeleyDB(handle: db, path: path, accessMethod: detected, errors: errors)
        } catch {
            _ = db.pointee.close?(db, 0)
            throw error
        }
    }

    /// Refuses a truncated file. libdb itself opens a file cut at a page boundary and then reads the
    /// missing pages as empty ones, silently losing records; the meta page knows the page count
    /// (`DB->stat(..., DB_FAST_STAT)`: `hash_pagecnt`/`bt_pagecnt`, from the meta page only) and
    /// `DB->fd` plus fstat(2) gives the file's length.
    private static func checkLength(_ db: UnsafeMutablePointer<DB>, _ method: AccessMethod, path: String,
                                    errors: ErrorSink) throws(BerkeleyDBError) {
        var raw: UnsafeMutableRawPointer?
        try check(db.pointee.stat!(db, nil, &raw, UInt32(DB_FAST_STAT)), "DB->stat", path, errors)
        guard let raw else { return }
        defer { free(raw) }
        let pages, pageSize: UInt32
        switch method {
        case .hash:
            let stat = raw.assumingMemoryBound(to: DB_HASH_STAT.self).pointee
            (pages, pageSize) = (stat.hash_pagecnt, stat.hash_pagesize)
        case .btree:
            let stat = raw.assumingMemoryBound(to: DB_BTREE_STAT.self).pointee
            (pages, pageSize) = (stat.bt_pagecnt, stat.bt_pagesize)
        }
        var fd: Int32 = -1
        try check(db.pointee.fd!(db, &fd), "DB->fd", path, errors)
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw BerkeleyDBError(code: errno, function: "fstat", path: path) }
        let expected = Int64(pages) * Int64(pageSize)
        if Int64(st.st_size) < expected {
            throw BerkeleyDBError(code: EINVAL, function: "DB->open", path: path,
                                  detail: "truncated file (\(st.st_size) bytes, the database has \(pages) pages of \(pageSize) bytes)")
        }
    }

    /// Refuses a damaged file before any cursor or lookup reads it (`db_create`, then
    /// `DB->verify(db, path, NULL, NULL, 0)`, which always destroys its handle).
    ///
    /// libdb's access paths trust every page they read: a file with a bad page number, type or item
    /// offset (a corrupt or hostile file; the meta page alone is checked by `DB->open`) makes
    /// `DBC->get` and `DB->get` read out of bounds and crash, where `DB->verify` walks the same pages
    /// checking each one and answers `DB_VERIFY_BAD` (found by fuzzing, Fuzz/Sources/FuzzDBFile).
    /// It reads the whole file once more, about as long as a cursor walk.
    static func verify(path: String) throws(BerkeleyDBError) {
        let (db, errors) = try makeHandle(path: path)
        let rc = db.pointee.verify!(db, path, nil, nil, 0)
        if rc != 0 {
            throw BerkeleyDBError(code: rc, function: "DB->verify", path: path, detail: errors.take())
        }
    }

    /// Creates a new database for writing, or empties an existing file (an empty file made by
    /// `mkstemp` is fine): `db_create`, the `DB->set_*` calls for `options`, then
    /// `DB->open(..., DB_HASH or DB_BTREE, DB_CREATE | DB_TRUNCATE, mode)`.
    ///
    /// The file keeps its inode (libdb writes in place), so a descriptor the caller holds on it
    /// (for `fsync`, locks) stays valid. `mode` only applies when libdb creates the file.
    static func create(at path: String, method: AccessMethod, options: CreateOptions = CreateOptions(),
                       mode: mode_t = 0o644) throws(BerkeleyDBError) -> BerkeleyDB {
        let (db, errors) = try makeHandle(path: path)
        do throws(BerkeleyDBError) {
            if let cacheSize = options.cacheSize {
                try setCacheSize(db, cacheSize, path: path, errors: errors)
            }
            if let pageSize = options.pageSize {
                try check(db.pointee.set_pagesize!(db, pageSize), "DB->set_pagesize", path, errors)
            }
            if method == .hash {
                if let nelem = options.hashElementCount {
                    try check(db.pointee.set_h_nelem!(db, nelem), "DB->set_h_nelem", path, errors)
                }
                if let ffactor = options.hashFillFactor {
                    try check(db.pointee.set_h_ffactor!(db, ffactor), "DB->set_h_ffactor", path, errors)
                }
            }
            let flags = UInt32(DB_CREATE) | UInt32(DB_TRUNCATE)
            try check(db.pointee.open!(db, nil, path, nil, method.dbType, flags, Int32(mode)),
                      "DB->open", path, errors)
            return BerkeleyDB(handle: db, path: path, accessMethod: method, errors: errors)
        } catch {
            _ = db.pointee.close?(db, 0)
            throw error
        }
    }

    /// `db_create(&db, NULL, 0)` and `DB->set_errcall`, so libdb's diagnostics end up in our errors
    /// instead of on standard error.
    private static func makeHandle(path: String) throws(BerkeleyDBError) -> (UnsafeMutablePointer<DB>, ErrorSink) {
        var created: UnsafeMutablePointer<DB>?
        let rc = db_create(&created, nil, 0)
        guard rc == 0, let db = created else {
            throw BerkeleyDBError(code: rc == 0 ? ENOMEM : rc, function: "db_create", path: path)
        }
        let errors = ErrorSink()
        // A handle without an environment gets a private DB_ENV; the callback receives that.
        db.pointee.dbenv.pointee.app_private = Unmanaged.passUnretained(errors).toOpaque()
        db.pointee.set_errcall!(db) { env, _, message in
            guard let env, let sink = env.pointee.app_private, let message else { return }
            Unmanaged<ErrorSink>.fromOpaque(sink).takeUnretainedValue().last = String(cString: message)
        }
        return (db, errors)
    }

    /// `DB->set_cachesize(db, gbytes, bytes, 1)`.
    private static func setCacheSize(_ db: UnsafeMutablePointer<DB>, _ size: Int, path: String,
                                     errors: ErrorSink) throws(BerkeleyDBError) {
        let gigabyte = 1 << 30
        let clamped = max(size, 0)
        let rc = db.pointee.set_cachesize!(db, UInt32(clamped / gigabyte), UInt32(clamped % gigabyte), 1)
        try check(rc, "DB->set_cachesize", path, errors)
    }

    // MARK: Closing

    /// Flushes and closes the handle (`DB->close(db, 0)`). Further use of this object fails with
    /// `EINVAL`. Closing twice is harmless.
    func close() throws(BerkeleyDBError) {
        guard let db = handle else { return }
        handle = nil
        // DB->close discards the handle even when it fails.
        let rc = db.pointee.close!(db, 0)
        if rc != 0 { throw BerkeleyDBError(code: rc, function: "DB->close", path: path, detail: errors.take()) }
    }

    /// Writes cached pages to the file (`DB->sync(db, 0)`).
    func sync() throws(BerkeleyDBError) {
        let db = try openHandle("DB->sync")
        try Self.check(db.pointee.sync!(db, 0), "DB->sync", path, errors)
    }

    // MARK: Records

    /// Looks up one key (`DB->get(db, NULL, &key, &data, 0)`): libdb's buffer holding the value,
    /// valid until the next call on this handle, or `nil` for `DB_NOTFOUND`.
    private func lookup(_ key: UnsafeRawBufferPointer) throws(BerkeleyDBError) -> UnsafeRawBufferPointer? {
        let db = try openHandle("DB->get")
        var keyDBT = try dbt(key, "DB->get")
        var dataDBT = DBT()
        let rc = db.pointee.get!(db, nil, &keyDBT, &dataDBT, 0)
        if rc == DB_NOTFOUND { return nil }
        try Self.check(rc, "DB->get", path, errors)
        return Self.bytes(dataDBT)
    }

    /// Looks up one key and lends its value to `body` without copying (`DB->get`). `body` gets
    /// `nil` when the key is absent. The buffer is libdb's and is valid only during `body`.
    func withValue<Result, Failure: Error>(
        forKey key: UnsafeRawBufferPointer,
        _ body: (UnsafeRawBufferPointer?) throws(Failure) -> Result
    ) throws -> Result {
        let value = try lookup(key)
        return try body(value)
    }

    /// The value stored under `key`, or `nil` (`DB->get`).
    func get(_ key: UnsafeRawBufferPointer) throws(BerkeleyDBError) -> [UInt8]? {
        try lookup(key).map { Array($0) }
    }

    /// The value stored under `key`, or `nil` (`DB->get`).
    func get(_ key: [UInt8]) throws(BerkeleyDBError) -> [UInt8]? {
        try Self.withBytes(key) { (buffer) throws(BerkeleyDBError) in try lookup(buffer).map { Array($0) } }
    }

    /// Stores one record (`DB->put(db, NULL, &key, &data, DB_NOOVERWRITE)`, or flags 0 when
    /// `overwrite`). Without `overwrite` an existing key is left alone and `.existing` returned,
    /// so a writer detects duplicates without a separate lookup.
    @discardableResult
    func put(_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer,
             overwrite: Bool = false) throws(BerkeleyDBError) -> PutOutcome {
        let db = try openHandle("DB->put")
        var keyDBT = try dbt(key, "DB->put")
        var dataDBT = try dbt(value, "DB->put")
        let rc = db.pointee.put!(db, nil, &keyDBT, &dataDBT, overwrite ? 0 : UInt32(DB_NOOVERWRITE))
        if rc == DB_KEYEXIST { return .existing }
        try Self.check(rc, "DB->put", path, errors)
        return .inserted
    }

    /// Stores one record (`DB->put`); see the buffer variant.
    @discardableResult
    func put(_ key: [UInt8], _ value: [UInt8], overwrite: Bool = false) throws(BerkeleyDBError) -> PutOutcome {
        try Self.withBytes(key) { (k) throws(BerkeleyDBError) in
            try Self.withBytes(value) { (v) throws(BerkeleyDBError) in try put(k, v, overwrite: overwrite) }
        }
    }

    /// Walks every record in the database's order (hash: unspecified; btree: sorted by key)
    /// with a cursor: `DB->cursor`, `DBC->get(..., DB_NEXT)` until `DB_NOTFOUND`, `DBC->close`.
    ///
    /// `body` gets the key and the value as libdb's own buffers, valid only during the call (no
    /// copy, no allocation per record); it returns `false` to stop the walk early.
    /// Errors thrown by `body` propagate unchanged; libdb's are `BerkeleyDBError`.
    func forEachRecord(_ body: (_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws -> Bool) throws {
        let db = try openHandle("DB->cursor")
        var created: UnsafeMutablePointer<DBC>?
        try Self.check(db.pointee.cursor!(db, nil, &created, 0), "DB->cursor", path, errors)
        guard let cursor = created else {
            throw BerkeleyDBError(code: ENOMEM, function: "DB->cursor", path: path)
        }
        var closed = false
        defer { if !closed { _ = cursor.pointee.close!(cursor) } }
        var keyDBT = DBT()
        var dataDBT = DBT()
        while true {
            let rc = cursor.pointee.get!(cursor, &keyDBT, &dataDBT, UInt32(DB_NEXT))
            if rc == DB_NOTFOUND { break }
            try Self.check(rc, "DBC->get", path, errors)
            if try !body(Self.bytes(keyDBT), Self.bytes(dataDBT)) { break }
        }
        closed = true
        try Self.check(cursor.pointee.close!(cursor), "DBC->close", path, errors)
    }

    /// The number of records (`DB->stat(db, NULL, &sp, 0)`: `hash_ndata` or `bt_ndata`). This reads
    /// the whole database, like a cursor walk.
    func count() throws(BerkeleyDBError) -> Int {
        let db = try openHandle("DB->stat")
        var raw: UnsafeMutableRawPointer?
        try Self.check(db.pointee.stat!(db, nil, &raw, 0), "DB->stat", path, errors)
        guard let raw else { return 0 }
        defer { free(raw) }
        switch accessMethod {
        case .hash: return Int(raw.assumingMemoryBound(to: DB_HASH_STAT.self).pointee.hash_ndata)
        case .btree: return Int(raw.assumingMemoryBound(to: DB_BTREE_STAT.self).pointee.bt_ndata)
        }
    }

    /// True when the file's byte order differs from this machine's (`DB->get_byteswapped`).
    /// libdb reads both orders; makemap writes the host's.
    func isByteSwapped() throws(BerkeleyDBError) -> Bool {
        let db = try openHandle("DB->get_byteswapped")
        var swapped: Int32 = 0
        try Self.check(db.pointee.get_byteswapped!(db, &swapped), "DB->get_byteswapped", path, errors)
        return swapped != 0
    }

    // MARK: Helpers

    private func openHandle(_ function: String) throws(BerkeleyDBError) -> UnsafeMutablePointer<DB> {
        guard let handle else {
            throw BerkeleyDBError(code: EINVAL, function: function, path: path, detail: "database is closed")
        }
        return handle
    }

    private static func check(_ rc: Int32, _ function: String, _ path: String,
                              _ errors: ErrorSink) throws(BerkeleyDBError) {
        if rc != 0 { throw BerkeleyDBError(code: rc, function: function, path: path, detail: errors.take()) }
        // A success may follow a diagnostic that was only a warning: do not let it leak into a later error.
        errors.last = nil
    }

    /// `Array.withUnsafeBytes` keeping the typed error.
    private static func withBytes<R>(_ bytes: [UInt8],
                                     _ body: (UnsafeRawBufferPointer) throws(BerkeleyDBError) -> R) throws(BerkeleyDBError) -> R {
        let result = bytes.withUnsafeBytes { buffer in
            Result { () throws(BerkeleyDBError) -> R in try body(buffer) }
        }
        return try result.get()
    }

    /// A DBT that points at caller memory (libdb only reads keys and data passed to get/put).
    /// libdb sizes are 32-bit: a larger buffer is refused with EINVAL.
    private func dbt(_ buffer: UnsafeRawBufferPointer, _ function: String) throws(BerkeleyDBError) -> DBT {
        guard buffer.count <= Int(UInt32.max) else {
            throw BerkeleyDBError(code: EINVAL, function: function, path: path, detail: "record larger than 4 GB")
        }
        var d = DBT()
        d.data = UnsafeMutableRawPointer(mutating: buffer.baseAddress)
        d.size = UInt32(buffer.count)
        return d
    }

    /// The bytes a DBT returned by libdb points at.
    private static func bytes(_ d: DBT) -> UnsafeRawBufferPointer {
        guard let data = d.data, d.size > 0 else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: data, count: Int(d.size))
    }
}

/// Collects the last message libdb passed to the handle's error callback.
private final class ErrorSink {
    var last: String?

    func take() -> String? {
        defer { last = nil }
        return last
    }
}
