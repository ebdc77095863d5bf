#if canImport(Glibc)
import Glibc
#endif

/// Writes a loaded table in another format (`smtpd-tables convert`): a file: table, or a db: map in
/// makemap's record format (key + NUL -> value + NUL, list entries as `<set>`), hash or btree.
///
/// The entries written are those smtpd sees (`Table.entries`: the last of each repeated key). The new file
/// replaces the target atomically (`AtomicFile`); when the table came from a file, the new one takes its mode
/// and owner, as makemap does. A file table is written as `key value` lines, or `# @list` and one key per line
/// for a list (also for a db whose every value is `<set>`); entries the file grammar cannot hold unchanged (a
/// key with blanks, `:` or capitals, a value with a line break or surrounding blanks, ...) are refused with an
/// error naming the key, rather than written differently.
public enum TableExport {
    /// What to write.
    public enum Format: Sendable, Equatable {
        case file
        case db(DBAccessMethod)
    }

    /// Writes every entry of `table` to `target` in `format`; returns the number of entries written.
    @discardableResult
    public static func write(_ table: Table, to target: String, format: Format) throws(TableError) -> Int {
        var attributes: AtomicFile.Attributes?
        if table.backend == .file || table.backend == .db, FileStamp.of(path: table.path) != nil {
            attributes = try? AtomicFile.Attributes(ofFileAt: table.path)
        }
        do {
            let count = try AtomicFile.replace(target, attributes: attributes) { temporaryPath in
                switch format {
                case .file: return try writeFile(table, to: temporaryPath, name: target)
                case .db(let method): return try writeDB(table, to: temporaryPath, method: method)
                }
            }
            AtomicFile.removeStaleTemporaries(for: target)
            return count
        } catch let error as TableError {
            throw error
        } catch {
            throw TableError(.io, path: target, "\(error)")
        }
    }

    private static func writeDB(_ table: Table, to path: String, method: DBAccessMethod) throws(TableError) -> Int {
        let db: BerkeleyDB
        do {
            db = try BerkeleyDB.create(at: path, method: method,
                                       options: BerkeleyDB.CreateOptions(cacheSize: 128 << 20))
        } catch {
            throw error.tableError
        }
        var count = 0
        var key: [UInt8] = [], value: [UInt8] = []
        do {
            try table.forEachEntry { k, v in
                key.removeAll(keepingCapacity: true)
                key.append(contentsOf: k)
                key.append(0)
                value.removeAll(keepingCapacity: true)
                if let v { value.append(contentsOf: v) } else { value.append(contentsOf: "<set>".utf8) }
                value.append(0)
                try db.put(key, value, overwrite: true)
                count += 1
            }
            try db.close()
        } catch let error as BerkeleyDBError {
            throw error.tableError
        } catch {
            throw TableError(.io, path: path, "\(error)")
        }
        return count
    }

    private static let setValue = Array("<set>".utf8)

    private static func writeFile(_ table: Table, to path: String, name: String) throws(TableError) -> Int {
        var isList = table.kind == .list
        if !isList, table.count > 0 {
            var allSets = true
            table.forEachEntry { _, v in if let v, !v.elementsEqual(setValue) { allSets = false } }
            isList = allSets
        }
        var out: [UInt8] = []
        if isList { out.append(contentsOf: "# @list\n".utf8) }
        var failure: TableError?
        table.forEachEntry { k, v in
            guard failure == nil else { return }
            if let reason = isList ? listKeyProblem(k) : mappingProblem(k, v) {
                failure = TableError(.format, path: name,
                                     "entry '\(String(lossyBytes: Array(k)))' cannot be written to a file table: \(reason)")
                return
            }
            out.append(contentsOf: k)
            if !isList, let v {
                out.append(0x20)
                out.append(contentsOf: v)
            }
            out.append(0x0A)
        }
        if let failure { throw failure }
        try AtomicFile.writeAll(out, to: path, name: name)
        return table.count
    }

    private static func isFolded(_ k: ArraySlice<UInt8>) -> Bool { !k.contains(where: { $0 &- 0x41 < 26 }) }

    /// Why a key of a list cannot be a line of a file table unchanged, or nil.
    private static func listKeyProblem(_ k: ArraySlice<UInt8>) -> String? {
        guard let first = k.first, let last = k.last else { return "empty key" }
        if isCSpace(first) || isCSpace(last) { return "blanks around the key" }
        if k.contains(0x0A) || k.contains(0) { return "line break or NUL in the key" }
        if first == UInt8(ascii: "#") { return "the key starts with '#'" }
        if first == UInt8(ascii: "["), !k.contains(UInt8(ascii: "]")) { return "'[' without ']'" }
        if !isFolded(k) { return "capitals in the key (a file table folds keys)" }
        return nil
    }

    /// Why an entry of a mapping cannot be a `key value` line of a file table unchanged, or nil.
    private static func mappingProblem(_ k: ArraySlice<UInt8>, _ v: ArraySlice<UInt8>?) -> String? {
        guard let first = k.first else { return "empty key" }
        if first == UInt8(ascii: "#") { return "the key starts with '#'" }
        if first == UInt8(ascii: "[") {
            guard let close = k.firstIndex(of: UInt8(ascii: "]")), close == k.endIndex - 1 else {
                return "a '[' key must end at its first ']'"
            }
        } else if k.contains(where: { isCSpace($0) || $0 == UInt8(ascii: ":") || $0 == 0 }) {
            return "blanks, ':' or NUL in the key"
        }
        if k.contains(0x0A) || k.contains(0) { return "line break or NUL in the key" }
        if !isFolded(k) { return "capitals in the key (a file table folds keys)" }
        guard let v, let vf = v.first, let vl = v.last else { return "no value" }
        if isCSpace(vf) || isCSpace(vl) { return "blanks around the value" }
        if v.contains(0x0A) || v.contains(0) { return "line break or NUL in the value" }
        return nil
    }
}
