import Testing
@testable import SMTPDTables

/// The shared line grammar (upstream util.c `parse_table_line`, semantics.md section 1), byte for byte.
@Suite("Foundation: table line parser")
struct LineParserTests {
    private func entries(_ text: String, kind: TableKind? = nil) throws -> [ParsedEntry] {
        try Fixture.parse(text, kind: kind).entries
    }

    @Test func mappingKeysAndValues() throws {
        let r = try Fixture.parse("root: john\na:b\nc\td\ne \t f g\n")
        #expect(r.kind == .mapping)
        #expect(r.entries == [
            ParsedEntry("root", "john", line: 1), ParsedEntry("a", "b", line: 2),
            ParsedEntry("c", "d", line: 3), ParsedEntry("e", "f g", line: 4),
        ])
    }

    @Test func firstEntryDecidesList() throws {
        let r = try Fixture.parse("foo\nbar baz\nqux:quux\n\tLast One \n")
        #expect(r.kind == .list)
        // In a list the whole trimmed line is the key, separators included.
        #expect(r.entries == [
            ParsedEntry("foo", nil, line: 1), ParsedEntry("bar baz", nil, line: 2),
            ParsedEntry("qux:quux", nil, line: 3), ParsedEntry("last one", nil, line: 4),
        ])
    }

    @Test func listMarkerComment() throws {
        #expect(try Fixture.parse("# @list\nfoo bar\n").kind == .list)
        #expect(try entries("# @list\nfoo bar\n") == [ParsedEntry("foo bar", nil, line: 2)])
        #expect(try Fixture.parse("#@list\na b\n").kind == .list)
        #expect(try Fixture.parse("#\t \u{0B}@list\na b\n").kind == .list)
        #expect(try Fixture.parse("  # @list  \r\na b\n").kind == .list)
        #expect(try Fixture.parse("# hello\n\n# @list\na b\n").kind == .list)
        // Only the exact text counts.
        #expect(try Fixture.parse("# @list x\na b\n").kind == .mapping)
        #expect(try Fixture.parse("# @LIST\na b\n").kind == .mapping)
        #expect(try Fixture.parse("# @lists\na b\n").kind == .mapping)
        // Once the first entry decided, the marker is an ordinary comment.
        let late = try Fixture.parse("a b\n# @list\nc d\n")
        #expect(late.kind == .mapping)
        #expect(late.entries == [ParsedEntry("a", "b", line: 1), ParsedEntry("c", "d", line: 3)])
        // A marker alone makes an empty list.
        #expect(try Fixture.parse("# @list\n").kind == .list)
    }

    @Test func commentsAreWholeLinesOnly() throws {
        #expect(try entries("a: b # c\n") == [ParsedEntry("a", "b # c", line: 1)])
        #expect(try entries("a#b: c\n") == [ParsedEntry("a#b", "c", line: 1)])
        #expect(try entries("   # indented\n\t#tab\nx y\n") == [ParsedEntry("x", "y", line: 3)])
        #expect(try entries("# @list\nfoo # not a comment\n") == [ParsedEntry("foo # not a comment", nil, line: 2)])
    }

    @Test func bracketKeys() throws {
        #expect(try entries("[::1]:v\n") == [ParsedEntry("[::1]", "v", line: 1)])
        #expect(try entries("[::1] v\n") == [ParsedEntry("[::1]", "v", line: 1)])
        #expect(try entries("[::1]\t \tv w\n") == [ParsedEntry("[::1]", "v w", line: 1)])
        #expect(try entries("[IPv6:FE80::1]: Host.Example\n") == [ParsedEntry("[ipv6:fe80::1]", "Host.Example", line: 1)])
        // The key runs through the first ']', whatever follows; the byte after it is the separator and is dropped.
        #expect(try entries("[a b]: c\n") == [ParsedEntry("[a b]", "c", line: 1)])
        #expect(try entries("[::1]xv\n") == [ParsedEntry("[::1]", "v", line: 1)])
        #expect(try entries("[::1]::v\n") == [ParsedEntry("[::1]", ":v", line: 1)])
        // Alone, a bracket key is a list entry; in a mapping it lacks a value.
        #expect(try Fixture.parse("[::1]\n").kind == .list)
        let noValue = Fixture.parseError("a b\n[::1]\n")
        #expect(noValue?.kind == .invalidEntry && noValue?.line == 2)
        // A missing ']' is malformed, in lists too.
        for text in ["[::1:v\n", "a b\n[::1 v\n", "# @list\nfoo\n[bar\n"] {
            let e = Fixture.parseError(text)
            #expect(e?.kind == .invalidEntry, "\(text)")
            #expect(e?.line == text.split(separator: "\n").count, "\(text)")
        }
    }

    @Test func separators() throws {
        let cases: [(String, String, String)] = [
            ("a:b", "a", "b"), ("a b", "a", "b"), ("a\tb", "a", "b"), ("a \t b", "a", "b"),
            ("a::b", "a", ":b"), ("a: :b", "a", ":b"), ("a :b", "a", ":b"), ("a:b:c", "a", "b:c"),
            ("u@d:$2b$10$x", "u@d", "$2b$10$x"), ("a:\t  b  c", "a", "b  c"),
            // Only blanks are skipped after the separator: a VT stays at the head of the value.
            ("a:\u{0B}b", "a", "\u{0B}b"),
            // An empty key is possible.
            (":x", "", "x"),
        ]
        for (line, key, value) in cases {
            #expect(try entries(line + "\n") == [ParsedEntry(key, value, line: 1)], "\(line)")
        }
    }

    @Test func trimming() throws {
        let text = " \t\u{0B}\u{0C}\r a: b \t\r\u{0B}\u{0C}\n\u{0B}\u{0C}\r\n c  d \n"
        #expect(try entries(text) == [ParsedEntry("a", "b", line: 1), ParsedEntry("c", "d", line: 3)])
    }

    @Test func crlfFiles() throws {
        #expect(try entries("a: b\r\nC:\tD e\r\n\r\n# x\r\nf g\r\n") == [
            ParsedEntry("a", "b", line: 1), ParsedEntry("c", "D e", line: 2), ParsedEntry("f", "g", line: 5),
        ])
        let list = try Fixture.parse("# @list\r\nfoo\r\nBar Baz\r\n")
        #expect(list.kind == .list)
        #expect(list.entries == [ParsedEntry("foo", nil, line: 2), ParsedEntry("bar baz", nil, line: 3)])
    }

    @Test func keysFoldedValuesKept() throws {
        #expect(try entries("RooT: JoHn@Example.ORG\n") == [ParsedEntry("root", "JoHn@Example.ORG", line: 1)])
        // Only ASCII folds: the UTF-8 bytes of 'É' stay as they are.
        #expect(try entries("ÉTÉ: Été\n") == [ParsedEntry("\u{C9}t\u{C9}", "Été", line: 1)])
        let table = try Fixture.table("MiXeD: Value\n")
        #expect(try table.lookup("mixed")?.value == "Value")
        #expect(try table.lookup("MIXED")?.value == "Value")
        #expect(try table.lookup("MIXED")?.key == "mixed")
    }

    @Test func keyLengthLimit() throws {
        let ok = String(repeating: "k", count: 1023)
        #expect(try entries("a b\n\(ok) v\n") == [ParsedEntry("a", "b", line: 1), ParsedEntry(ok, "v", line: 2)])
        let long = String(repeating: "k", count: 1024)
        let e = Fixture.parseError("a b\n\(long) v\n", path: "/etc/mail/big")
        #expect(e?.kind == .keyTooLong)
        #expect(e?.line == 2)
        #expect(e?.description.hasPrefix("/etc/mail/big:2: ") == true)
        // In a list the whole line is the key.
        #expect(try entries("# @list\n" + String(repeating: "x ", count: 511) + "x\n").count == 1)
        #expect(Fixture.parseError("# @list\n" + String(repeating: "x ", count: 512) + "\n") == nil)
        #expect(Fixture.parseError("# @list\n" + String(repeating: "x ", count: 512) + "x\n")?.line == 2)
        // Lookups share the limit.
        let table = try Fixture.table("\(ok) v\n")
        #expect(try table.lookup(ok)?.value == "v")
        #expect(throws: TableError.self) { try table.lookup(long) }
    }

    @Test func emptyFiles() throws {
        for text in ["", "\n\n", " \t\r\n", "# only a comment\n", "# a\n# b"] {
            let r = try Fixture.parse(text)
            #expect(r.kind == .mapping, "\(text)")
            #expect(r.entries.isEmpty, "\(text)")
        }
        #expect(try Fixture.table("").count == 0)
    }

    @Test func mappingLineWithoutValue() {
        for (text, line) in [("a: b\n\n# c\nd\n", 4), ("a: b\nd:\n", 2), ("a: b\nd: \t\r\n", 2), ("a b\nc d\ne:", 3),
                             ("x y\n:\n", 2)] {
            let e = Fixture.parseError(text, path: "aliases")
            #expect(e?.kind == .invalidEntry, "\(text)")
            #expect(e?.line == line, "\(text)")
            #expect(e?.description.hasPrefix("aliases:\(line): ") == true, "\(text)")
        }
    }

    @Test func duplicatesLastWins() throws {
        let text = "a: 1\nb: x\nA: 2\n"
        #expect(try entries(text).count == 3)
        let table = try Fixture.table(text)
        #expect(table.count == 2)
        let hit = try table.lookup("a")
        #expect(hit?.value == "2")
        #expect(hit?.line == 3)
        #expect(table.entries.map(\.key) == ["b", "a"])
        // Pattern services see only the entry in force.
        #expect(try Fixture.table("*.org: first\nb: x\n*.ORG: second\n").lookup("a.org", service: .domain)?.value
                == "second")
    }

    @Test func nonUTF8BytesKept() throws {
        let bytes: [UInt8] = [0xFF, 0x41, 0xFE, 0x3A, 0x20, 0x80, 0xC3, 0x28, 0x20, 0xE9, 0x0A,
                              0xC0, 0x09, 0xC1, 0x0D, 0x0A]
        let r = try Fixture.parse(bytes: bytes)
        #expect(r.kind == .mapping)
        #expect(r.entries == [
            ParsedEntry(key: [0xFF, 0x61, 0xFE], value: [0x80, 0xC3, 0x28, 0x20, 0xE9], line: 1),
            ParsedEntry(key: [0xC0], value: [0xC1], line: 2),
        ])
        let table = try Table(contents: bytes)
        let hit = try table.lookup(bytes: [0xFF, 0x41, 0xFE])
        #expect(hit?.keyBytes == [0xFF, 0x61, 0xFE])
        #expect(hit?.valueBytes == [0x80, 0xC3, 0x28, 0x20, 0xE9])
        // A list of non-UTF-8 keys.
        let list = try Fixture.parse(bytes: Array("# @list\n".utf8) + [0xC0, 0x20, 0xC1, 0x0A, 0xFF])
        #expect(list.kind == .list)
        #expect(list.entries == [ParsedEntry(key: [0xC0, 0x20, 0xC1], value: nil, line: 2),
                                 ParsedEntry(key: [0xFF], value: nil, line: 3)])
    }

    @Test func nulByteIsAnError() {
        let e = Fixture.parseError(bytes: Array("a: b\nc: d\0e\n".utf8), path: "p")
        #expect(e?.kind == .invalidEntry)
        #expect(e?.line == 2)
        #expect(e?.description.hasPrefix("p:2: ") == true)
        #expect(Fixture.parseError(bytes: [0x61, 0x00]) != nil)
        #expect(Fixture.parseError(bytes: Array("# \0 comment\n".utf8)) != nil)
    }

    @Test func lastLineWithoutNewline() throws {
        #expect(try entries("a: b\nc: d") == [ParsedEntry("a", "b", line: 1), ParsedEntry("c", "d", line: 2)])
        #expect(try entries("a: b\nc: d\r") == [ParsedEntry("a", "b", line: 1), ParsedEntry("c", "d", line: 2)])
        #expect(try entries("x") == [ParsedEntry("x", nil, line: 1)])
    }

    @Test func presetListKind() throws {
        // makemap -t set: every line is a key, whatever it holds.
        let r = try Fixture.parse("a: b\nC D\n", kind: .list)
        #expect(r.kind == .list)
        #expect(r.entries == [ParsedEntry("a: b", nil, line: 1), ParsedEntry("c d", nil, line: 2)])
        // makemap without -t set: a lone key is malformed from the first line on.
        #expect(Fixture.parseError(bytes: Array("a\n".utf8), kind: .mapping)?.line == 1)
    }
}
