import Foundation
import Testing
@testable import SMTPDTables

/// Database files FuzzDBFile (Fuzz/Sources/FuzzDBFile) found crashing libdb 5.3 behind the db: reader, kept as
/// the fuzzer wrote them (a file is mostly zeros: `sparse` rebuilds it from its non-zero runs). libdb trusts
/// the pages it reads; `BerkeleyDB.open(readingFrom:)` now checks what libdb would trust (the meta page's page
/// size and btree minkey, every page's type and number) before `DB->open`, and runs `DB->verify` on the file
/// before any cursor or lookup reads it. Each file must give a `.format` TableError, not a crash.
@Suite("fuzz findings: db files")
struct DBFileFuzzTests {
    /// A file of `size` bytes, zero but for `runs` (offset, bytes).
    static func sparse(_ size: Int, _ runs: [(Int, [UInt8])]) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: size)
        for (offset, run) in runs { bytes.replaceSubrange(offset..<offset + run.count, with: run) }
        return bytes
    }

    /// The db: table error for `bytes` written to a file, and the same for smtpd's way of opening it (hash).
    static func errors(_ bytes: [UInt8]) throws -> (table: TableError?, hash: BerkeleyDBError?) {
        try TestSupport.withTemporaryDirectory { dir in
            let path = try TestSupport.write(bytes: bytes, to: "fuzz.db", in: dir)
            var tableError: TableError?
            do { _ = try Table(path: path, backend: .db) } catch let e as TableError { tableError = e }
            var hashError: BerkeleyDBError?
            do { _ = try BerkeleyDB.open(readingFrom: path, as: .hash) } catch let e as BerkeleyDBError { hashError = e }
            return (tableError, hashError)
        }
    }

    /// A btree meta page with a page size of 0 (offset 20): `DB->open` divided by it (SIGFPE in
    /// `__memp_fopen`; db5.3_dump dies the same way on this file).
    @Test("a meta page with page size 0 is refused before DB->open")
    func pageSizeZero() throws {
        let file = Self.sparse(1024, [
            (4, [0x01]),
            (12, [0x62, 0x31, 0x05, 0x00, 0x09]),
            (542, [0xd0, 0x01, 0xc8, 0x01, 0x00, 0x5b]),
            (564, [0x2c, 0x22, 0xf8, 0x00, 0x00, 0xfe, 0x00, 0x00, 0x2b, 0x48, 0x53, 0x31, 0x00, 0x28]),
            (588, [0x02]),
            (596, [0x20, 0x00, 0x00, 0x00, 0x01]),
            (968, [0x05, 0x00, 0x01, 0x72, 0x6f, 0x6f, 0x74, 0x00, 0x12, 0x00, 0x01, 0x61, 0x62, 0x75, 0x73, 0x65, 0x40,
                   0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2e, 0x6f, 0x72, 0x67]),
            (1000, [0x04, 0x00, 0x01, 0x62, 0x6f, 0x62, 0x00, 0x00, 0x0d, 0x00, 0x01, 0x40, 0x65, 0x78, 0x61, 0x6d, 0x70,
                    0x6c, 0x65, 0x2e, 0x6f, 0x72, 0x67]),
        ])
        let (table, hash) = try Self.errors(file)
        #expect(table?.kind == .format)
        #expect(table?.message == "not a usable database: bad page size 0 in the meta page")
        #expect(hash?.isFormatError == true)
    }

    /// A one-page btree whose meta page says minkey 0 (offset 76): the first cursor (DB->stat in the length
    /// check) divided by it (SIGFPE in `__bamc_refresh`; db5.3_dump dies the same way).
    @Test("a btree meta page with minkey 0 is refused before a cursor divides by it")
    func minkeyZero() throws {
        let file = Self.sparse(512, [
            (4, [0x01]),
            (12, [0x62, 0x31, 0x05, 0x00, 0x09]),
            (21, [0x02, 0x00, 0x00, 0x00, 0x09]),
            (32, [0x01]),
            (52, [0x2c, 0x22, 0xf8, 0x00, 0x00, 0xfe, 0x00, 0x00, 0x2b, 0x48, 0x53, 0x31, 0x00, 0x28]),
            (83, [0x01, 0x20, 0x00, 0x00, 0x00, 0x01]),
            (321, [0x35, 0x39, 0x30, 0x2e, 0x31, 0x36, 0x38, 0x2e, 0x31, 0x2e, 0x30, 0x2f]),
            (358, [0x80]),
            (456, [0x05, 0x00, 0x01, 0x72, 0x6f, 0x6f, 0x74, 0x00, 0x12, 0x00, 0x01, 0x61, 0x62, 0x75, 0x73, 0x65, 0x40,
                   0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2e, 0x6f, 0x72, 0x67]),
            (488, [0x04, 0x00, 0x01, 0x62, 0x6f, 0x62, 0x00, 0x00, 0x0d, 0x00, 0x01, 0x40, 0x65, 0x78, 0x61, 0x6d, 0x70,
                   0x6c, 0x65, 0x2e, 0x6f, 0x72, 0x67]),
        ])
        let (table, hash) = try Self.errors(file)
        #expect(table?.kind == .format)
        #expect(table?.message == "not a usable database: bad btree minkey 0 in the meta page")
        #expect(hash?.isFormatError == true)
    }

    /// A makemap `-t set` hash file whose page 2 was turned into a heap page (type 15, number 0): the cursor
    /// walk read it as a hash page and crashed (SIGSEGV), and `DB->verify` sent it to the heap checker, which
    /// freed a buffer twice (`__heap_vrfy`; db5.3_verify aborts on this file).
    @Test("a page of another access method's type is refused before libdb reads it")
    func heapPageInHashFile() throws {
        let file = Self.sparse(12288, [
            (4, [0x01]),
            (12, [0x61, 0x15, 0x06, 0x00, 0x09]),
            (21, [0x10, 0x00, 0x00, 0x00, 0x08]),
            (32, [0x02]),
            (52, [0x01, 0x25, 0xf8, 0x00, 0x00, 0xfe, 0x00, 0x00, 0x25, 0x26, 0xbd, 0x84, 0xe7, 0x27]),
            (72, [0x01, 0x00, 0x00, 0x00, 0x01]),
            (88, [0x03, 0x00, 0x00, 0x00, 0xd1, 0x8d, 0x68, 0x5e, 0x01, 0x00, 0x00, 0x00, 0x01]),
            (4100, [0x01, 0x00, 0x00, 0x00, 0x01]),
            (4116, [0x02, 0x00, 0xec, 0x0f, 0x00, 0x0d, 0xf3, 0x0f, 0xec, 0x0f]),
            (5737, [0x08]),
            (8170, [0x01, 0x3c, 0x73, 0x65, 0x74, 0x3e, 0x00, 0x01, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2e, 0x6f,
                    0x72, 0x67]),
            (8194, [0x01, 0x00, 0x00, 0x00, 0x02]),
            (8210, [0x04, 0x00, 0xd5, 0x0f, 0x00, 0x0d, 0xf0, 0x0f, 0xe9, 0x0f, 0xdc, 0x0f, 0xd5, 0x0f]),
            (8242, [0x07, 0x22, 0xf8, 0x00, 0x00, 0xfe, 0x00, 0x00, 0x7b, 0xd6, 0xc1, 0xbf, 0xfb, 0x27]),
            (8262, [0x01, 0x00, 0x00, 0x00, 0x01]),
            (8282, [0xd1, 0x8d, 0x68, 0x5e, 0x01, 0x00, 0x00, 0x00, 0x01]),
            (12245, [0x01, 0x3c, 0x73, 0x65, 0x74, 0x3e, 0x00, 0x01, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2e, 0x6e,
                     0x65, 0x74, 0x00, 0x01, 0x3c, 0x73, 0x65, 0x74, 0x3e, 0x00, 0x01, 0x31, 0x39, 0x32, 0x2e, 0x31, 0x36,
                     0x38, 0x2e, 0x31, 0x2e, 0x30, 0x2f, 0x32, 0x34]),
        ])
        let (table, hash) = try Self.errors(file)
        #expect(table?.kind == .format)
        #expect(table?.message == "not a usable database: page 2 has type 15")
        #expect(hash?.isFormatError == true)
    }

    /// A two-page btree (db5.3_load with 512-byte pages of `@example.org bob`, `abuse@example.org root`),
    /// intact and with the leaf's first item offset pointing past the page (0xfff0): page headers are fine,
    /// so only `DB->verify` sees it; without it the cursor reads outside the page.
    static func btree(firstItemOffset high: UInt8) -> [UInt8] {
        sparse(1024, [
            (4, [0x01]),
            (12, [0x62, 0x31, 0x05, 0x00, 0x09]),
            (21, [0x02, 0x00, 0x00, 0x00, 0x09]),
            (32, [0x01]),
            (52, [0x2c, 0x22, 0xf8, 0x00, 0x00, 0xfe, 0x00, 0x00, 0x2b, 0x48, 0x53, 0x31, 0x00, 0x28]),
            (76, [0x02]),
            (84, [0x20, 0x00, 0x00, 0x00, 0x01]),
            (516, [0x01, 0x00, 0x00, 0x00, 0x01]),
            (532, [0x04, 0x00, 0xc8, 0x01, 0x01, 0x05, 0xf0, high, 0xe8, 0x01, 0xd0, 0x01, 0xc8, 0x01]),
            (564, [0x2c, 0x22, 0xf8, 0x00, 0x00, 0xfe, 0x00, 0x00, 0x2b, 0x48, 0x53, 0x31, 0x00, 0x28]),
            (588, [0x02]),
            (596, [0x20, 0x00, 0x00, 0x00, 0x01]),
            (968, [0x05, 0x00, 0x01, 0x72, 0x6f, 0x6f, 0x74, 0x00, 0x12, 0x00, 0x01, 0x61, 0x62, 0x75, 0x73, 0x65, 0x40,
                   0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2e, 0x6f, 0x72, 0x67]),
            (1000, [0x04, 0x00, 0x01, 0x62, 0x6f, 0x62, 0x00, 0x00, 0x0d, 0x00, 0x01, 0x40, 0x65, 0x78, 0x61, 0x6d, 0x70,
                    0x6c, 0x65, 0x2e, 0x6f, 0x72, 0x67]),
        ])
    }

    @Test("an item offset outside its page is refused by DB->verify; the intact file loads")
    func badItemOffset() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let good = try TestSupport.write(bytes: Self.btree(firstItemOffset: 0x01), to: "good.db", in: dir)
            let table = try Table(path: good, backend: .db)
            #expect(table.count == 2)
            #expect(try table.lookup("abuse@example.org")?.value == "root")
            #expect(try table.lookup("@example.org")?.value == "bob")
            let bad = try TestSupport.write(bytes: Self.btree(firstItemOffset: 0xff), to: "bad.db", in: dir)
            // db5.3_verify judges the same two files.
            if let verify = TestSupport.system("db5.3_verify") {
                #expect(try TestSupport.run(verify, ["-q", good]).status == 0)
                #expect(try TestSupport.run(verify, ["-q", bad]).status != 0)
            }
            let error = #expect(throws: TableError.self) { try Table(path: bad, backend: .db) }
            #expect(error?.kind == .format)
            #expect(error?.message.hasPrefix("not a usable database:") == true)
        }
    }

    /// A three-level btree of 512-byte pages (200 keys through our writer), its root page, and where the
    /// root's item N keeps its child's page number.
    static func threeLevelBtree(in dir: String) throws -> (bytes: [UInt8], root: Int, childPointer: (Int) -> Int) {
        let path = dir + "/tree.db"
        let db = try BerkeleyDB.create(at: path, method: .btree, options: .init(pageSize: 512))
        for i in 0..<200 { _ = try db.put(Array("user\(i)@example.org".utf8) + [0], Array("mailbox \(i)".utf8) + [0]) }
        try db.close()
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let root = u32(bytes, 88)
        // The root is an internal page (P_IBTREE): item offsets follow its 26-byte header, and an item holds
        // its child's page number at byte 4.
        return (bytes, root, { root * 512 + (Int(bytes[root * 512 + 26 + 2 * $0]) | Int(bytes[root * 512 + 27 + 2 * $0]) << 8) + 4 })
    }

    static func u32(_ bytes: [UInt8], _ at: Int) -> Int {
        Int(bytes[at]) | Int(bytes[at + 1]) << 8 | Int(bytes[at + 2]) << 16 | Int(bytes[at + 3]) << 24
    }

    /// The root's second child pointer turned into the root's own number: DB->verify recursed without end
    /// (`__bam_vrfy_subtree`, a stack overflow; db5.3_verify dies the same way on this file). Also a child
    /// linked from two items, which the verifier would walk twice.
    @Test("a btree page that is its own descendant, or linked twice, is refused before DB->verify")
    func btreeCycle() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let (bytes, root, childPointer) = try Self.threeLevelBtree(in: dir)
            #expect(bytes[root * 512 + 25] == 3 && bytes[root * 512 + 24] >= 2, "the root is an internal page")
            let intact = try TestSupport.write(bytes: bytes, to: "intact.db", in: dir)
            #expect(try Table(path: intact, backend: .db).count == 200)

            func withChild(_ item: Int, pointingTo page: Int) -> [UInt8] {
                var patched = bytes
                for k in 0..<4 { patched[childPointer(item) + k] = UInt8(truncatingIfNeeded: page >> (8 * k)) }
                return patched
            }
            let first = Self.u32(bytes, childPointer(0)), second = Self.u32(bytes, childPointer(1))
            #expect(second != root && second != first)
            let (cycle, cycleHash) = try Self.errors(withChild(1, pointingTo: root))
            #expect(cycle?.kind == .format)
            #expect(cycle?.message == "not a usable database: btree page \(root) is its own descendant")
            #expect(cycleHash?.isFormatError == true)
            let (twice, _) = try Self.errors(withChild(1, pointingTo: first))
            #expect(twice?.message == "not a usable database: btree page \(first) is linked twice")
        }
    }

    /// A meta page that says the database is partitioned (DBMETA_PART_RANGE in its flags byte, 26): DB->open
    /// looked for the partition keys by descending the tree, and looped for ever on a root whose children were
    /// zeroed pages. Both are refused before libdb opens the file.
    @Test("a partitioned or compressed database, or a child page that is not one level down, is refused")
    func btreeLevelsAndPartitions() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let (bytes, root, childPointer) = try Self.threeLevelBtree(in: dir)
            var partitioned = bytes
            partitioned[26] |= 0x02
            let (partition, partitionHash) = try Self.errors(partitioned)
            #expect(partition?.message == "not a usable database: partitioned database")
            #expect(partitionHash?.isFormatError == true)
            // BTM_COMPRESS in the flags word (offset 48): the cursor's decompression trusted the record lengths
            // (ASan: heap-buffer-overflow in __bamc_compress_get).
            var compressed = bytes
            compressed[48] |= 0x80
            let (compression, _) = try Self.errors(compressed)
            #expect(compression?.message == "not a usable database: compressed btree")

            let child = Self.u32(bytes, childPointer(0))
            var zeroed = bytes
            zeroed.replaceSubrange(child * 512..<(child + 1) * 512, with: repeatElement(0, count: 512))
            let level = bytes[root * 512 + 24]
            let (table, _) = try Self.errors(zeroed)
            #expect(table?.message == "not a usable database: btree page \(child) has level 0 under page \(root) at level \(level)")
        }
    }

    /// A two-pair hash table (makemap's format, 512-byte pages through our writer) whose page holding the
    /// pairs claims one more item than it has: libdb's cursor took the missing item's length from the index
    /// slot after the last, copied from past the page (ASan: heap-buffer-overflow in `__db_retcopy`), and
    /// `DB->verify` passed the file (db5.3_verify does too).
    @Test("a hash page with an odd item count or items out of place is refused before a cursor reads it")
    func hashItemLayout() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let path = dir + "/hash.db"
            let db = try BerkeleyDB.create(at: path, method: .hash, options: .init(pageSize: 512))
            _ = try db.put(Array("root".utf8) + [0], Array("alice".utf8) + [0])
            _ = try db.put(Array("bob".utf8) + [0], Array("bob@example.org".utf8) + [0])
            try db.close()
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            #expect(try Table(path: try TestSupport.write(bytes: bytes, to: "intact.db", in: dir), backend: .db).count == 2)
            // The first P_HASH page (type 13 at byte 25) holding items.
            let page = try #require((1..<bytes.count / 512).first { bytes[$0 * 512 + 25] == 13 && bytes[$0 * 512 + 20] > 0 })
            var odd = bytes
            odd[page * 512 + 20] += 1
            let (oddError, oddHash) = try Self.errors(odd)
            #expect(oddError?.message == "not a usable database: odd number of hash items (\(odd[page * 512 + 20])) on page \(page)")
            #expect(oddHash?.isFormatError == true)
            var swapped = bytes
            // Items out of order: the first item's offset below the second's.
            swapped.swapAt(page * 512 + 26, page * 512 + 28)
            swapped.swapAt(page * 512 + 27, page * 512 + 29)
            let (order, _) = try Self.errors(swapped)
            #expect(order?.message.hasPrefix("not a usable database: hash item 1 at") == true)
            #expect(order?.message.hasSuffix("out of place on page \(page)") == true)
        }
    }
}
