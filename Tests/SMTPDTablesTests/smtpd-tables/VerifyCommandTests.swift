import Foundation
import Testing
@testable import SMTPDTables

/// `smtpd-tables verify TABLE USER`, run as the built binary with the password on standard input.
@Suite struct VerifyCommandTests {
    let tool = TestSupport.product("smtpd-tables")

    func verify(_ table: String, _ user: String, password: String, scheme: String? = nil) throws -> ProcessResult {
        var args = ["verify"]
        if let scheme { args += ["--dovecot-scheme", scheme] }
        return try TestSupport.run(tool, args + [table, user], stdin: Data((password + "\n").utf8))
    }

    @Test func sharedFileLineAcceptedByBoth() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let hash = try PasswordHasher.hash("s3cret", scheme: .bcrypt, rounds: 4)
            let table = try TestSupport.write("alice:\(hash)\n", to: "passwd", in: dir)
            let ok = try verify(table, "alice", password: "s3cret", scheme: "BLF-CRYPT")
            #expect(ok.status == 0)
            #expect(ok.stdout.contains("smtpd (auth <table>): accepted"))
            #expect(ok.stdout.contains("Dovecot (passwd-file, scheme=BLF-CRYPT): accepted"))
            #expect(!ok.stdout.contains(hash) && !ok.stderr.contains(hash))
            #expect(!ok.stdout.contains("s3cret") && !ok.stderr.contains("s3cret"))

            let wrong = try verify(table, "ALICE", password: "nope")
            #expect(wrong.status == 1)
            #expect(wrong.stdout.contains("smtpd (auth <table>): refused"))
        }
    }

    @Test func dovecotExtraFieldsBreakSmtpdOnly() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let hash = try PasswordHasher.hash("pw", scheme: .sha512, rounds: 1000)
            let table = try TestSupport.write("bob:\(hash)::::::\n", to: "passwd", in: dir)
            let r = try verify(table, "bob", password: "pw")
            #expect(r.status == 1)
            #expect(r.stdout.contains("smtpd (auth <table>): refused"))
            #expect(r.stdout.contains("Dovecot (passwd-file, scheme=CRYPT): accepted"))
            #expect(!r.stdout.contains(hash))
        }
    }

    @Test func unknownUserAndMissingTable() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let table = try TestSupport.write("alice:$2b$04$abcdefghijklmnopqrstuu\n", to: "passwd", in: dir)
            let r = try verify(table, "carol", password: "x")
            #expect(r.status == 1)
            #expect(r.stdout.contains("no such user"))
            let missing = try verify(dir + "/nope", "carol", password: "x")
            #expect(missing.status == 2)
            #expect(missing.stderr.contains(dir + "/nope"))
        }
    }
}
