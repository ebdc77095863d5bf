import Foundation
import Testing
@testable import SMTPDTables

/// semantics.md section 4, local aliases: lookup order, recursion, de-duplication, the depth limit,
/// `error:` nodes, the userbase and `:include:` files. Every expected tree follows upstream lka_session.c
/// `lka_expand`, aliases.c `aliases_get`/`aliases_expand_include` and expand.c `expand_insert`/`expand_cmp`;
/// the addresses marked in ResolverInteropTests are also checked against the real smtpd.
@Suite struct ResolverRuleTests {
    static let conf = """
        table aliases file:$DIR/aliases
        table users file:$DIR/users
        action "local" mbox alias <aliases> userbase <users>
        action "sys" mbox alias <aliases>
        match for domain "sys.test" action "sys"
        match for local action "local"
        """
    static let users = """
        john 1000:1000:$DIR/nohome
        carol 1001:1001:$DIR/nohome
        dave 1002:1002:$DIR/nohome
        eve 1003:1003:$DIR/nohome
        frank 1004:1004:$DIR/nohome
        broken notanumber:1:/x
        """
    static let aliases = """
        john: john, carol
        tagged+x: carol
        tagged: dave
        g0: h1
        h1: h2
        h2: h3
        h3: h4
        h4: h5
        h5: h6
        h6: h7
        h7: h8
        h8: dave
        loop1: loop2
        loop2: loop1
        twice: t1, t2
        t1: carol
        t2: carol
        again: carol, t2
        errl: error:550 go away
        tmperr: error:450 try later
        errmix: bogus, error:551 gone
        errlast: error:551 gone, carol
        bad: a b # c
        list: :include:$DIR/members, john
        noinc: :include:$DIR/missing
        ghost: nosuchuser
        """
    /// Read by fparseln with `\\` as escape and `#` as continuation, no comment character (aliases.c).
    static let members = """
        carol, bad x y, eve
        # a note
        dave, #
        frank
        :include:$DIR/members

        """

    func withFixture<T>(_ body: (ResolverFixture) throws -> T) throws -> T {
        try TestSupport.withTemporaryDirectory { dir in
            let f = try ResolverFixture(dir: dir, conf: Self.conf,
                                        files: ["aliases": Self.aliases, "users": Self.users, "members": Self.members],
                                        homeRoot: dir + "/fakeroot")
            return try body(f)
        }
    }

    static func user(_ name: String, sub: String = "") -> Delivery { ResolverFixture.user(name, "local", sub: sub) }

    // MARK: lookup order

    @Test func aliasWithTagIsLookedUpFirst() throws {
        try withFixture { f in
            let r = try f.resolve("tagged+x@localhost")
            #expect(f.tree(r) == ["0 address tagged+x@localhost -:- ^-",
                                  "1 username tagged+x -:- ^0",
                                  "2 username carol aliases:tagged+x ^1"])
            #expect(r.accepted && r.action == "local" && r.deliveries == [Self.user("carol")])
        }
    }

    @Test func aliasWithoutTagIsTheFallback() throws {
        try withFixture { f in
            let r = try f.resolve("Tagged+Y@localhost")
            #expect(f.tree(r) == ["0 address Tagged+Y@localhost -:- ^-",
                                  "1 username tagged+y -:- ^0",
                                  "2 username dave aliases:tagged ^1"])
            // The tag belongs to the alias, not to dave: no subaddress on his delivery.
            #expect(r.deliveries == [Self.user("dave")])
        }
    }

    @Test func subaddressOfAUserWithoutAliasIsCarriedToTheDelivery() throws {
        try withFixture { f in
            let r = try f.resolve("dave+box@localhost")
            #expect(f.tree(r) == ["0 address dave+box@localhost -:- ^-", "1 username dave -:- ^0"])
            #expect(r.deliveries == [Self.user("dave", sub: "box")])
        }
    }

    // MARK: recursion, de-duplication, depth

    @Test func usernameMappingToItselfIsDelivered() throws {
        try withFixture { f in
            let r = try f.resolve("john@localhost")
            // The alias value is merged in smtpd's tree order (usernames by bytes): carol before john.
            #expect(f.tree(r) == ["0 address john@localhost -:- ^-",
                                  "1 username john -:- ^0",
                                  "2 username carol aliases:john ^1",
                                  "2 username john aliases:john ^1"])
            #expect(r.deliveries == [Self.user("carol"), Self.user("john")])
        }
    }

    @Test func identicalNodesUnderOneRecipientAreDiscarded() throws {
        try withFixture { f in
            let r = try f.resolve("twice@localhost")
            #expect(f.tree(r) == ["0 address twice@localhost -:- ^-",
                                  "1 username twice -:- ^0",
                                  "2 username t1 aliases:twice ^1",
                                  "2 username t2 aliases:twice ^1",
                                  "3 username carol aliases:t1 ^2",
                                  "3 username carol aliases:t2 ^3 dup"])
            #expect(r.deliveries == [Self.user("carol")])
        }
    }

    /// expand_cmp compares `realuser`, which lka_expand sets once a user was found in the userbase: a user
    /// reached again after it was expanded is a new node and is delivered twice (checked on the real smtpd).
    @Test func userReachedAgainAfterItsExpansionIsDeliveredTwice() throws {
        try withFixture { f in
            let r = try f.resolve("again@localhost")
            #expect(f.tree(r) == ["0 address again@localhost -:- ^-",
                                  "1 username again -:- ^0",
                                  "2 username carol aliases:again ^1",
                                  "2 username t2 aliases:again ^1",
                                  "3 username carol aliases:t2 ^3"])
            #expect(r.deliveries == [Self.user("carol"), Self.user("carol")])
        }
    }

    @Test func loopEndsInAnEmptyDeliveryList() throws {
        try withFixture { f in
            let r = try f.resolve("loop1@localhost")
            #expect(f.tree(r) == ["0 address loop1@localhost -:- ^-",
                                  "1 username loop1 -:- ^0",
                                  "2 username loop2 aliases:loop1 ^1",
                                  "3 username loop1 aliases:loop2 ^2 dup"])
            #expect(r.reply == "524 5.2.4 Mailing list expansion problem: <loop1@localhost>")
            #expect(r.deliveries.isEmpty)
        }
    }

    /// EXPAND_DEPTH is 10 and the delivered user is expanded too (for its userbase entry): with the
    /// recipient's username at depth 1, eight alias hops fit, nine do not.
    @Test func depthLimit() throws {
        try withFixture { f in
            let fits = try f.resolve("h1@localhost")
            #expect(f.tree(fits) == ["0 address h1@localhost -:- ^-", "1 username h1 -:- ^0"]
                    + (2...8).map { "\($0) username h\($0) aliases:h\($0 - 1) ^\($0 - 1)" }
                    + ["9 username dave aliases:h8 ^8"])
            #expect(fits.deliveries == [Self.user("dave")])

            let deep = try f.resolve("g0@localhost")
            #expect(deep.nodes.map(\.depth) == Array(0...10))
            #expect(deep.nodes.last?.value == "dave" && deep.failedNode == 10)
            #expect(deep.reply == "524 5.2.4 Mailing list expansion problem: <g0@localhost>")
        }
    }

    // MARK: error nodes

    @Test func errorNodesEndTheExpansionWithTheirCode() throws {
        try withFixture { f in
            let perm = try f.resolve("errl@localhost")
            #expect(f.tree(perm) == ["0 address errl@localhost -:- ^-", "1 username errl -:- ^0",
                                     "2 error 550 go away aliases:errl ^1"])
            #expect(!perm.accepted && perm.reply == "550 go away: <errl@localhost>" && perm.failedNode == 2)

            let temp = try f.resolve("tmperr@localhost")
            #expect(temp.code == 450 && temp.reply == "450 try later: <tmperr@localhost>")
        }
    }

    /// An alias value is merged in kind order (username, file, filter, include, address, error): whatever
    /// precedes an error in that order is expanded first, wherever it was written.
    @Test func errorNodesComeLastInKindOrder() throws {
        try withFixture { f in
            let mix = try f.resolve("errmix@localhost")
            #expect(f.tree(mix) == ["0 address errmix@localhost -:- ^-", "1 username errmix -:- ^0",
                                    "2 username bogus aliases:errmix ^1", "2 error 551 gone aliases:errmix ^1"])
            #expect(mix.reply == "550 Invalid recipient: <errmix@localhost>" && mix.failedNode == 2)

            let last = try f.resolve("errlast@localhost")
            #expect(f.tree(last) == ["0 address errlast@localhost -:- ^-", "1 username errlast -:- ^0",
                                     "2 username carol aliases:errlast ^1", "2 error 551 gone aliases:errlast ^1"])
            #expect(!last.accepted && last.reply == "551 gone: <errlast@localhost>" && last.failedNode == 3)
            #expect(last.deliveries == [Self.user("carol")])
        }
    }

    // MARK: userbase, unknown users, invalid values

    @Test func usernameWithoutAliasMustBeInTheUserbase() throws {
        try withFixture { f in
            let known = try f.resolve("eve@localhost")
            #expect(f.tree(known) == ["0 address eve@localhost -:- ^-", "1 username eve -:- ^0"])
            #expect(known.deliveries == [Self.user("eve")])

            // root is in the system passwd, not in the userinfo table "local" uses.
            let unknown = try f.resolve("root@localhost")
            #expect(unknown.reply == "550 Invalid recipient: <root@localhost>" && unknown.failedNode == 1)

            let ghost = try f.resolve("ghost@localhost")
            #expect(f.tree(ghost) == ["0 address ghost@localhost -:- ^-", "1 username ghost -:- ^0",
                                      "2 username nosuchuser aliases:ghost ^1"])
            #expect(ghost.reply == "550 Invalid recipient: <ghost@localhost>" && ghost.failedNode == 2)
        }
    }

    /// table.c `table_parse_lookup` returns -1 for a userinfo value that does not parse: lka_expand's
    /// backend error, a temporary failure without a message of its own.
    @Test func invalidUserbaseEntryIsATemporaryFailure() throws {
        try withFixture { f in
            let r = try f.resolve("broken@localhost")
            #expect(f.tree(r) == ["0 address broken@localhost -:- ^-", "1 username broken -:- ^0"])
            #expect(r.reply == "451 Temporary failure: <broken@localhost>" && r.failedNode == 1)
        }
    }

    @Test func systemUserbaseIsGetpwnam() throws {
        try withFixture { f in
            for name in ["root", "nobody", "daemon"] {
                let r = try f.resolve("\(name.uppercased())@sys.test")
                #expect(f.tree(r) == ["0 address \(name.uppercased())@sys.test -:- ^-", "1 username \(name) -:- ^0"])
                #expect(r.action == "sys" && r.deliveries == [ResolverFixture.user(name, "sys")])
            }
            let unknown = try f.resolve("no-such-user-4711@sys.test")
            #expect(unknown.reply == "550 Invalid recipient: <no-such-user-4711@sys.test>")
            // The userinfo table of "local" plays no part in "sys".
            #expect(try f.resolve("carol@sys.test").code == 550)
        }
    }

    @Test func invalidAliasValueIsATemporaryFailure() throws {
        try withFixture { f in
            let r = try f.resolve("bad@localhost")
            #expect(f.tree(r) == ["0 address bad@localhost -:- ^-", "1 username bad -:- ^0"])
            #expect(r.reply == "424 4.2.4 Mailing list expansion problem: <bad@localhost>" && r.failedNode == 1)
        }
    }

    // MARK: :include:

    @Test func includeFiles() throws {
        try withFixture { f in
            let r = try f.resolve("list@localhost")
            // Usernames of the value come before the include (kind order); the included lines are inserted in
            // file order: `carol, bad x y, eve` loses eve to the invalid element, `# a note` is an invalid
            // element (no comments in includes), `dave, #` continues on the next line, the nested include
            // is skipped. john's own alias yields carol again (already queued, discarded) and john himself.
            #expect(f.tree(r) == ["0 address list@localhost -:- ^-",
                                  "1 username list -:- ^0",
                                  "2 username john aliases:list ^1",
                                  "2 include $DIR/members aliases:list ^1",
                                  "2 username carol :include::$DIR/members ^1",
                                  "2 username dave :include::$DIR/members ^1",
                                  "2 username frank :include::$DIR/members ^1",
                                  "3 username carol aliases:john ^2 dup",
                                  "3 username john aliases:john ^2"])
            #expect(r.deliveries == [Self.user("carol"), Self.user("dave"), Self.user("frank"), Self.user("john")])
        }
    }

    /// A mailing list the size real ones reach: every member twice, one with a tag. De-duplication compares
    /// a new node with the nodes that could equal it, not with every node (a 10k-node list was 50M compares).
    @Test func largeIncludeIsDeduplicated() throws {
        let members = 5000
        try TestSupport.withTemporaryDirectory { dir in
            let names = (0..<members).map { "m\($0)" }
            let users = names.enumerated().map { "\($1) \(2000 + $0):2000:$DIR/nohome" }.joined(separator: "\n")
            let list = (names + names.reversed() + ["m7+news"]).joined(separator: ",\n") + "\n"
            let f = try ResolverFixture(dir: dir, conf: Self.conf,
                                        files: ["aliases": "big: :include:$DIR/list\n", "users": users, "list": list],
                                        homeRoot: dir + "/fakeroot")
            let r = try f.resolve("big@localhost")
            #expect(r.accepted)
            // address, username big, the include node, then each member once plus its second mention.
            #expect(r.nodes.count == 3 + 2 * members + 1)
            #expect(r.nodes.filter(\.duplicate).map(\.value) == Array(names.reversed()))
            #expect(r.deliveries == names.map { Self.user($0) } + [Self.user("m7", sub: "news")])
        }
    }

    @Test func missingIncludeCountsAsNoAlias() throws {
        try withFixture { f in
            let r = try f.resolve("noinc@localhost")
            // aliases_get returns 0 aliases: noinc itself is then looked up in the userbase.
            #expect(f.tree(r) == ["0 address noinc@localhost -:- ^-", "1 username noinc -:- ^0",
                                  "2 include $DIR/missing aliases:noinc ^1"])
            #expect(r.reply == "550 Invalid recipient: <noinc@localhost>" && r.failedNode == 1)
        }
    }
}
