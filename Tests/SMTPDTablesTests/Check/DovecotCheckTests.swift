import Foundation
import Testing
@testable import SMTPDTables

/// `check --dovecot-conf`: DovecotCheck's findings on a passwd file shared by smtpd and Dovecot, and the command.
@Suite("check --dovecot-conf")
struct DovecotCheckTests {
    static let password = "Secret Pass1"

    /// A scratch setup: smtpd.conf with `auth <passwd>` over `passwd`, and a dovecot.conf (`dovecot` text, where
    /// PASSWD is the passwd file's path).
    func withSetup<T>(passwd lines: [String], dovecot: String, shared: Bool = true,
                      _ body: (_ dir: String, _ smtpd: SMTPDConfig, _ conf: DovecotConfig) throws -> T) throws -> T {
        try TestSupport.withTemporaryDirectory { dir in
            let passwd = try TestSupport.write(lines.joined(separator: "\n") + "\n", to: "passwd", in: dir)
            let other = try TestSupport.write("x:y\n", to: "other", in: dir)
            let smtpdText = """
                table passwd file:\(shared ? passwd : other)
                pki mail.test cert "\(dir)/cert.pem"
                pki mail.test key "\(dir)/key.pem"
                listen on lo tls pki mail.test auth <passwd>
                action "l" mbox
                match for local action "l"

                """
            let smtpdPath = try TestSupport.write(smtpdText, to: "smtpd.conf", in: dir)
            let conf = try TestSupport.write(dovecot.replacingOccurrences(of: "PASSWD", with: passwd), to: "dovecot.conf", in: dir)
            return try body(dir, try SMTPDConfig.load(path: smtpdPath), try DovecotConfig.load(path: conf))
        }
    }

    static let conf23 = "passdb {\n  driver = passwd-file\n  args = scheme=BLF-CRYPT PASSWD\n}\n"
    static let conf24 = """
        dovecot_config_version = 2.4.1
        passdb passwd-file {
          passwd_file_path = PASSWD
          default_password_scheme = BLF-CRYPT
        }

        """

    @Test("the seed-style traps, each on its line, at 2.3 and at 2.4")
    func traps() throws {
        let bcrypt = try PasswordHasher.hash(Self.password, rounds: 4)
        let sha512 = try PasswordHasher.hash(Self.password, scheme: .sha512, rounds: 1000)
        let md5 = String(decoding: try #require(CryptLibrary.crypt(Array(Self.password.utf8), setting: Array("$1$abcdefgh".utf8))), as: UTF8.self)
        let lines = [
            "alice:\(bcrypt)",             // 1: fine
            "Frank@Example.org:\(bcrypt)", // 2: capitals
            "gina: \(bcrypt)",             // 3: blank after the colon
            "mike:\(md5)",                 // 4: weak at 2.4
            "dan:\(sha512)",               // 5: not bcrypt under BLF-CRYPT
            "alice:\(sha512)",             // 6: duplicate
        ]
        for (version, text) in [(DovecotVersion.v2_3, Self.conf23), (.v2_4, Self.conf24)] {
            try withSetup(passwd: lines, dovecot: text) { dir, smtpd, conf in
                let findings = DovecotCheck(dovecot: conf, version: version, smtpd: smtpd).run()
                let byLine = Dictionary(grouping: findings, by: { $0.line ?? 0 })
                #expect(byLine[1] == nil)
                #expect(byLine[2]?.map(\.code) == ["dovecot-user-case"])
                #expect(byLine[2]?.first?.severity == .error)
                #expect(byLine[3]?.map(\.code) == ["dovecot-blank-password-field"])
                #expect(byLine[4]?.map(\.code) == ["dovecot-weak-scheme"])
                #expect(byLine[4]?.first?.severity == (version == .v2_4 ? .error : .warning))
                if version == .v2_3 { #expect(byLine[4]?.first?.message.contains("refused after upgrading to 2.4") == true) }
                #expect(byLine[5]?.map(\.code) == ["dovecot-scheme-mismatch"])
                #expect(byLine[6]?.map(\.code) == ["dovecot-duplicate-user"])
                #expect(findings.allSatisfy { $0.file == dir + "/passwd" && $0.table == "passwd" })
                for f in findings { #expect(!f.message.contains(bcrypt) && !f.message.contains("$1$") && !f.message.contains(Self.password)) }
                // Not shared with smtpd: no duplicate warning (smtpd's side), the rest the same.
                let alone = DovecotCheck(dovecot: conf, version: version, smtpd: nil).run()
                #expect(!alone.contains { $0.code == "dovecot-duplicate-user" })
                #expect(alone.count == findings.count - 1)
            }
        }
    }

    @Test("a configuration in the other release's syntax does not start")
    func otherSyntax() throws {
        try withSetup(passwd: ["alice:x"], dovecot: "# seed\n" + Self.conf23) { _, smtpd, conf in
            let f = DovecotCheck(dovecot: conf, version: .v2_4, smtpd: smtpd).run().filter { $0.code == "dovecot-config-syntax" }
            #expect(f.count == 1 && f[0].line == 2 && f[0].message.contains("does not start on 2.4"))
            #expect(DovecotCheck(dovecot: conf, version: .v2_3, smtpd: smtpd).run().allSatisfy { $0.code != "dovecot-config-syntax" })
        }
        try withSetup(passwd: ["alice:x"], dovecot: Self.conf24) { _, smtpd, conf in
            let f = DovecotCheck(dovecot: conf, version: .v2_3, smtpd: smtpd).run().filter { $0.code == "dovecot-config-syntax" }
            #expect(f.count == 1 && f[0].line == 1)
        }
    }

    @Test("2.4 with no scheme named compares hashes as clear text; auth_allow_weak_schemes; auth_username_format")
    func settings() throws {
        let bcrypt = try PasswordHasher.hash(Self.password, rounds: 4)
        let md5 = "{MD5-CRYPT}" + String(decoding: try #require(CryptLibrary.crypt(Array("x".utf8), setting: Array("$1$abcdefgh".utf8))), as: UTF8.self)
        let text = "dovecot_config_version = 2.4.1\nauth_allow_weak_schemes = yes\nauth_username_format = %{user}\n"
            + "passdb passwd-file {\n  passwd_file_path = PASSWD\n}\n"
        try withSetup(passwd: ["Alice:\(bcrypt)", "bob:\(md5)", "carol:{PLAIN}x"], dovecot: text, shared: false) { _, smtpd, conf in
            let f = DovecotCheck(dovecot: conf, version: .v2_4, smtpd: smtpd).run()
            #expect(f.map(\.code) == ["dovecot-scheme-mismatch", "dovecot-scheme-prefix", "dovecot-scheme-prefix"])
            try #require(f.count == 3)
            #expect(f[0].message.contains("PLAIN") && f[0].message.contains("default_password_scheme"))
            #expect(f[1].severity == .note && f.allSatisfy { $0.table == nil })
        }
    }

    /// The check's verdict on a line, from its findings: refused whatever the password, or not.
    static func refusesAll(_ findings: [Finding]) -> Bool {
        findings.contains {
            ["dovecot-user-case", "dovecot-blank-password-field", "dovecot-scheme-mismatch"].contains($0.code)
                || ($0.code == "dovecot-weak-scheme" && $0.severity == .error)
        }
    }

    @Test("an empty password field: anyone in with an empty password under a PLAIN scheme, else no login at all")
    func emptyPasswords() throws {
        // As doveadm auth test answers (DovecotDaemonTests' empty-password logins): a line with only a user is an
        // empty field, the same as `user:`.
        let lines = ["nopw", "empty:", "plain:{PLAIN}", "locked:{BLF-CRYPT}"]
        let none24 = "dovecot_config_version = 2.4.1\npassdb passwd-file {\n  passwd_file_path = PASSWD\n}\n"
        for (version, text, loose) in [(DovecotVersion.v2_3, Self.conf23, false), (.v2_4, Self.conf24, false), (.v2_4, none24, true)] {
            try withSetup(passwd: lines, dovecot: text) { _, smtpd, conf in
                let findings = DovecotCheck(dovecot: conf, version: version, smtpd: smtpd).run()
                    .filter { $0.code == "dovecot-empty-password" }
                let severity = Dictionary(uniqueKeysWithValues: findings.map { ($0.line ?? 0, $0.severity) })
                #expect(severity == [1: loose ? .error : .note, 2: loose ? .error : .note, 3: .error, 4: .note], "\(version) \(findings)")
                for (i, line) in lines.enumerated() {
                    let entry = try #require(DovecotPasswdEntry(line: line))
                    let scheme = conf.passwdFilePassdbs.first?.defaultScheme
                    let verdict = DovecotPasswords.verify(password: [], entry: entry, defaultScheme: scheme, version: version)
                    #expect((verdict == .accepted) == (severity[i + 1] == .error), "\(version) \(line)")
                }
            }
        }
    }

    @Test("on generated passwd files, an error means Dovecot refuses every password (as verify, proven by doveadm, says)",
          arguments: DovecotVersion.allCases, [Optional("BLF-CRYPT"), nil])
    func errorsMatchVerify(_ version: DovecotVersion, _ scheme: String?) throws {
        let seed = UInt64.random(in: 1...UInt64(UInt32.max))
        var generator = DovecotCaseGenerator(seed: seed)
        let corpus = try generator.corpus()
        let text = version == .v2_3
            ? "passdb {\n  driver = passwd-file\n  args = \(scheme.map { "scheme=\($0) " } ?? "")PASSWD\n}\n"
            : "dovecot_config_version = 2.4.1\npassdb passwd-file {\n  passwd_file_path = PASSWD\n"
                + (scheme.map { "  default_password_scheme = \($0)\n" } ?? "") + "}\n"
        try withSetup(passwd: corpus.lines, dovecot: text) { _, smtpd, conf in
            let findings = DovecotCheck(dovecot: conf, version: version, smtpd: smtpd).run()
            var seen = Set<String>()
            for (i, line) in corpus.lines.enumerated() {
                guard let entry = DovecotPasswdEntry(line: line), seen.insert(entry.user).inserted else { continue }
                let here = findings.filter { $0.line == i + 1 }
                // A user's right password, as written and folded: does Dovecot let it in?
                let password = corpus.logins.first { $0.user == entry.user && $0.what.hasSuffix("right password") }?.password
                guard let password else { continue }
                let login = DovecotPasswords.entry(forLogin: entry.user, in: corpus.lines)
                let accepted = login.map { DovecotPasswords.verify(password: Array(password.utf8), entry: $0, defaultScheme: scheme, version: version) } == .accepted
                let field = entry.password ?? ""
                // 13 characters may be clear text or a DES hash: check does not guess (under PLAIN, or clear text in
                // a crypt field that happens to look like DES).
                let (effective, stored) = DovecotPasswords.scheme(of: field, defaultScheme: scheme ?? version.defaultPasswordScheme)
                let ambiguous = HashAnalysis(stored).format == .desCrypt && (effective == "PLAIN" || stored == password)
                if !field.isEmpty, !ambiguous {
                    #expect(Self.refusesAll(here) == !accepted, "seed \(seed), \(version) scheme \(scheme ?? "-"), line \(i + 1) \(line.debugDescription): \(here.map(\.code))")
                }
            }
        }
    }

    @Test("the command: findings after smtpd's, the banner, exit 1; an unreadable dovecot.conf is exit 2")
    func command() throws {
        let tool = TestSupport.product("smtpd-tables")
        let bcrypt = try PasswordHasher.hash(Self.password, rounds: 10)
        try withSetup(passwd: ["alice:\(bcrypt)", "Bob:\(bcrypt)"], dovecot: Self.conf23) { dir, _, _ in
            let r = try TestSupport.run(tool, ["check", "-f", dir + "/smtpd.conf", "--dovecot-conf", dir + "/dovecot.conf",
                                               "--dovecot-version", "2.4", "--smtpd-version", "7.6"])
            #expect(r.status == 1, "\(r.stdout) \(r.stderr)")
            #expect(r.stdout.contains("dovecot version: 2.4 (--dovecot-version)"))
            #expect(r.stdout.contains("\(dir)/dovecot.conf:1: error: this is a Dovecot 2.3 configuration: it does not start on 2.4"))
            #expect(r.stdout.contains("\(dir)/passwd:2: error: Bob: Dovecot folds the login"))
            #expect(!r.stdout.contains(bcrypt))
            let ok = try TestSupport.run(tool, ["check", "-f", dir + "/smtpd.conf", "--dovecot-conf", dir + "/dovecot.conf",
                                                "--dovecot-version", "2.3", "--json"])
            #expect(ok.stdout.contains("\"code\": \"dovecot-user-case\""))
            let userCase = try #require(ok.stdout.split(separator: "\n").first { $0.contains("dovecot-user-case") })
            #expect(userCase.contains("\"dovecotVersion\": \"2.3\"") && userCase.contains("\"smtpdVersion\""), "\(userCase)")
            let missing = try TestSupport.run(tool, ["check", "-f", dir + "/smtpd.conf", "--dovecot-conf", dir + "/nope.conf"])
            #expect(missing.status == 2 && missing.stderr.contains(dir + "/nope.conf"))
            try TestSupport.write("passdb {\n", to: "broken.conf", in: dir)
            let broken = try TestSupport.run(tool, ["check", "-f", dir + "/smtpd.conf", "--dovecot-conf", dir + "/broken.conf"])
            #expect(broken.status == 2 && broken.stderr.contains(dir + "/broken.conf:1:"))
        }
    }
}
