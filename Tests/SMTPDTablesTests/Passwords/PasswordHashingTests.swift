import Foundation
import Testing
@testable import SMTPDTables

@Suite("Password hashing and verification")
struct PasswordHashingTests {
    @Test("each scheme makes a hash of its own method that verifies, with the right cost",
          arguments: [(PasswordScheme.bcrypt, nil as Int?, "$2b$10$"), (.bcrypt, 4, "$2b$04$"),
                      (.sha512, nil, "$6$"), (.sha512, 6000, "$6$rounds=6000$"),
                      (.sha256, nil, "$5$"), (.sha256, 1000, "$5$rounds=1000$"),
                      (.yescrypt, nil, "$y$j9T$")])
    func hashAndVerify(scheme: PasswordScheme, rounds: Int?, prefix: String) throws {
        let h = try PasswordHasher.hash("correct horse", scheme: scheme, rounds: rounds)
        #expect(h.hasPrefix(prefix))
        #expect(PasswordHasher.verify("correct horse", against: h))
        #expect(!PasswordHasher.verify("correct horsE", against: h))
        #expect(!PasswordHasher.verify("", against: h))
        let a = HashAnalysis(h)
        #expect(a.cryptCanVerify)
        #expect(a.cost == (rounds ?? scheme.defaultRounds))
    }

    @Test func saltsAreFresh() throws {
        let a = try PasswordHasher.hash("same", scheme: .sha512)
        let b = try PasswordHasher.hash("same", scheme: .sha512)
        #expect(a != b)
    }

    @Test func roundsOutOfRangeAreRefusedWithoutTheSecret() {
        for (scheme, bad) in [(PasswordScheme.bcrypt, 3), (.bcrypt, 32), (.sha512, 999), (.yescrypt, 12)] {
            #expect(throws: TableError.self) { try PasswordHasher.hash("s3cret-pw", scheme: scheme, rounds: bad) }
            do { _ = try PasswordHasher.hash("s3cret-pw", scheme: scheme, rounds: bad) } catch {
                #expect(error.kind == .usage)
                #expect(!error.description.contains("s3cret"))
            }
        }
    }

    @Test func nulInPasswordIsRefused() {
        #expect(throws: TableError.self) { try PasswordHasher.hash([0x61, 0, 0x62]) }
        #expect(!PasswordHasher.verify([0x61, 0, 0x62], against: Array("$1$abc$def".utf8)))
    }

    @Test("crypt_checkpass semantics: empty hash only for the empty password; garbage never matches")
    func checkpassEdgeCases() {
        #expect(PasswordHasher.verify("", against: ""))
        #expect(!PasswordHasher.verify("x", against: ""))
        #expect(!PasswordHasher.verify("secret", against: "secret"))
        #expect(!PasswordHasher.verify("x", against: "*"))
        #expect(!PasswordHasher.verify("x", against: "!$6$abc$def"))
        #expect(!PasswordHasher.verify("x", against: "$9$unknown$method"))
    }

    @Test func constantTimeEquality() {
        #expect(PasswordHasher.constantTimeEquals([1, 2, 3], [1, 2, 3]))
        #expect(!PasswordHasher.constantTimeEquals([1, 2, 3], [1, 2, 4]))
        #expect(!PasswordHasher.constantTimeEquals([1, 2], [1, 2, 0]))
        #expect(!PasswordHasher.constantTimeEquals([], [0]))
        #expect(PasswordHasher.constantTimeEquals([], []))
    }

    @Test("DES and sha256-crypt reference vectors verify")
    func legacyVerify() {
        // Vectors from Dovecot's crypt self-test and the classic md5-crypt test; checked with doveadm below.
        #expect(PasswordHasher.verify("08/15!test~4711", against: "JBOZ0DgmtucwE"))
        #expect(PasswordHasher.verify("08/15!test~4711",
                                      against: "$5$rounds=1000$0123456789abcdef$K/DksR0DT01hGc8g/kt9McEgrbFMKi9qrb1jehe7hn4"))
        #expect(!PasswordHasher.verify("08/15!tXst~4711", against: "JBOZ0DgmtucwE"))
        // DES looks at the first 8 characters only: one reason it counts as weak.
        #expect(PasswordHasher.verify("08/15!te", against: "JBOZ0DgmtucwE"))
        #expect(HashAnalysis("JBOZ0DgmtucwE").format == .desCrypt)
        #expect(HashAnalysis("JBOZ0DgmtucwE").isWeak)
    }

    @Test("hashes made by Debian's smtpctl encrypt verify with ours",
          .enabled(if: TestSupport.system("smtpctl") != nil, "smtpctl (opensmtpd) is not installed"))
    func smtpctlHashesVerify() throws {
        let smtpctl = try #require(TestSupport.system("smtpctl"))
        let byArgument = try TestSupport.run(smtpctl, ["encrypt", "pa:ss word"])
        try #require(byArgument.status == 0)
        let h1 = byArgument.stdout.trimmingCharacters(in: .newlines)
        #expect(PasswordHasher.verify("pa:ss word", against: h1))
        #expect(!PasswordHasher.verify("pa:ss wordx", against: h1))
        #expect(HashAnalysis(h1).format == .sha512Crypt)
        // Its stdin mode: one hash per line.
        let byStdin = try TestSupport.run(smtpctl, ["encrypt"], stdin: Data("first\nsecond\n".utf8))
        let lines = byStdin.stdout.split(separator: "\n").map(String.init)
        try #require(lines.count == 2)
        #expect(PasswordHasher.verify("first", against: lines[0]))
        #expect(PasswordHasher.verify("second", against: lines[1]))
        #expect(!PasswordHasher.verify("first", against: lines[1]))
    }

    @Test("our hashes verify with Dovecot's doveadm pw, and wrong passwords do not",
          .enabled(if: Doveadm.path != nil, "\(Doveadm.missing)"),
          arguments: [(PasswordScheme.bcrypt, nil as Int?), (.bcrypt, 5), (.sha512, nil), (.sha512, 7000),
                      (.sha256, nil), (.yescrypt, nil)])
    func dovecotVerifiesOurs(scheme: PasswordScheme, rounds: Int?) throws {
        let pw = "Dove cot-ü"
        let h = try PasswordHasher.hash(pw, scheme: scheme, rounds: rounds)
        #expect(try Doveadm.verifies("{\(scheme.dovecotName)}\(h)", password: pw))
        #expect(try !Doveadm.verifies("{\(scheme.dovecotName)}\(h)", password: pw + "x"))
        #expect(DovecotPasswords.verify(password: pw, field: "{\(scheme.dovecotName)}\(h)") == .accepted)
    }

    @Test("Dovecot's hashes verify with ours",
          .enabled(if: Doveadm.path != nil, "\(Doveadm.missing)"),
          arguments: [("BLF-CRYPT", PasswordScheme.bcrypt as PasswordScheme?, HashAnalysis.Format.bcrypt),
                      ("SHA512-CRYPT", .sha512, .sha512Crypt), ("SHA256-CRYPT", .sha256, .sha256Crypt),
                      ("MD5-CRYPT", nil, .md5Crypt)])
    func oursVerifiesDovecot(scheme: String, ours: PasswordScheme?, format: HashAnalysis.Format) throws {
        let line = try Doveadm.generate(scheme, password: "x")
        try #require(line.hasPrefix("{\(scheme)}"))
        let hash = String(line.dropFirst(scheme.count + 2))
        #expect(PasswordHasher.verify("x", against: hash))
        #expect(!PasswordHasher.verify("y", against: hash))
        let a = HashAnalysis(line)
        #expect(a.dovecotScheme == scheme)
        #expect(a.format == format)
        #expect(DovecotPasswords.verify(password: "x", field: line) == .accepted)
        #expect(DovecotPasswords.verify(password: "y", field: line) == .rejected)
        if scheme == "BLF-CRYPT" {
            // doveadm's default BLF-CRYPT cost is 5: weak by our rule.
            #expect(hash.hasPrefix("$2y$05$"))
            #expect(a.cost == 5 && a.isWeak)
        }
    }

    @Test("the legacy vectors above are what Dovecot says too",
          .enabled(if: Doveadm.path != nil, "\(Doveadm.missing)"))
    func legacyVectorsAgreeWithDovecot() throws {
        #expect(try Doveadm.verifies("{CRYPT}JBOZ0DgmtucwE", password: "08/15!test~4711"))
        #expect(try Doveadm.verifies("{SHA256-CRYPT}$5$rounds=1000$0123456789abcdef$K/DksR0DT01hGc8g/kt9McEgrbFMKi9qrb1jehe7hn4",
                                     password: "08/15!test~4711"))
    }
}
