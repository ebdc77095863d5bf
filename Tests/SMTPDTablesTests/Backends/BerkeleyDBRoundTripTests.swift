import Foundation
import Testing
@testable import SMTPDTables

@Suite("BerkeleyDB round trips")
struct BerkeleyDBRoundTripTests {
    /// Records with the shapes tables hold: NUL-terminated text, binary bytes, an empty value,
    /// a long value (bigger than a page: overflow pages), a key without NUL.
    static let sample: [([UInt8], [UInt8])] = [
        (BDBFixtures.z("root"), BDBFixtures.z("john")),
        (BDBFixtures.z("alice"), BDBFixtures.z("bob@example.org, carol")),
        (BDBFixtures.z("empty"), BDBFixtures.z("")),
        ([0xff, 0xfe, 0x00, 0x01], [0x00, 0x80, 0xc3, 0x28]),
        (BDBFixtures.bytes("no-nul"), BDBFixtures.bytes("value without nul")),
        (BDBFixtures.z("big"), Array(repeating: UInt8(ascii: "x"), count: 10_000) + [0]),
    ]

    @Test(arguments: BerkeleyDB.AccessMethod.allCases)
    func writeThenReadEveryRecord(method: BerkeleyDB.AccessMethod) throws {
        try TestSupport.withTemporaryDirectory { dir in
            let path = dir + "/t.db"
            try BDBFixtures.write(Self.sample, to: path, method: method)

            let db = try BerkeleyDB.open(readingFrom: path)
            #expect(db.accessMethod == method)
            #expect(try db.count() == Self.sample.count)
            for (key, value) in Self.sample {
                #expect(try db.get(key) == value)
            }
            #expect(try db.get(BDBFixtures.z("missing")) == nil)
            // "root" without its NUL is another key.
            #expect(try db.get(BDBFixtures.bytes("root")) == nil)
            let all = try BDBFixtures.records(db)
            #expect(all == Dictionary(uniqueKeysWithValues: Self.sample.map { ($0.0, $0.1) }))
            #expect(try db.isByteSwapped() == false)
            try db.close()
        }
    }

    @Test(arguments: BerkeleyDB.AccessMethod.allCases)
    func putWithoutOverwriteReportsExistingAndKeepsTheFirstValue(method: BerkeleyDB.AccessMethod) throws {
        try TestSupport.withTemporaryDirectory { dir in
            let path = dir + "/t.db"
            let db = try BerkeleyDB.create(at: path, method: method)
            #expect(try db.put(BDBFixtures.z("k"), BDBFixtures.z("first")) == .inserted)
            #expect(try db.put(BDBFixtures.z("k"), BDBFixtures.z("second")) == .existing)
            #expect(try db.get(BDBFixtures.z("k")) == BDBFixtures.z("first"))
            #expect(try db.put(BDBFixtures.z("k"), BDBFixtures.z("third"), overwrite: true) == .inserted)
            #expect(try db.get(BDBFixtures.z("k")) == BDBFixtures.z("third"))
            #expect(try db.count() == 1)
            try db.sync()
            try db.close()
            // What sync/close wrote is what another reader sees.
            let reader = try BerkeleyDB.open(readingFrom: path, as: method)
            #expect(try reader.get(BDBFixtures.z("k")) == BDBFixtures.z("third"))
        }
    }

    @Test func btreeWalksInKeyOrderAndWalkStopsEarly() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let path = dir + "/t.db"
            let keys = ["delta", "alpha", "charlie", "bravo", "echo"]
            try BDBFixtures.write(keys.map { (BDBFixtures.z($0), BDBFixtures.z($0.uppercased())) },
                                  to: path, method: .btree)
            let db = try BerkeleyDB.open(readingFrom: path)
            let walked = try BDBFixtures.orderedRecords(db).map { $0.0 }
            #expect(walked == keys.sorted().map(BDBFixtures.z))
            var seen = 0
            try db.forEachRecord { _, _ in
                seen += 1
                return seen < 2
            }
            #expect(seen == 2)
            // The handle is still usable after an early stop (its cursor was closed).
            #expect(try db.get(BDBFixtures.z("echo")) == BDBFixtures.z("ECHO"))
        }
    }

    @Test func walkPassesErrorsFromTheBodyThrough() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let path = dir + "/t.db"
            try BDBFixtures.write(Self.sample, to: path, method: .hash)
            let db = try BerkeleyDB.open(readingFrom: path)
            #expect(throws: BDBTestFailure.self) {
                try db.forEachRecord { _, _ in throw BDBTestFailure("stop") }
            }
            #expect(try db.count() == Self.sample.count)
        }
    }

    @Test func withValueLendsLibdbBuffer() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let path = dir + "/t.db"
            try BDBFixtures.write(Self.sample, to: path, method: .hash)
            let db = try BerkeleyDB.open(readingFrom: path, as: .hash)
            let key = BDBFixtures.z("alice")
            let length = try key.withUnsafeBytes { k in try db.withValue(forKey: k) { $0?.count } }
            #expect(length == "bob@example.org, carol".utf8.count + 1)
            let missing = try BDBFixtures.z("nobody").withUnsafeBytes { k in
                try db.withValue(forKey: k) { $0 == nil }
            }
            #expect(missing)
        }
    }

    @Test(arguments: BerkeleyDB.AccessMethod.allCases)
    func creationOptionsAreAppliedAndStillReadable(method: BerkeleyDB.AccessMethod) throws {
        try TestSupport.withTemporaryDirectory { dir in
            let path = dir + "/t.db"
            let options = BerkeleyDB.CreateOptions(cacheSize: 8 << 20, hashElementCount: 1000,
                                                   hashFillFactor: 40, pageSize: 8192)
            let db = try BerkeleyDB.create(at: path, method: method, options: options)
            for i in 0..<2000 {
                try db.put(BDBFixtures.z("key\(i)"), BDBFixtures.z("value\(i)"))
            }
            try db.close()
            let reader = try BerkeleyDB.open(readingFrom: path, cacheSize: 1 << 20)
            #expect(reader.accessMethod == method)
            #expect(try reader.count() == 2000)
            #expect(try reader.get(BDBFixtures.z("key1999")) == BDBFixtures.z("value1999"))
            if let dump = BDBFixtures.dbDump {
                let header = try TestSupport.run(dump, ["-p", path]).stdout
                #expect(header.contains("db_pagesize=8192\n"))
                if method == .hash {
                    // The element-count hint is recorded: hint + records inserted.
                    #expect(header.contains("h_nelem=3000\n"))
                }
            }
            if method == .hash, let stat = TestSupport.system("db5.3_stat") {
                // db5.3_dump does not show the fill factor; db5.3_stat does.
                let report = try TestSupport.run(stat, ["-d", path]).stdout
                #expect(report.contains("40\tSpecified fill factor\n"))
            }
        }
    }

    @Test func createEmptiesAnExistingFile() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let path = dir + "/t.db"
            try BDBFixtures.write(Self.sample, to: path, method: .hash)
            let db = try BerkeleyDB.create(at: path, method: .hash)
            #expect(try db.count() == 0)
            try db.put(BDBFixtures.z("only"), BDBFixtures.z("one"))
            try db.close()
            #expect(try BDBFixtures.records(BerkeleyDB.open(readingFrom: path))
                    == [BDBFixtures.z("only"): BDBFixtures.z("one")])
        }
    }

    @Test func closedHandleFailsCleanly() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let path = dir + "/t.db"
            let db = try BerkeleyDB.create(at: path, method: .hash)
            try db.close()
            try db.close()
            let error = #expect(throws: BerkeleyDBError.self) { try db.get(BDBFixtures.z("k")) }
            #expect(error?.code == EINVAL)
        }
    }
}
