import Foundation
import Testing
@testable import SMTPDTables

/// Compatibility with the real OpenSMTPD makemap (Debian's 6.8, which writes libdb 5.3 files through
/// the db 1.85 `dbopen` interface): we read what it writes, and what we write dumps identically.
@Suite("BerkeleyDB and the real makemap", .enabled(if: TestSupport.realMakemap != nil))
struct BerkeleyDBMakemapTests {
    /// A mapping source: mixed-case keys (makemap folds them), values with spaces and punctuation.
    /// Enough lines for the hash table to split buckets and use several pages.
    static let mappingLines: [String] = {
        var lines = ["Root john", "Postmaster root", "ALICE bob@example.org, carol@example.net",
                     "abuse |/usr/bin/handler --flag", "quoted \"a b\" c"]
        for i in 0..<400 { lines.append("User\(i)@Example\(i % 7).org local\(i) extra\(i * 31)") }
        return lines
    }()

    // No `:include:` value here: 6.8's parser eats the leading colon (spec section 5), 7.8 keeps it.
    static let aliasLines = ["root: john", "postmaster: root", "Team: alice, bob@example.org, /var/mail/team",
                             "devnull: /dev/null"]

    static let setLines = ["example.org", "Example.NET", "mx.example.com", "[::1]"]

    static func source(_ lines: [String]) -> String { lines.joined(separator: "\n") + "\n" }

    /// `makemap ARGS SOURCE -o OUT`, which must succeed.
    static func realMakemap(_ arguments: [String], source: String, output: String) throws {
        guard let makemap = TestSupport.realMakemap else { throw BDBTestFailure("no makemap") }
        let result = try TestSupport.run(makemap, arguments + ["-o", output, source])
        if result.status != 0 { throw BDBTestFailure("makemap failed: \(result.stderr)") }
    }

    /// The `key<TAB>value` lines of `makemap -U` on `path`.
    static func makemapDump(_ path: String, btree: Bool = false) throws -> String {
        guard let makemap = TestSupport.realMakemap else { throw BDBTestFailure("no makemap") }
        let result = try TestSupport.run(makemap, ["-U"] + (btree ? ["-d", "btree"] : []) + [path])
        if result.status != 0 { throw BDBTestFailure("makemap -U failed: \(result.stderr)") }
        return result.stdout
    }

    // MARK: Reading what makemap writes

    @Test func readsAPlainHashMap() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let src = try TestSupport.write(Self.source(Self.mappingLines), to: "map", in: dir)
            try Self.realMakemap([], source: src, output: dir + "/map.db")
            let db = try BerkeleyDB.open(readingFrom: dir + "/map.db")
            #expect(db.accessMethod == .hash)
            let expected = BDBFixtures.makemapRecords(Self.mappingLines)
            #expect(try BDBFixtures.records(db) == expected)
            #expect(try db.count() == expected.count)
            for (key, value) in expected { #expect(try db.get(key) == value) }
            // The same file opened as smtpd does (always hash).
            let asHash = try BerkeleyDB.open(readingFrom: dir + "/map.db", as: .hash)
            #expect(try asHash.get(BDBFixtures.z("root")) == BDBFixtures.z("john"))
        }
    }

    @Test func readsASet() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let src = try TestSupport.write(Self.source(Self.setLines), to: "set", in: dir)
            try Self.realMakemap(["-t", "set"], source: src, output: dir + "/set.db")
            let db = try BerkeleyDB.open(readingFrom: dir + "/set.db")
            #expect(try BDBFixtures.records(db) == BDBFixtures.makemapRecords(Self.setLines, set: true))
        }
    }

    @Test func readsAnAliasesMap() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let src = try TestSupport.write(Self.source(Self.aliasLines), to: "aliases", in: dir)
            try Self.realMakemap(["-t", "aliases"], source: src, output: dir + "/aliases.db")
            let db = try BerkeleyDB.open(readingFrom: dir + "/aliases.db")
            var expected: [[UInt8]: [UInt8]] = [:]
            for line in Self.aliasLines {
                let parts = line.split(separator: ": ", maxSplits: 1).map(String.init)
                expected[BDBFixtures.z(parts[0].lowercased())] = BDBFixtures.z(parts[1])
            }
            #expect(try BDBFixtures.records(db) == expected)
        }
    }

    @Test func readsABtreeMapAndDetectsItsType() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let src = try TestSupport.write(Self.source(Self.mappingLines), to: "map", in: dir)
            try Self.realMakemap(["-d", "btree"], source: src, output: dir + "/map.db")
            let db = try BerkeleyDB.open(readingFrom: dir + "/map.db")
            #expect(db.accessMethod == .btree)
            #expect(try BDBFixtures.records(db) == BDBFixtures.makemapRecords(Self.mappingLines))
            // btree walks in key order, as `makemap -U -d btree` prints.
            let keys = try BDBFixtures.orderedRecords(db).map { $0.0 }
            #expect(keys == keys.sorted { $0.lexicographicallyPrecedes($1) })
            // smtpd opens db tables as hash: a btree file is refused with a format error, no crash.
            let error = #expect(throws: BerkeleyDBError.self) {
                try BerkeleyDB.open(readingFrom: dir + "/map.db", as: .hash)
            }
            #expect(error?.isFormatError == true)
            #expect(error?.tableError.description
                    == "\(dir)/map.db: not a usable database: unexpected file type or format")
        }
    }

    @Test func readsAnEmptyMap() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let src = try TestSupport.write("", to: "empty", in: dir)
            try Self.realMakemap([], source: src, output: dir + "/empty.db")
            let db = try BerkeleyDB.open(readingFrom: dir + "/empty.db")
            #expect(db.accessMethod == .hash)
            #expect(try db.count() == 0)
            #expect(try BDBFixtures.records(db).isEmpty)
            #expect(try db.get(BDBFixtures.z("anything")) == nil)
        }
    }

    // MARK: Writing what makemap reads

    /// Builds the same source with the real makemap and with ours (same records, same order),
    /// then compares `makemap -U` and `db5.3_dump -p` of both.
    func compareWithRealMakemap(lines: [String], set: Bool, method: BerkeleyDB.AccessMethod) throws {
        try TestSupport.withTemporaryDirectory { dir in
            let src = try TestSupport.write(Self.source(lines), to: "src", in: dir)
            var arguments: [String] = []
            if set { arguments += ["-t", "set"] }
            if method == .btree { arguments += ["-d", "btree"] }
            let theirs = dir + "/theirs.db", ours = dir + "/ours.db"
            try Self.realMakemap(arguments, source: src, output: theirs)

            // makemap's record format, in source order (what a makemap writer will do).
            let records: [([UInt8], [UInt8])] = lines.map { line in
                let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
                return (BDBFixtures.z(parts[0].lowercased()),
                        set ? BDBFixtures.z("<set>") : BDBFixtures.z(parts.count > 1 ? parts[1] : ""))
            }
            try BDBFixtures.write(records, to: ours, method: method)

            let ourDump = try Self.makemapDump(ours, btree: method == .btree)
            #expect(ourDump == (try Self.makemapDump(theirs, btree: method == .btree)))
            #expect(ourDump.split(separator: "\n").count == lines.count)
            if let dbDump = BDBFixtures.dbDump {
                let ourRaw = try TestSupport.run(dbDump, ["-p", ours])
                let theirRaw = try TestSupport.run(dbDump, ["-p", theirs])
                #expect(ourRaw.status == 0)
                #expect(ourRaw.stdout == theirRaw.stdout)
            }
        }
    }

    @Test(arguments: BerkeleyDB.AccessMethod.allCases)
    func ourMapDumpsLikeTheRealOne(method: BerkeleyDB.AccessMethod) throws {
        try compareWithRealMakemap(lines: Self.mappingLines, set: false, method: method)
    }

    @Test func ourSetDumpsLikeTheRealOne() throws {
        try compareWithRealMakemap(lines: Self.setLines, set: true, method: .hash)
    }

    @Test func ourEmptyMapDumpsLikeTheRealOne() throws {
        try compareWithRealMakemap(lines: [], set: false, method: .hash)
    }

    /// Records written by other tools without makemap's trailing NUL (here db5.3_load) read back as
    /// they are: the wrapper hands out bytes and adds or strips nothing.
    @Test(.enabled(if: BDBFixtures.dbLoad != nil))
    func readsRecordsWithoutTrailingNul() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let load = try #require(BDBFixtures.dbLoad)
            let path = dir + "/loaded.db"
            let input = "key\nvalue\nOther\nx y\n"  // -T: keys and values on alternate lines
            let result = try TestSupport.run(load, ["-T", "-t", "hash", path], stdin: Data(input.utf8))
            #expect(result.status == 0)
            let db = try BerkeleyDB.open(readingFrom: path)
            #expect(try BDBFixtures.records(db) == [BDBFixtures.bytes("key"): BDBFixtures.bytes("value"),
                                                    BDBFixtures.bytes("Other"): BDBFixtures.bytes("x y")])
        }
    }
}
