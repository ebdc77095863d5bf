import Foundation
import Testing
@testable import SMTPDTables

/// Virtual tables (semantics.md section 4): aliases.c `aliases_virtual_get` key order, usernames looked up
/// in the same table, addresses going through the ruleset again (lka_session.c EXPAND_ADDRESS), and
/// sub-addressing with `smtp sub-addr-delim`.
@Suite struct VirtualResolutionTests {
    static let users = """
        carol 1001:1001:$DIR/nohome
        dave 1002:1002:$DIR/nohome
        eve 1003:1003:$DIR/nohome
        frank 1004:1004:$DIR/nohome
        john 1000:1000:$DIR/nohome
        """
    static let conf = """
        table vusers file:$DIR/vusers
        table wusers file:$DIR/wusers
        table users file:$DIR/users
        table aliases file:$DIR/aliases
        action "virt" mbox virtual <vusers> userbase <users>
        action "virt2" mbox virtual <wusers> userbase <users>
        action "local" mbox alias <aliases> userbase <users>
        action "out" relay
        match from any for domain { v.test, "w.test" } action "virt"
        match from any for domain "other.test" action "virt2"
        match from any for domain "relay.test" action "out"
        match for local action "local"
        """
    static let vusers = """
        a+t@v.test carol
        b@v.test carol
        b+t dave
        c+t carol
        c dave
        d dave
        @v.test eve
        @ frank
        team@v.test staff
        staff carol, dave
        fwd@v.test x@other.test
        loc@v.test john@localhost
        out@v.test someone@relay.test
        """

    func withFixture<T>(_ body: (ResolverFixture) throws -> T) throws -> T {
        try TestSupport.withTemporaryDirectory { dir in
            try body(ResolverFixture(dir: dir, conf: Self.conf, files: [
                "vusers": Self.vusers, "wusers": "x@other.test eve\n", "users": Self.users,
                "aliases": "john: john, carol\n"]))
        }
    }

    static func user(_ name: String, _ action: String = "virt", sub: String = "") -> Delivery {
        ResolverFixture.user(name, action, sub: sub)
    }

    @Test(arguments: [("a+t@v.test", "a+t@v.test", "carol"), ("b+t@v.test", "b@v.test", "carol"),
                      ("C+T@V.test", "c+t", "carol"), ("d+t@v.test", "d", "dave"),
                      ("e@v.test", "@v.test", "eve"), ("e+t@w.test", "@", "frank")])
    func keyOrder(address: String, key: String, user: String) throws {
        try withFixture { f in
            let r = try f.resolve(address)
            // The username a virtual table gives is looked up in the same table (key `carol`, no catch-all
            // without a domain), then in the userbase.
            #expect(f.tree(r) == ["0 address \(address) -:- ^-", "1 username \(user) vusers:\(key) ^0"])
            #expect(r.action == "virt" && r.deliveries == [Self.user(user)])
        }
    }

    @Test func usernamesFromAVirtualTableAreLookedUpInIt() throws {
        try withFixture { f in
            let r = try f.resolve("team@v.test")
            #expect(f.tree(r) == ["0 address team@v.test -:- ^-", "1 username staff vusers:team@v.test ^0",
                                  "2 username carol vusers:staff ^1", "2 username dave vusers:staff ^1"])
            #expect(r.deliveries == [Self.user("carol"), Self.user("dave")])
        }
    }

    @Test func addressesGoThroughTheRulesetAgain() throws {
        try withFixture { f in
            let other = try f.resolve("fwd@v.test")
            #expect(f.tree(other) == ["0 address fwd@v.test -:- ^-", "1 address x@other.test vusers:fwd@v.test ^0",
                                      "2 username eve wusers:x@other.test ^1"])
            #expect(other.nodes.map(\.action) == ["virt", "virt2", nil])
            #expect(other.deliveries == [Self.user("eve", "virt2")])

            let local = try f.resolve("loc@v.test")
            #expect(f.tree(local) == ["0 address loc@v.test -:- ^-", "1 address john@localhost vusers:loc@v.test ^0",
                                      "2 username john -:- ^1", "3 username carol aliases:john ^2",
                                      "3 username john aliases:john ^2"])
            #expect(local.deliveries == [Self.user("carol", "local"), Self.user("john", "local")])

            let relay = try f.resolve("out@v.test")
            #expect(f.tree(relay) == ["0 address out@v.test -:- ^-",
                                      "1 address someone@relay.test vusers:out@v.test ^0"])
            #expect(relay.deliveries == [.relay(address: "someone@relay.test", action: "out")])
        }
    }

    @Test func unknownVirtualUser() throws {
        try withFixture { f in
            let r = try f.resolve("nobody@other.test")
            #expect(f.tree(r) == ["0 address nobody@other.test -:- ^-"])
            #expect(r.reply == "524 5.2.4 Mailing list expansion problem: <nobody@other.test>" && r.failedNode == 0)
        }
    }

    // MARK: smtp sub-addr-delim

    static let dashConf = """
        smtp sub-addr-delim "-"
        table aliases file:$DIR/aliases
        table vusers file:$DIR/vusers
        table users file:$DIR/users
        action "local" mbox alias <aliases> userbase <users>
        action "virt" mbox virtual <vusers> userbase <users>
        match from any for domain "v.test" action "virt"
        match for local action "local"
        """

    @Test func otherSubaddressDelimiter() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let f = try ResolverFixture(dir: dir, conf: Self.dashConf, files: [
                "aliases": "list-x: carol\nlist: dave\n", "users": Self.users,
                "vusers": "a-t@v.test carol\nb dave\nc@v.test carol-inbox\n"])
            let x = try f.resolve("list-x@localhost")
            #expect(f.tree(x) == ["0 address list-x@localhost -:- ^-", "1 username list-x -:- ^0",
                                  "2 username carol aliases:list-x ^1"])
            let y = try f.resolve("list-y@localhost")
            #expect(f.tree(y).last == "2 username dave aliases:list ^1")

            let sub = try f.resolve("carol-box@localhost")
            #expect(f.tree(sub) == ["0 address carol-box@localhost -:- ^-", "1 username carol -:- ^0"])
            #expect(sub.deliveries == [ResolverFixture.user("carol", "local", sub: "box")])
            // `+` is an ordinary character now: carol+box is not a user.
            #expect(try f.resolve("carol+box@localhost").reply == "550 Invalid recipient: <carol+box@localhost>")

            #expect(f.tree(try f.resolve("a-t@v.test")).last == "1 username carol vusers:a-t@v.test ^0")
            #expect(f.tree(try f.resolve("b-q@v.test")).last == "1 username dave vusers:b ^0")
            // A username with the delimiter from a virtual table: looked up as carol-inbox, then carol, then
            // delivered to carol with the subaddress.
            let c = try f.resolve("c@v.test")
            #expect(f.tree(c) == ["0 address c@v.test -:- ^-", "1 username carol vusers:c@v.test ^0"])
            #expect(c.deliveries == [ResolverFixture.user("carol", "virt", sub: "inbox")])
        }
    }
}
