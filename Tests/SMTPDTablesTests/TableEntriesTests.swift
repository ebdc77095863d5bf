import Foundation
import Testing
@testable import SMTPDTables

/// `Table(entries:)`: inline tables of smtpd.conf built from their entries (table_static.c
/// `table_static_add`), not re-parsed as file text, so keys with `:` or spaces stay whole.
@Suite struct TableEntriesTests {
    @Test func keysAreKeptWholeAndFolded() throws {
        let t = Table(entries: [(key: "::1", value: "mx.test"), (key: "A B", value: "x"), (key: "k:v", value: " v # w "),
                                (key: "dup", value: "first"), (key: "DUP", value: "last")], name: "<inline>")
        #expect(t.kind == .mapping && t.count == 4)
        #expect(try t.lookup("::1")?.value == "mx.test")
        #expect(try t.lookup("a b")?.value == "x")
        #expect(try t.lookup("K:V")?.value == " v # w ")
        #expect(try t.lookup("dup")?.value == "last")
        // The file grammar would have cut these keys at the first `:` or blank.
        let reparsed = try Table(contents: Array("::1\tmx.test\nA B\tx\n".utf8))
        #expect(try reparsed.lookup("::1") == nil)
    }

    @Test func firstEntryDecidesTheKindAndOtherShapesAreDropped() throws {
        let list = Table(entries: [(key: "a", value: nil), (key: "b", value: "x"), (key: "c", value: nil)])
        #expect(list.kind == .list && list.entries.map(\.key) == ["a", "c"])
        let long = String(repeating: "k", count: 1024)
        let map = Table(entries: [(key: "a", value: "1"), (key: "b", value: nil), (key: long, value: "2")], kind: .mapping)
        #expect(map.kind == .mapping && map.entries.map(\.key) == ["a"])
        #expect(Table(entries: []).count == 0)
    }

    @Test func inlineTablesInTheResolver() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let f = try ResolverFixture(dir: dir, conf: """
                table users { "carol" = "1001:1001:/nonexistent", "dave" = "1002:1002:/nonexistent" }
                table vmap { "list+a@v.test" = "carol", "list@v.test" = " carol , dave " }
                action "virt" mbox virtual <vmap> userbase <users>
                match from any for domain { "v.test" } action "virt"
                """)
            let a = try f.resolve("list+a@v.test")
            #expect(f.tree(a) == ["0 address list+a@v.test -:- ^-", "1 username carol vmap:list+a@v.test ^0"])
            let all = try f.resolve("list@v.test")
            #expect(all.deliveries == [ResolverFixture.user("carol", "virt"), ResolverFixture.user("dave", "virt")])
        }
    }
}
