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

    struct Login { var user: String; var password: String }

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

    /// The client, in the root's python3 (smtplib with STARTTLS, certificate not verified: it is self-signed).
    static let client = """
        import json, smtplib, ssl, sys
        port, mech = int(sys.argv[1]), sys.argv[2]
        logins = json.load(open(sys.argv[3]))
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        for user, password in logins:
            s = smtplib.SMTP("127.0.0.1", port, timeout=20)
            s.starttls(context=ctx)
            s.ehlo("client.test")
            try:
                s.user, s.password = user, password
                s.auth(mech, getattr(s, "auth_" + mech.lower()), initial_response_ok=True)
                code = 235
            except smtplib.SMTPAuthenticationError as e:
                code = e.smtp_code
            except smtplib.SMTPException as e:
                code = -1
            print(code, flush=True)
            try: s.quit()
            except Exception: pass
        """

    @Test("235/535 as verify predicts", .enabled(if: !releases.isEmpty, "needs root and a trixie or sid root"),
          .enabled(if: TestSupport.system("openssl") != nil, "needs openssl for the test certificate"),
          .disabled(if: TestSupport.underSanitizer, "process-level; the plain run covers it"),
          .timeLimit(.minutes(5)), arguments: releases)
    func sameVerdicts(_ suite: String) throws {
        let release = try #require(DebianRelease.named(suite))
        let (lines, logins) = try Self.corpus()
        try release.withScratch { dir in
            let made = try TestSupport.run(TestSupport.system("openssl") ?? "", [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", dir + "/key.pem",
                "-out", dir + "/cert.pem", "-subj", "/CN=mail.test", "-days", "30"])
            try #require(made.status == 0, "openssl: \(made.stderr)")
            chmod(dir + "/key.pem", 0o600)
            let passwd = try TestSupport.write(lines.joined(separator: "\n") + "\n", to: "passwd", in: dir)
            chmod(passwd, 0o644)
            let port = SMTPDaemon.freePort()
            let conf = try TestSupport.write("""
                table passwd file:\(passwd)
                pki mail.test cert "\(dir)/cert.pem"
                pki mail.test key "\(dir)/key.pem"
                listen on 127.0.0.1 port \(port) tls pki mail.test auth <passwd>
                action "l" mbox
                match for local action "l"

                """, to: "smtpd.conf", in: dir)
            let script = try TestSupport.write(Self.client, to: "client.py", in: dir)
            let data = try JSONSerialization.data(withJSONObject: logins.map { [$0.user, $0.password] })
            try data.write(to: URL(fileURLWithPath: dir + "/logins.json"))

            // Our prediction: the credentials lookup at this release, then the hash check.
            let table = try Table("file:" + passwd, options: TableOptions(version: release.version))
            let ours: [Bool] = try logins.map { login in
                guard let m = try table.lookup(login.user, service: .credentials), let v = m.valueBytes else { return false }
                guard let c = try? Credentials(key: m.keyBytes, value: v) else { return false }
                return c.accepts(password: login.password)
            }

            let daemon = try SMTPDaemon(release, conf: conf, port: port, scratch: dir)
            defer { daemon.stop() }
            var differences: [String] = []
            var accepted = 0
            for mechanism in ["PLAIN", "LOGIN"] {
                let r = try release.run(["/usr/bin/python3", script, String(port), mechanism, dir + "/logins.json"],
                                        scratch: dir, timeout: 120)
                let codes = r.stdout.split(separator: "\n").compactMap { Int($0) }
                try #require(codes.count == logins.count, "\(mechanism): \(r.stdout) \(r.stderr)\n\(daemon.log.suffix(2000))")
                for (i, code) in codes.enumerated() {
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
