import Foundation
import Testing
@testable import SMTPDTables

/// The bundled Examples/ as a whole: the real smtpd accepts the config with the db we built, our checker finds
/// nothing wrong with it, and the passwd file's test passwords are the ones its comment names.
@Suite struct ExampleSetupTests {
    // smtpd -n runs only as root (it checks the ownership of what the config names).
    @Test(.enabled(if: TestSupport.system("smtpd") != nil && getuid() == 0, "needs the real smtpd, run as root"))
    func realSmtpdAcceptsTheExampleWithOurAliasesDB() throws {
        let smtpd = try #require(TestSupport.system("smtpd"))
        try TestSupport.withTemporaryDirectory { dir in
            let conf = try ExampleSetup.make(in: dir, withCertificate: true)
            let r = try TestSupport.run(smtpd, ["-n", "-f", conf])
            #expect(r.status == 0, "\(r.stderr)")
            #expect((r.stdout + r.stderr).contains("configuration OK"))
        }
    }

    @Test func checkFindsNothingWrong() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let conf = try ExampleSetup.make(in: dir)
            let findings = SetupChecker(config: try SMTPDConfig.load(path: conf),
                                        resolverOptions: .init(hostname: "mail.example.org", localAddresses: HostFacts.interfaceAddresses())).run()
            #expect(findings.filter { $0.severity != .note }.isEmpty, "\(findings.map(\.description))")
            let cli = try TestSupport.run(TestSupport.product("smtpd-tables"), ["check", "-f", conf])
            #expect(cli.status == 0, "\(cli.stdout)")
        }
    }

    @Test func newaliasesRebuildsTheExampleAliases() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let conf = try ExampleSetup.make(in: dir)
            try FileManager.default.removeItem(atPath: "\(dir)/aliases.db")
            let r = try TestSupport.run(TestSupport.product("newaliases"), ["-f", conf])
            #expect(r.status == 0)
            #expect(r.stdout == "\(dir)/aliases: 6 aliases\n")
            let aliases = try Table("db:\(dir)/aliases.db")
            #expect(try aliases.value(for: "root", service: .alias) == .alias([ExpansionNode(kind: .username, value: "john")]))
        }
    }

    @Test func passwdHoldsTheTestPasswordsItsCommentNames() throws {
        let passwd = try Table("file:\(ExampleSetup.examples)/passwd")
        for (user, password) in [("alice", "alice-secret-1"), ("bob", "bob-secret-2")] {
            guard case .credentials(let c)? = try passwd.value(for: user, service: .credentials) else {
                Issue.record("no credentials for \(user)")
                continue
            }
            #expect(c.password.hasPrefix("$2b$10$"))
            #expect(PasswordHasher.verify(password, against: c.password))
            #expect(!PasswordHasher.verify(password + "x", against: c.password))
        }
    }
}
