import Foundation
import Testing
@testable import SMTPDTables

/// Our line parser against the real makemap (Debian's OpenSMTPD 6.8): build a db from a source, dump it with
/// `makemap -U`, compare the records with our parse. Inputs avoid what 6.8 reads differently from 7.8
/// (semantics.md section 5: backslash continuation, `[IPv6]` keys, runs of `:`; also `#` inside a line, which
/// 6.8's fparseln cuts as a comment, and trailing white space, which 6.8 keeps).
@Suite("Foundation: interop with the real makemap", .enabled(if: TestSupport.realMakemap != nil))
struct MakemapInteropTests {
    struct Record: Hashable, CustomStringConvertible {
        var key: [UInt8]
        var value: [UInt8]
        var description: String { "\(String(decoding: key, as: UTF8.self))=\(String(decoding: value, as: UTF8.self))" }
    }

    /// Runs the real makemap on `source` and returns its status, stderr and the dumped records.
    private func realMakemap(_ source: [UInt8], set: Bool = false) throws -> (status: Int32, stderr: String,
                                                                          records: Set<Record>) {
        let makemap = try #require(TestSupport.realMakemap)
        return try TestSupport.withTemporaryDirectory { dir in
            let src = try TestSupport.write(bytes: source, to: "src", in: dir)
            let db = dir + "/out.db"
            let built = try TestSupport.run(makemap, (set ? ["-t", "set"] : []) + ["-o", db, src],
                                            currentDirectory: dir)
            guard built.status == 0 else { return (built.status, built.stderr, []) }
            let dump = try TestSupport.run(makemap, ["-U", db])
            #expect(dump.status == 0)
            var records = Set<Record>()
            for line in [UInt8](dump.stdoutBytes).split(separator: 0x0A, omittingEmptySubsequences: true) {
                // A mapping key ends before any tab; a set key may hold tabs, its value `<set>` never does.
                let tab = try #require(set ? line.lastIndex(of: 0x09) : line.firstIndex(of: 0x09))
                records.insert(Record(key: Array(line[..<tab]), value: Array(line[(tab + 1)...])))
            }
            return (0, built.stderr, records)
        }
    }

    /// Our parse as makemap 7.8 does it: a mapping, or with `-t set` a list whose records hold `<set>`.
    private func ours(_ source: [UInt8], set: Bool = false) throws -> Set<Record> {
        let parsed = try Fixture.parse(bytes: source, kind: set ? .list : .mapping)
        return Set(parsed.entries.map { Record(key: $0.key, value: $0.value ?? Array("<set>".utf8)) })
    }

    private static let mapping: [UInt8] = Array("""
        # aliases-like table
        Root: john
        ALIAS\tMixed Value
        \t  indented: v1, v2
        x:y

        user@Example.ORG: $2b$10$abcdefghijklmnopqrstuv
        k1 \t v with  inner   spaces
        MAILER-DAEMON: postmaster
        list: a@b, "|/usr/bin/vacation -a x", /dev/null
        """.utf8) + [0x0A] + Array("Non".utf8) + [0xC3, 0x89, 0xFF, 0x3A, 0x20, 0x76, 0xE9, 0x80, 0x0A]
        + Array("last:no-newline".utf8)

    @Test func mappingRecordsAgree() throws {
        let real = try realMakemap(Self.mapping)
        #expect(real.status == 0, "\(real.stderr)")
        let ours = try ours(Self.mapping)
        #expect(real.records == ours)
        #expect(ours.count == 10)
    }

    @Test func setRecordsAgree() throws {
        let source = Array("# a set\nFoo Bar\nbaz\n\n  Mixed:Case\tKey\nuser@Example.org\n".utf8) + [0xE9, 0x41, 0x0A]
        let real = try realMakemap(source, set: true)
        #expect(real.status == 0, "\(real.stderr)")
        #expect(real.records == (try ours(source, set: true)))
        #expect(real.records.contains(Record(key: Array("foo bar".utf8), value: Array("<set>".utf8))))
    }

    /// CRLF: 7.8 trims the CR with the rest of the white space; 6.8 keeps it at the end of the value (or, with
    /// `-t set`, of the key). Apart from that CR the records agree.
    @Test func crlfDiffersOnlyByTheCR() throws {
        let source = Array("Root: john\r\nAlias\tMixed Value\r\n# c\r\n\r\nx:y\r\n".utf8)
        let real = try realMakemap(source)
        #expect(real.status == 0, "\(real.stderr)")
        let ours = try ours(source)
        #expect(ours == [Record(key: Array("root".utf8), value: Array("john".utf8)),
                         Record(key: Array("alias".utf8), value: Array("Mixed Value".utf8)),
                         Record(key: Array("x".utf8), value: Array("y".utf8))])
        #expect(real.records == Set(ours.map { Record(key: $0.key, value: $0.value + [0x0D]) }))
        let set = try realMakemap(Array("Foo\r\nbar\r\n".utf8), set: true)
        #expect(set.records == Set(try self.ours(Array("Foo\r\nbar\r\n".utf8), set: true)
            .map { Record(key: $0.key + [0x0D], value: $0.value) }))
    }

    @Test func malformedLineSameNumber() throws {
        for source in ["a: b\nc\n", "a: b\n\n# x\n  \nc:\n", "a: b\n# c\nlonely\nd: e\n", "x\n"] {
            let real = try realMakemap(Array(source.utf8))
            #expect(real.status != 0, "\(source)")
            let line = try #require(Fixture.parseError(bytes: Array(source.utf8), kind: .mapping)?.line)
            #expect(real.stderr.contains("src:\(line): invalid entry"), "\(source): \(real.stderr)")
        }
    }

    @Test func duplicateLineSameNumber() throws {
        let source = "a: 1\nb: 2\n# c\nA: 3\n"
        let real = try realMakemap(Array(source.utf8))
        #expect(real.status != 0)
        #expect(real.stderr.contains("src:4: duplicate entry for a"), "\(real.stderr)")
        // Our parser keeps both; the table in memory keeps the last (smtpd's rule), line 4.
        let entries = try Fixture.parse(source).entries.filter { $0.key == Array("a".utf8) }
        #expect(entries.map(\.line) == [1, 4])
        #expect(try Fixture.table(source).lookup("a")?.line == 4)
    }
}
