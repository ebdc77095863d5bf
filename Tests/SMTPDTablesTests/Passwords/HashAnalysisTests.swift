import Testing
@testable import SMTPDTables

@Suite("Hash analysis for check")
struct HashAnalysisTests {
    @Test func bcryptCostAndWeakness() throws {
        let strong = HashAnalysis(try PasswordHasher.hash("x", scheme: .bcrypt, rounds: 10))
        #expect(strong.format == .bcrypt && strong.cost == 10 && !strong.isWeak && strong.cryptCanVerify)
        let cheap = HashAnalysis(try PasswordHasher.hash("x", scheme: .bcrypt, rounds: 9))
        #expect(cheap.format == .bcrypt && cheap.cost == 9 && cheap.isWeak)
        #expect(cheap.notes.contains { $0.contains("below 10") })
    }

    @Test func shaCryptRounds() throws {
        let dflt = HashAnalysis(try PasswordHasher.hash("x", scheme: .sha512))
        #expect(dflt.format == .sha512Crypt && dflt.cost == 5000 && !dflt.isWeak)
        let low = HashAnalysis(try PasswordHasher.hash("x", scheme: .sha256, rounds: 4999))
        #expect(low.format == .sha256Crypt && low.cost == 4999 && low.isWeak)
        let high = HashAnalysis(try PasswordHasher.hash("x", scheme: .sha512, rounds: 100_000))
        #expect(high.cost == 100_000 && !high.isWeak)
    }

    @Test func yescryptCost() throws {
        for cost in [1, 3, 5] {
            let a = HashAnalysis(try PasswordHasher.hash("x", scheme: .yescrypt, rounds: cost))
            #expect(a.format == .yescrypt && a.cost == cost && a.cryptCanVerify)
        }
    }

    @Test("obsolete methods are weak")
    func obsolete() {
        for (hash, format) in [("$1$saltsalt$qjXMvbEw8oaL.CzflDtaK/", HashAnalysis.Format.md5Crypt),
                               ("JBOZ0DgmtucwE", .desCrypt),
                               ("_J9..CCCCXBrJUJV154M", .bsdiCrypt),
                               ("$3$$8846f7eaee8fb117ad06bdd830b7586c", .ntHash)] {
            let a = HashAnalysis(hash)
            #expect(a.format == format, "\(hash)")
            #expect(a.isWeak, "\(hash)")
        }
        #expect(HashAnalysis("$2x$10$" + String(repeating: "a", count: 53)).isWeak)
    }

    @Test("Dovecot {SCHEME} prefixes are recognised, case-insensitively")
    func prefixes() throws {
        let h = try PasswordHasher.hash("x")
        let a = HashAnalysis("{blf-crypt}" + h)
        #expect(a.dovecotScheme == "BLF-CRYPT" && a.format == .bcrypt && a.cost == 10)
        let mismatch = HashAnalysis("{BLF-CRYPT}" + (try PasswordHasher.hash("x", scheme: .sha512)))
        #expect(mismatch.notes.contains { $0.contains("does not check sha512-crypt") })
        let ssha = HashAnalysis("{SSHA512}c2VjcmV0c2FsdA==")
        #expect(ssha.format == .dovecot && ssha.dovecotScheme == "SSHA512" && ssha.isWeak && !ssha.cryptCanVerify)
        let argon = HashAnalysis("{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$c2FsdA$aGFzaA")
        #expect(argon.format == .dovecot && !argon.isWeak)
        let plain = HashAnalysis("{PLAIN}hunter2")
        #expect(plain.format == .plainText && plain.isWeak)
        #expect(!plain.notes.joined().contains("hunter2"))
    }

    @Test("plain text, empty, locked and unknown formats")
    func oddities() {
        let plain = HashAnalysis("hunter2")
        #expect(plain.format == .plainText && plain.isWeak && !plain.cryptCanVerify)
        #expect(!plain.notes.joined().contains("hunter2"))
        #expect(HashAnalysis("").format == .empty)
        #expect(HashAnalysis("!$6$abc$def").format == .locked)
        #expect(HashAnalysis("*").format == .locked)
        let unknown = HashAnalysis("$9$whatever$thing")
        #expect(unknown.format == .unknown && !unknown.cryptCanVerify)
        let truncated = HashAnalysis("$2b$10$tooShort")
        #expect(truncated.format == .unknown)
        #expect(truncated.notes.contains { $0.contains("malformed") })
        let badRounds = HashAnalysis("$6$rounds=abc$salt$" + String(repeating: "a", count: 86))
        #expect(badRounds.format == .unknown)
    }
}
