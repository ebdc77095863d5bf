import Foundation
import Testing
@testable import SMTPDTables

/// `check --upgrade-to`: what changes meaning from Debian 12's 6.8 to Debian 13's 7.6 (and back), line by line.
@Suite struct UpgradeCheckTests {
    static func fixture(in dir: String) throws -> String {
        try TestSupport.write("f: g # note\na : b\nc:: d\nbob: bob@[127.0.0.1]\n[::1] x\nplain value\n", to: "vusers", in: dir)
        try TestSupport.write("root: bob # admin\nx\\#y: z\nok: fine\n", to: "aliases", in: dir)
        try TestSupport.write("bob $2b$08$abcdefghijklmnopqrstuv\nAlice : $2b$08$Secret1234567890abcdefg\n", to: "passwd", in: dir)
        return try TestSupport.write("""
            table aliases db:\(dir)/aliases.db
            table vusers file:\(dir)/vusers
            table passwd file:\(dir)/passwd
            table doms { example.org,
              example.net }
            pki mail.test cert "\(dir)/cert.pem"
            pki mail.test key "\(dir)/key.pem"
            listen on 127.0.0.1 port 2525 tls pki mail.test auth-optional <passwd>
            action "l" mbox alias <aliases>
            action "v" mbox virtual <vusers>
            match for domain <doms> action "v"
            match for local action "l"
            """, to: "smtpd.conf", in: dir)
    }

    @Test func from68To76() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let conf = try Self.fixture(in: dir)
            let findings = UpgradeCheck(configPath: conf, from: try SMTPDVersion("6.8"), to: try SMTPDVersion("7.6")).run()
            let got = Set(findings.map { "\(($0.file ?? "").split(separator: "/").last ?? ""):\($0.line ?? 0) \($0.code)" })
            #expect(got == [
                "aliases:1 upgrade-line-changes",       // 6.8's makemap cut `# admin`
                "aliases:2 upgrade-line-changes",       // and read `\#` as `#`
                "vusers:2 upgrade-line-changes",        // `a : b`
                "vusers:3 upgrade-line-changes",        // `c:: d`
                "vusers:4 upgrade-address-literal",     // bob@[127.0.0.1]
                "vusers:5 upgrade-line-changes",        // `[::1]` key
                "passwd:2 upgrade-line-changes",        // `Alice : HASH`
                "smtpd.conf:4 upgrade-config-accepted", // a table over two lines: 6.8 refuses it
            ], "\(findings.map(\.description))")
            // The credentials table's values stay hidden.
            #expect(!findings.contains { $0.message.contains("$2b$") || $0.message.contains("Secret") })
            // Nothing changes between two releases of one grammar.
            #expect(UpgradeCheck(configPath: conf, from: try SMTPDVersion("7.6"), to: try SMTPDVersion("7.9")).run().isEmpty)
        }
    }

    @Test func downgradeNamesTheRefusedLine() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let conf = try Self.fixture(in: dir)
            let findings = UpgradeCheck(configPath: conf, from: try SMTPDVersion("7.6"), to: try SMTPDVersion("6.8")).run()
            let refused = try #require(findings.first { $0.code == "upgrade-config-refused" })
            #expect(refused.line == 4 && refused.severity == .error)
        }
    }

    @Test func srsAndActionUserAcrossTheirReleases() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let conf = try TestSupport.write("""
                srs key backup "older-secret"
                srs key "the-secret"
                table aliases file:\(dir)/aliases
                action "l" mda "/bin/true" alias <aliases> user nobody
                action "out" relay srs
                match for local action "l"
                match from any for any action "out"
                """, to: "smtpd.conf", in: dir)
            try TestSupport.write("root: nobody\n", to: "aliases", in: dir)
            func codes(_ a: String, _ b: String) throws -> [String: Int] {
                let f = UpgradeCheck(configPath: conf, from: try SMTPDVersion(a), to: try SMTPDVersion(b)).run()
                #expect(!f.contains { $0.message.contains("secret") }, "the srs key is never shown")
                return Dictionary(f.map { ($0.code, $0.line ?? 0) }, uniquingKeysWith: { a, _ in a })
            }
            let up = try codes("6.8", "7.6")
            #expect(up["upgrade-srs"] == 2 && up["upgrade-action-user-forwards"] == 4, "\(up)")
            // 7.3 to 7.4: SRS already decoded the new way, and `user` did not skip forwards yet.
            let mid = try codes("7.3", "7.4")
            #expect(mid["upgrade-srs"] == nil && mid["upgrade-action-user-forwards"] == nil)
            let later = try codes("7.4", "7.5")
            #expect(later["upgrade-srs"] == nil && later["upgrade-action-user-forwards"] == 4)
        }
    }
}
