/// The `db:` backend (upstream table_db.c): a Berkeley DB file, hash or btree, read whole into a `TableSnapshot`.
///
/// Records are as makemap writes them (key + NUL, value + NUL; `-t set` values are `<set>` + NUL). One trailing
/// NUL is stripped from keys and values; records written without it (by other tools) are read as they are.
/// Every record is copied into one storage buffer while a cursor walks the file, then the handle is closed:
/// the table never keeps the file open, so a reload always opens the path anew and sees either the old file
/// or the one makemap renamed over it, never a half-written one.
///
/// Keys are kept byte for byte, not folded. makemap folds them when it writes, so this only matters for files
/// written by other tools: smtpd looks a folded key up with `DB->get`, so a key holding capitals is never
/// found by an exact service, and the same holds here; the pattern services (domain, mailaddr, netaddr) compare
/// case-insensitively in smtpd, and so they do here (`TableSnapshot.hasUnfoldedKeys`); regex keys are used as
/// written, as smtpd does. Where several entries match a pattern, the first in the database's walk order is
/// reported, as smtpd's cursor walk returns it.
///
/// smtpd opens every db: table as hash; this reader accepts hash and btree (detected from the file), so
/// `smtpd-tables` can read what `makemap -d btree` wrote.
enum DBTable: TableSource {
    static let backend = TableBackend.db
    static let reloadsOnChange = true

    /// Loads every record of the db file at `path`.
    static func load(path: String, options: TableOptions) throws(TableError) -> TableSnapshot {
        try SystemFile.requireRegular(path, what: "db file")
        let db: BerkeleyDB
        do {
            db = try BerkeleyDB.open(readingFrom: path)
        } catch {
            throw error.tableError
        }
        var storage: [UInt8] = []
        var entries: [EntrySpan] = []
        var unfolded = false
        var tooLarge = false
        do {
            try db.forEachRecord { key, value in
                let k = Self.strippingOneNUL(key)
                let v = Self.strippingOneNUL(value)
                guard storage.count + k.count + v.count < Int(UInt32.max) else {
                    tooLarge = true
                    return false
                }
                let keyStart = storage.count
                storage.append(contentsOf: k)
                let valueStart = storage.count
                storage.append(contentsOf: v)
                if !unfolded { unfolded = k.contains(where: { $0 &- 0x41 < 26 }) }
                entries.append(EntrySpan(keyStart: UInt32(keyStart), keyLength: UInt32(k.count),
                                         valueStart: UInt32(valueStart), valueLength: Int32(v.count), line: 0))
                return true
            }
            try db.close()
        } catch let error as BerkeleyDBError {
            throw error.tableError
        } catch {
            throw TableError(.io, path: path, "\(error)")
        }
        if tooLarge { throw TableError(.format, path: path, "database too large for a table (4 GiB at most)") }
        return TableSnapshot(kind: .mapping, storage: storage, entries: entries, delimiter: options.subaddressDelimiter,
                            matchOrder: .entryOrder, hasUnfoldedKeys: unfolded)
    }

    @inline(__always)
    private static func strippingOneNUL(_ bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        guard let last = bytes.last, last == 0 else { return bytes }
        return UnsafeRawBufferPointer(rebasing: bytes.dropLast())
    }

    /// Berkeley DB meta-page magic numbers (offset 12 of the first page), in either byte order.
    static let hashMagic: UInt32 = 0x061561
    static let btreeMagic: UInt32 = 0x053162

    /// Whether the file starts like a Berkeley DB hash or btree file (the meta page's magic number at offset 12,
    /// either byte order), for guessing a bare path's kind. Reads 16 bytes; false for anything unreadable.
    static func recognises(path: String) -> Bool {
        guard let header = SystemFile.header(path, count: 16) else { return false }
        let little = UInt32(header[12]) | UInt32(header[13]) << 8 | UInt32(header[14]) << 16 | UInt32(header[15]) << 24
        let big = little.byteSwapped
        return [hashMagic, btreeMagic].contains(little) || [hashMagic, btreeMagic].contains(big)
    }
}

/// The Berkeley DB access methods makemap can write (`makemap -d hash|btree`). smtpd opens every db: table
/// as hash.
public enum DBAccessMethod: String, Sendable, CaseIterable {
    case hash
    case btree
}
