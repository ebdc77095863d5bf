import Foundation
import Testing
@testable import SMTPDTables

/// `verify`'s smtpd verdict against real AUTH PLAIN and AUTH LOGIN over STARTTLS, through smtpd 7.6 (Debian 13)
/// and 7.9 (sid), whose TLS works (Debian 12's 6.8 cannot complete it with OpenSSL 3). One seed-style shared
/// passwd file (bcrypt, sha512-crypt, `{SCHEME}` prefixes, passwd-file trailing fields, blanks after the
/// colon, user names in capitals), tried with right, wrong and other-case passwords and other-case logins:
/// every 235/535 must be what our credentials lookup and check predict at that release.
@Suite("AUTH through the real daemons")
struct AuthDaemonTests {
    static let releases = DebianRelease.available.filter { $0.version.has(.listenerTLSOptions) }.map(\.suite)

    typealias Login = AuthDaemonRunner.Login

    /// The passwd file (lines) and the logins to try.
    static func corpus() throws -> (lines: [String], logins: [Login]) {
        let pw = "Secret Pass1"
        let bcrypt = try PasswordHasher.hash(pw, scheme: .bcrypt, rounds: 4)
        let sha512 = try PasswordHasher.hash(pw, scheme: .sha512, rounds: 1000)
        let lines = [
            "alice:\(bcrypt)",
            "bob:\(sha512)",
            "carol:{BLF-CRYPT}\(bcrypt)",
            "dave:\(bcrypt):1000:1000::/home/dave::",
            "Frank:\(bcrypt)",
            "gina: \(bcrypt)",
            "hank \(sha512)",
            "ivy:\(sha512)::",
            "# comment:\(bcrypt)",
        ]
        var logins: [Login] = []
        for user in ["alice", "bob", "carol", "dave", "frank", "Frank", "gina", "hank", "ivy", "ALICE", "nobody"] {
            for password in [pw, pw.lowercased(), "wrong"] { logins.append(Login(user: user, password: password)) }
        }
        return (lines, logins)
    }

    @Test("235/535 as verify predicts", .enabled(if: !releases.isEmpty, "needs root and a trixie or sid root"),
          .enabled(if: TestSupport.system("openssl") != nil, "needs openssl for the test certificate"),
          .disabled(if: TestSupport.underSanitizer, "process-level; the plain run covers it"),
          .timeLimit(.minutes(5)), arguments: releases)
    func sameVerdicts(_ suite: String) throws {
        let release = try #require(DebianRelease.named(suite))
        let (lines, logins) = try Self.corpus()
        try release.withScratch { dir in
            let passwd = try TestSupport.write(lines.joined(separator: "\n") + "\n", to: "passwd", in: dir)
            chmod(passwd, 0o644)
            // Our prediction: the credentials lookup at this release, then the hash check.
            let table = try Table("file:" + passwd, options: TableOptions(version: release.version))
            let ours: [Bool] = try logins.map { login in
                guard let m = try table.lookup(login.user, service: .credentials), let v = m.valueBytes else { return false }
                guard let c = try? Credentials(key: m.keyBytes, value: v) else { return false }
                return c.accepts(password: login.password)
            }
            let codes = try AuthDaemonRunner.codes(release, dir: dir, table: "file:" + passwd, logins: logins)
            var differences: [String] = []
            var accepted = 0
            for (mechanism, list) in codes.sorted(by: { $0.key < $1.key }) {
                for (i, code) in list.enumerated() {
                    let want = ours[i] ? 235 : 535
                    if code == 235 { accepted += 1 }
                    if code != want {
                        differences.append("\(mechanism) \(logins[i].user) / password #\(i % 3): smtpd \(code), we \(want)")
                    }
                }
            }
            let report = differences.joined(separator: "\n")
            #expect(differences.isEmpty, "\(release):\n\(report)")
            #expect(accepted > 0 && accepted < 2 * logins.count)
        }
    }
}
