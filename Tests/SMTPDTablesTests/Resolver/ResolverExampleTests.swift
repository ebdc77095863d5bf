import Foundation
import Testing
@testable import SMTPDTables

/// The bundled Examples/ resolved end to end, paths rewritten as Examples/run.sh rewrites them.
@Suite struct ResolverExampleTests {
    func withExample<T>(_ body: (Resolver) throws -> T) throws -> T {
        try TestSupport.withTemporaryDirectory { dir in
            let config = try SMTPDConfig.load(path: try ExampleSetup.make(in: dir))
            return try body(try Resolver(config: config, options: .init(hostname: "mail.example.org", localAddresses: HostFacts.interfaceAddresses())))
        }
    }

    @Test func virtualAndLocalAddresses() throws {
        try withExample { r in
            let alice = try r.resolve("alice@example.org")
            #expect(alice.accepted && alice.action == "dovecot")
            #expect(alice.nodes.map { "\($0.kind.rawValue):\($0.value)@\($0.depth) \($0.table ?? "-"):\($0.key ?? "-")" }
                    == ["address:alice@example.org@0 -:-", "username:alice@1 vusers:alice@example.org",
                        "username:vmail@2 vusers:alice"])
            #expect(alice.deliveries == [.user(name: "vmail", subaddress: "", action: "dovecot")])

            let sales = try r.resolve("sales@example.net")
            #expect(sales.deliveries == [.user(name: "vmail", subaddress: "", action: "dovecot")])
            #expect(sales.nodes.filter(\.duplicate).map(\.value) == ["vmail"])

            let catchAll = try r.resolve("nobody@example.org")
            #expect(catchAll.nodes.dropFirst().first?.key == "@example.org")

            let unknown = try r.resolve("nobody@example.net")
            #expect(!unknown.accepted && unknown.reply == "524 5.2.4 Mailing list expansion problem: <nobody@example.net>")

            let root = try r.resolve("root@localhost")
            #expect(root.action == "local" && root.deliveries == [.user(name: "john", subaddress: "", action: "local")])

            let web = try r.resolve("webmaster")
            #expect(web.address == "webmaster@mail.example.org")
            #expect(web.deliveries == [.user(name: "john", subaddress: "", action: "local"),
                                       .file(path: "/var/log/webmaster.mbox", user: "opensmtpd", action: "local")])

            let outside = try r.resolve("someone@elsewhere.test")
            #expect(outside.accepted && outside.deliveries == [.relay(address: "someone@elsewhere.test", action: "outbound")])
            #expect(try r.resolve("bad address@x").code == 501)
        }
    }

    @Test func commandLineExitCodesAndJSON() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let conf = try ExampleSetup.make(in: dir)
            let tool = TestSupport.product("smtpd-tables")
            let ok = try TestSupport.run(tool, ["resolve", "-f", conf, "--hostname", "mail.example.org", "root@localhost"])
            #expect(ok.status == 0 && ok.stdout.contains("username john  (aliases:root)"))
            let json = try TestSupport.run(tool, ["resolve", "-f", conf, "--json", "alice@example.org", "nobody@example.net"])
            #expect(json.status == 1)
            let parsed = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]]
            #expect(parsed?.count == 2)
            #expect(parsed?[1]["error"] as? String == "524 5.2.4 Mailing list expansion problem: <nobody@example.net>")
            #expect((parsed?[0]["deliveries"] as? [[String: Any]])?.first?["user"] as? String == "vmail")
            let missing = try TestSupport.run(tool, ["resolve", "-f", dir + "/nope.conf", "root"])
            #expect(missing.status == 2)
        }
    }
}
