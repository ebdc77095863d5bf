import Foundation
import Testing
@testable import SMTPDTables

/// Which match rule a recipient hits (ruleset.c `ruleset_match`, smtp_session.c for bare recipients):
/// `for local`, `for domain`, `for any`, `reject`, no rule at all, and the sender-side conditions through
/// `SenderContext`, including addresses produced by an expansion (EF_INTERNAL: their source is `local`).
@Suite struct RuleMatchTests {
    static let users = "carol 1001:1001:$DIR/nohome\n"

    static let destConf = """
        table users file:$DIR/users
        table domains { example.com, "*.example.net" }
        action "local" mbox userbase <users>
        action "dom" mbox userbase <users>
        match from any for domain "reject.test" reject
        match from any for domain <domains> action "dom"
        match for local action "local"
        """

    @Test func destinationConditions() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let f = try ResolverFixture(dir: dir, conf: Self.destConf, files: ["users": Self.users])
            for address in ["carol@localhost", "carol@mx.test", "Carol@MX.Test"] {
                let r = try f.resolve(address)
                #expect(f.tree(r) == ["0 address \(address) -:- ^-", "1 username carol -:- ^0"])
                #expect(r.rule == "match for local action \"local\"" && r.deliveries == [ResolverFixture.user("carol", "local")])
            }
            let bare = try f.resolve("<carol>")
            #expect(bare.address == "carol@mx.test" && f.tree(bare) == ["0 address carol@mx.test -:- ^-", "1 username carol -:- ^0"])
            #expect(bare.action == "local")

            for address in ["carol@example.com", "carol@mail.example.net"] {
                #expect(try f.resolve(address).deliveries == [ResolverFixture.user("carol", "dom")], "\(address)")
            }
            let rejected = try f.resolve("carol@reject.test")
            #expect(f.tree(rejected) == ["0 address carol@reject.test -:- ^-"])
            #expect(rejected.rule == "match from any for domain \"reject.test\" reject" && rejected.action == nil)
            #expect(rejected.reply == "550 Invalid recipient: <carol@reject.test>" && rejected.failedNode == 0)

            let unmatched = try f.resolve("carol@example.net")
            #expect(unmatched.rule == nil && unmatched.reply == "550 Invalid recipient: <carol@example.net>")
        }
    }

    /// util.c `getmailname`: the first line of the mailname file is smtpd's name (and so the domain of bare
    /// recipients and the name in `<localnames>` besides localhost); without it, the host name.
    @Test func serverNameComesFromTheMailnameFile() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let file = try TestSupport.write("mail.example.org\nignored\n", to: "mailname", in: dir)
            #expect(HostFacts.systemHostname(mailnameFile: file) == "mail.example.org")
            let fallback = HostFacts.systemHostname(mailnameFile: dir + "/missing")
            #expect(!fallback.isEmpty && fallback != "mail.example.org")
            let f = try ResolverFixture(dir: dir, conf: Self.destConf, files: ["users": Self.users],
                                        hostname: HostFacts.systemHostname(mailnameFile: file))
            #expect(try f.resolve("carol").address == "carol@mail.example.org")
            #expect(try f.resolve("carol@mail.example.org").action == "local")
            #expect(try f.resolve("carol@mx.test").reply == "550 Invalid recipient: <carol@mx.test>")
        }
    }

    @Test func forAnyCatchesTheRest() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let f = try ResolverFixture(dir: dir, conf: """
                table users file:$DIR/users
                action "local" mbox userbase <users>
                action "out" relay
                match for local action "local"
                match from any for any action "out"
                """, files: ["users": Self.users])
            let r = try f.resolve("someone@elsewhere.test")
            #expect(f.tree(r) == ["0 address someone@elsewhere.test -:- ^-"])
            #expect(r.deliveries == [.relay(address: "someone@elsewhere.test", action: "out")])
        }
    }

    static let senderConf = """
        table users file:$DIR/users
        table vusers file:$DIR/vusers
        table nets { 192.0.2.0/24 }
        table authusers { alice }
        table fromaddrs { "@partner.test" }
        table rdnsok { "mail.partner.test" }
        table helos { "helo.partner.test" }
        table tags { "inbound" }
        action "src" mbox userbase <users>
        action "auth" mbox userbase <users>
        action "rdns" mbox userbase <users>
        action "mailfrom" mbox userbase <users>
        action "helo" mbox userbase <users>
        action "tag" mbox userbase <users>
        action "any" mbox userbase <users>
        action "virt" mbox virtual <vusers> userbase <users>
        match from src <nets> for domain "s.test" action "src"
        match from auth <authusers> for domain "s.test" action "auth"
        match from rdns <rdnsok> for domain "s.test" action "rdns"
        match from mail-from <fromaddrs> for domain "s.test" action "mailfrom"
        match from any helo <helos> for domain "s.test" action "helo"
        match from any tag <tags> for domain "s.test" action "tag"
        match from any for domain "s.test" action "any"
        match from src <nets> for domain "v.test" action "virt"
        match for domain "l.test" action "any"
        """

    @Test(arguments: [
        (SenderContext(source: "192.0.2.7"), "src"),
        (SenderContext(source: "198.51.100.1", authenticatedUser: "Alice"), "auth"),
        (SenderContext(source: "198.51.100.1", authenticatedUser: "mallory"), "any"),
        (SenderContext(source: "198.51.100.1", rdns: "mail.partner.test"), "rdns"),
        (SenderContext(source: "198.51.100.1", rdns: "other.test"), "any"),
        (SenderContext(source: "198.51.100.1", mailFrom: "bob@partner.test"), "mailfrom"),
        (SenderContext(source: "198.51.100.1", helo: "helo.partner.test"), "helo"),
        (SenderContext(source: "198.51.100.1", tag: "inbound"), "tag"),
        (SenderContext(source: "198.51.100.1"), "any"),
    ])
    func senderConditions(sender: SenderContext, action: String) throws {
        try TestSupport.withTemporaryDirectory { dir in
            let f = try ResolverFixture(dir: dir, conf: Self.senderConf,
                                        files: ["users": Self.users, "vusers": "fwd@v.test carol@s.test\n"],
                                        sender: sender)
            let r = try f.resolve("carol@s.test")
            #expect(r.action == action && r.deliveries == [ResolverFixture.user("carol", action)])
        }
    }

    @Test func expandedAddressesComeFromLocal() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let f = try ResolverFixture(dir: dir, conf: Self.senderConf,
                                        files: ["users": Self.users, "vusers": "fwd@v.test carol@s.test\n"],
                                        sender: SenderContext(source: "192.0.2.7", tag: "inbound"))
            // The recipient matches `from src <nets>`; the address its expansion produced is matched with
            // `local` as its source: not in <nets>, no rdns; the session's tag still applies.
            let r = try f.resolve("fwd@v.test")
            #expect(f.tree(r) == ["0 address fwd@v.test -:- ^-", "1 address carol@s.test vusers:fwd@v.test ^0",
                                  "2 username carol -:- ^1"])
            #expect(r.nodes.map(\.action) == ["virt", "tag", nil])
            #expect(r.deliveries == [ResolverFixture.user("carol", "tag")])

            // `from local` (the default) does not take a remote client's recipient.
            #expect(try f.resolve("carol@l.test").reply == "550 Invalid recipient: <carol@l.test>")
        }
    }
}
