import Foundation
import Testing
@testable import SMTPDTables

#if canImport(Glibc)
import Glibc
#endif

/// `~/.forward` (semantics.md section 4): lka_session.c `lka_expand` (EXPAND_USERNAME) and
/// `lka_session_forward_reply`, smtpd.c `parent_forward_open`, util.c `secure_file`, forward.c `forwards_get`.
/// Home directories live under the resolver's `homeRoot`, so system users (root, daemon) get test homes too.
@Suite struct ForwardFileTests {
    static let isRoot = getuid() == 0
    /// The uid of the test users: a made-up one when we can chown, else our own.
    static let uid: UInt32 = isRoot ? 2001 : getuid()

    static let conf = """
        table users file:$DIR/users
        table aliases file:$DIR/aliases
        action "local" mbox alias <aliases> userbase <users>
        action "sys" mbox
        action "fonly" forward-only alias <aliases> userbase <users>
        action "eonly" expand-only alias <aliases> userbase <users>
        action "asuser" maildir alias <aliases> userbase <users> user alice
        action "out" relay
        match from any for domain "relay.test" action "out"
        match for domain "sys.test" action "sys"
        match for domain "fonly.test" action "fonly"
        match for domain "eonly.test" action "eonly"
        match for domain "asuser.test" action "asuser"
        match for local action "local"
        """

    /// name -> .forward content (nil: no file).
    static let forwards: [String: String?] = [
        "alice": "# alice forwards\ncarol, \\\n  dave\n/tmp/alice.mbox, \"|/usr/bin/true\"\nsomeone@relay.test\n",
        "bob": nil,
        "carol": "",
        "dave": "# nothing but a comment\n",
        "eve": ":include:/etc/passwd\neve, frank\n",
        "frank": nil,
        "gina": "someone@relay.test\n",
        "hugo": "carol, bad x y, dave\n",
        "ivan": String(repeating: "carol\n", count: 700),
    ]

    struct Homes {
        let fixture: ResolverFixture
        var root: String { fixture.dir + "/root" }
        func forward(_ name: String) -> String { "$DIR/root/homes/\(name)/.forward" }
    }

    func withHomes<T>(_ body: (Homes) throws -> T) throws -> T {
        try TestSupport.withTemporaryDirectory { dir in
            let root = dir + "/root"
            var users = ""
            for (name, content) in Self.forwards {
                let home = "\(root)/homes/\(name)"
                try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
                chmod(home, 0o755)
                if let content {
                    let path = try TestSupport.write(content, to: ".forward", in: home)
                    chmod(path, 0o644)
                    if Self.isRoot { chown(path, Self.uid, Self.uid) }
                }
                if Self.isRoot { chown(home, Self.uid, Self.uid) }
                users += "\(name) \(Self.uid):\(Self.uid):/homes/\(name)\n"
            }
            users += "nohome \(Self.uid):\(Self.uid):/homes/missing\n"
            let f = try ResolverFixture(dir: dir, conf: Self.conf, files: ["users": users, "aliases": "postmaster: root\n"],
                                        homeRoot: root)
            return try body(Homes(fixture: f))
        }
    }

    static func user(_ name: String, _ action: String = "local") -> Delivery { ResolverFixture.user(name, action) }

    @Test func forwardContentIsExpanded() throws {
        try withHomes { h in
            let f = h.fixture
            let r = try f.resolve("alice@localhost")
            let fwd = "~/.forward:" + h.forward("alice")
            // Comments skipped, `\` continues a line, elements inserted in file order.
            #expect(f.tree(r) == ["0 address alice@localhost -:- ^-",
                                  "1 username alice -:- ^0",
                                  "2 username carol \(fwd) ^1",
                                  "2 username dave \(fwd) ^1",
                                  "2 file /tmp/alice.mbox \(fwd) ^1",
                                  "2 filter /usr/bin/true \(fwd) ^1",
                                  "2 address someone@relay.test \(fwd) ^1"])
            #expect(r.nodes.last?.action == "out")
            // Files and pipes of a user's forward file run as that user.
            #expect(r.deliveries == [Self.user("carol"), Self.user("dave"),
                                     .file(path: "/tmp/alice.mbox", user: "alice", action: "local"),
                                     .filter(command: "/usr/bin/true", user: "alice", action: "local"),
                                     .relay(address: "someone@relay.test", action: "out")])
        }
    }

    @Test func missingEmptyOrCommentOnlyForwardMeansPlainDelivery() throws {
        try withHomes { h in
            for name in ["bob", "carol", "dave", "nohome"] {
                let r = try h.fixture.resolve("\(name)@localhost")
                #expect(h.fixture.tree(r) == ["0 address \(name)@localhost -:- ^-", "1 username \(name) -:- ^0"])
                #expect(r.deliveries == [Self.user(name)], "\(name)")
            }
        }
    }

    @Test func includesAreIgnoredAndTheUserItselfIsDelivered() throws {
        try withHomes { h in
            let f = h.fixture
            let r = try f.resolve("eve@localhost")
            let fwd = "~/.forward:" + h.forward("eve")
            // eve in her own forward file is `sameuser` under a forwarded parent: submitted, not read again.
            #expect(f.tree(r) == ["0 address eve@localhost -:- ^-", "1 username eve -:- ^0",
                                  "2 username eve \(fwd) ^1", "2 username frank \(fwd) ^1"])
            #expect(r.deliveries == [Self.user("eve"), Self.user("frank")])
        }
    }

    @Test func invalidElementInForwardIsATemporaryFailure() throws {
        try withHomes { h in
            let r = try h.fixture.resolve("hugo@localhost")
            // forwards_get fails at the bad element; carol was inserted before it, dave never.
            #expect(h.fixture.tree(r) == ["0 address hugo@localhost -:- ^-", "1 username hugo -:- ^0",
                                          "2 username carol ~/.forward:\(h.forward("hugo")) ^1"])
            #expect(r.reply == "424 4.2.4 Mailing list expansion problem: <hugo@localhost>" && r.failedNode == 1)
        }
    }

    @Test func forwardFileOverFourKilobytesIsATemporaryFailure() throws {
        try withHomes { h in
            let r = try h.fixture.resolve("ivan@localhost")
            #expect(r.reply == "424 4.2.4 Mailing list expansion problem: <ivan@localhost>" && r.nodes.count == 2)
        }
    }

    @Test func forwardOnly() throws {
        try withHomes { h in
            for name in ["bob", "carol"] {
                let r = try h.fixture.resolve("\(name)@fonly.test")
                #expect(r.reply == "424 4.2.4 Mailing list expansion problem: <\(name)@fonly.test>", "\(name)")
            }
            let gina = try h.fixture.resolve("gina@fonly.test")
            #expect(h.fixture.tree(gina) == ["0 address gina@fonly.test -:- ^-", "1 username gina -:- ^0",
                                             "2 address someone@relay.test ~/.forward:\(h.forward("gina")) ^1"])
            #expect(gina.deliveries == [.relay(address: "someone@relay.test", action: "out")])
            // alice's forward file is read, but carol (expanded first) has an empty one: temporary failure.
            let alice = try h.fixture.resolve("alice@fonly.test")
            #expect(alice.reply == "424 4.2.4 Mailing list expansion problem: <alice@fonly.test>" && alice.failedNode == 2)
        }
    }

    @Test func expandOnly() throws {
        try withHomes { h in
            let bob = try h.fixture.resolve("bob@eonly.test")
            #expect(bob.reply == "524 5.2.4 Mailing list expansion problem: <bob@eonly.test>" && bob.failedNode == 1)
            let gina = try h.fixture.resolve("gina@eonly.test")
            #expect(gina.deliveries == [.relay(address: "someone@relay.test", action: "out")])
        }
    }

    @Test func actionWithUserSkipsOtherUsersForwardFiles() throws {
        try withHomes { h in
            let eve = try h.fixture.resolve("eve@asuser.test")
            #expect(h.fixture.tree(eve) == ["0 address eve@asuser.test -:- ^-", "1 username eve -:- ^0"])
            #expect(eve.deliveries == [Self.user("eve", "asuser")])
            let alice = try h.fixture.resolve("alice@asuser.test")
            #expect(alice.nodes.count == 7 && alice.deliveries.count == 5)
        }
    }

    // MARK: parent_forward_open and secure_file

    @Test(.enabled(if: isRoot, "needs root to chown")) func insecureForwardFilesAreRefused() throws {
        try withHomes { h in
            let home = h.root + "/homes/bob"
            let path = try TestSupport.write("carol\n", to: ".forward", in: home)
            func check(_ what: String, _ expected: String) throws {
                let r = try h.fixture.resolve("bob@localhost")
                #expect(r.reply.map { String($0.prefix(3)) } ?? "250" == expected, "\(what): \(r.reply ?? "accepted")")
            }
            chown(path, Self.uid, Self.uid)
            chmod(path, 0o644)
            try check("secure", "250")
            chmod(path, 0o664)
            try check("group writable", "524")
            chmod(path, 0o644)
            chown(path, 0, 0)
            try check("owned by root", "524")
            chown(path, Self.uid, Self.uid)
            chmod(home, 0o775)
            try check("home group writable", "524")
            chmod(home, 0o1755)
            try check("sticky home", "424")
            chmod(home, 0o755)
            unlink(path)
            symlink(h.root + "/homes/alice/.forward", path)
            try check("symbolic link", "524")
        }
    }

    @Test(.enabled(if: isRoot, "needs root to own root's forward file")) func filesAndPipesRefusedInRootsForward() throws {
        try withHomes { h in
            let rootHome = h.root + "/root"
            try FileManager.default.createDirectory(atPath: rootHome, withIntermediateDirectories: true)
            chmod(rootHome, 0o700)
            let path = try TestSupport.write("nobody, |/bin/cat\n", to: ".forward", in: rootHome)
            chmod(path, 0o644)
            let r = try h.fixture.resolve("root@sys.test")
            let fwd = "~/.forward:$DIR/root/root/.forward"
            #expect(h.fixture.tree(r) == ["0 address root@sys.test -:- ^-", "1 username root -:- ^0",
                                          "2 username nobody \(fwd) ^1", "2 filter /bin/cat \(fwd) ^1"])
            // Usernames are fine (nobody's home does not exist: plain delivery); the pipe is a temporary
            // failure without a message of its own.
            #expect(r.reply == "451 Temporary failure: <root@sys.test>" && r.failedNode == 3)
            #expect(r.deliveries == [ResolverFixture.user("nobody", "sys")])

            _ = try TestSupport.write("root, /tmp/root.mbox\n", to: ".forward", in: rootHome)
            let file = try h.fixture.resolve("root@sys.test")
            #expect(h.fixture.tree(file) == ["0 address root@sys.test -:- ^-", "1 username root -:- ^0",
                                             "2 username root \(fwd) ^1", "2 file /tmp/root.mbox \(fwd) ^1"])
            #expect(file.reply == "451 Temporary failure: <root@sys.test>" && file.failedNode == 3)

            // daemon (uid 1) may pipe: the command runs as daemon.
            let daemonHome = h.root + "/usr/sbin"
            try FileManager.default.createDirectory(atPath: daemonHome, withIntermediateDirectories: true)
            chown(daemonHome, 1, 1)
            let dpath = try TestSupport.write("|/bin/cat\n", to: ".forward", in: daemonHome)
            chown(dpath, 1, 1)
            chmod(dpath, 0o644)
            let daemon = try h.fixture.resolve("daemon@sys.test")
            #expect(daemon.deliveries == [.filter(command: "/bin/cat", user: "daemon", action: "sys")])
        }
    }
}
