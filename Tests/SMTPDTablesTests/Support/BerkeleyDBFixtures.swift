import Foundation
@testable import SMTPDTables

/// A test helper's own failure.
struct BDBTestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Small helpers shared by the Berkeley DB tests.
enum BDBFixtures {
    /// The bytes of `text`.
    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    /// The bytes of `text` and a NUL, as makemap stores keys and values.
    static func z(_ text: String) -> [UInt8] { Array(text.utf8) + [0] }

    /// Every record of `db`, copied out of libdb's buffers.
    static func records(_ db: BerkeleyDB) throws -> [[UInt8]: [UInt8]] {
        var all: [[UInt8]: [UInt8]] = [:]
        var duplicates = 0
        try db.forEachRecord { key, value in
            if all.updateValue(Array(value), forKey: Array(key)) != nil { duplicates += 1 }
            return true
        }
        if duplicates > 0 { throw BDBTestFailure("a cursor walk returned \(duplicates) keys twice") }
        return all
    }

    /// Every record in walk order, copied.
    static func orderedRecords(_ db: BerkeleyDB) throws -> [([UInt8], [UInt8])] {
        var all: [([UInt8], [UInt8])] = []
        try db.forEachRecord { key, value in
            all.append((Array(key), Array(value)))
            return true
        }
        return all
    }

    /// The records makemap stores for a simple mapping source (`key value` lines, no comments,
    /// no continuation): folded key + NUL -> value + NUL; with `set`, key + NUL -> `<set>` + NUL.
    static func makemapRecords(_ lines: [String], set: Bool = false) -> [[UInt8]: [UInt8]] {
        var all: [[UInt8]: [UInt8]] = [:]
        for line in lines {
            let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
            let key = z(parts[0].lowercased())
            all[key] = set ? z("<set>") : z(parts.count > 1 ? parts[1] : "")
        }
        return all
    }

    /// Writes `records` with ours, in `order`, into a new file.
    static func write(_ records: [([UInt8], [UInt8])], to path: String,
                      method: BerkeleyDB.AccessMethod) throws {
        let db = try BerkeleyDB.create(at: path, method: method)
        for (key, value) in records {
            if try db.put(key, value) != .inserted { throw BDBTestFailure("duplicate key \(key)") }
        }
        try db.close()
    }

    static var dbDump: String? { TestSupport.system("db5.3_dump") }
    static var dbLoad: String? { TestSupport.system("db5.3_load") }
}
