import Foundation
import Testing
@testable import SMTPDTables

/// Every layout of hash and btree file that libdb writes and the real makemap reads, read here too: all page
/// sizes from 512 bytes to 64 KiB, with and without page checksums (`db5.3_load -c db_pagesize=N -c chksum=1`),
/// with records small, large (overflow pages) and many (several pages). The page checks stay as strict: a
/// checksummed file with a damaged item index is still refused.
@Suite("BerkeleyDB: page sizes and checksums")
struct DBPageLayoutTests {
    static let dbLoad = TestSupport.system("db5.3_load")

    /// Records of varied sizes: short, a few spanning several pages (overflow items), enough to fill pages.
    static func records(seed: Int) -> [(String, String)] {
        var generator = SeededGenerator(seed: UInt64(seed))
        return (0..<600).map { i in
            let length = i % 97 == 0 ? 70_000 : Int.random(in: 1...120, using: &generator)
            return ("k\(i)", String(repeating: "v\(i % 10)", count: max(1, length / 2)))
        }
    }

    /// The `db5.3_load -T` input for `records`: key and value lines in turn, each with the trailing NUL makemap
    /// writes (`\00` in db_load's text escapes).
    static func loadInput(_ records: [(String, String)]) -> String {
        records.map { "\($0.0)\\00\n\($0.1)\\00\n" }.joined()
    }

    @Test(.enabled(if: dbLoad != nil, "needs db5.3_load (db5.3-util)"),
          arguments: [512, 1024, 4096, 16384, 65536], [false, true])
    func everyPageSizeWithAndWithoutChecksums(pageSize: Int, checksum: Bool) throws {
        try TestSupport.withTemporaryDirectory { dir in
            let records = Self.records(seed: pageSize + (checksum ? 1 : 0))
            let input = try TestSupport.write(Self.loadInput(records), to: "input", in: dir)
            for method in ["hash", "btree"] {
                let path = "\(dir)/\(method).db"
                var arguments = ["-T", "-t", method, "-c", "db_pagesize=\(pageSize)", "-f", input]
                if checksum { arguments += ["-c", "chksum=1"] }
                let load = try TestSupport.run(try #require(Self.dbLoad), arguments + [path])
                try #require(load.status == 0, "db5.3_load: \(load.stderr)")
                let table = try Table(path: path, backend: .db)
                #expect(table.count == records.count, "\(method) \(pageSize) checksum \(checksum)")
                for (key, value) in records where Int(key.dropFirst())! % 37 == 0 {
                    #expect(try table.lookup(key)?.value == value, "\(method) \(pageSize) \(key)")
                }
                // The real makemap reads the same file to the same records.
                if let makemap = TestSupport.realMakemap, method == "hash" {
                    let dump = try TestSupport.run(makemap, ["-U", path])
                    #expect(dump.status == 0)
                    #expect(Set(dump.stdout.split(separator: "\n").map(String.init))
                            == Set(records.map { "\($0.0)\t\($0.1)" }))
                }
            }
        }
    }

    /// A checksummed hash file whose first item offset points outside its page: refused, as before.
    @Test(.enabled(if: dbLoad != nil, "needs db5.3_load (db5.3-util)"))
    func damagedChecksummedPageIsStillRefused() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let input = try TestSupport.write(Self.loadInput([("a", "b"), ("c", "d")]), to: "input", in: dir)
            let path = dir + "/ck.db"
            let load = try TestSupport.run(try #require(Self.dbLoad),
                                           ["-T", "-t", "hash", "-c", "chksum=1", "-c", "db_pagesize=512", "-f", input, path])
            try #require(load.status == 0, "db5.3_load: \(load.stderr)")
            #expect(try Table(path: path, backend: .db).count == 2)
            var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            // Every data page of the file: its first item offset (little-endian at 32) set past the page end.
            var damaged = 0
            for page in stride(from: 512, to: bytes.count, by: 512) where bytes[page + 25] == 13 || bytes[page + 25] == 2 {
                if bytes[page + 20] > 0 { bytes[page + 32] = 0xFF; bytes[page + 33] = 0x7F; damaged += 1 }
            }
            try #require(damaged > 0)
            let broken = try TestSupport.write(bytes: bytes, to: "broken.db", in: dir)
            #expect(throws: TableError.self) { try Table(path: broken, backend: .db) }
        }
    }
}
