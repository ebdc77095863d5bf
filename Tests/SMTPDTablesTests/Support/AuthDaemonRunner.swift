import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// AUTH PLAIN and AUTH LOGIN over STARTTLS through a real smtpd (7.6 or later, whose TLS works), for the AUTH
/// daemon tests: a python3 client in the root tries each login on a connection of its own.
enum AuthDaemonRunner {
    struct Login { var user: String; var password: String }

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

    /// Starts `release`'s smtpd with `table passwd TABLE` as its listener's auth table (a self-signed
    /// certificate made in `dir` the first time; with `libexec`, the proc: helpers there) and tries every login
    /// with each of `mechanisms`. Returns mechanism -> the reply code of each login, in order (-1: no AUTH reply).
    static func codes(_ release: DebianRelease, dir: String, table: String, logins: [Login],
                      libexec: String? = nil, mechanisms: [String] = ["PLAIN", "LOGIN"]) throws -> [String: [Int]] {
        if !FileManager.default.fileExists(atPath: dir + "/cert.pem") {
            let made = try TestSupport.run(TestSupport.system("openssl") ?? "", [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", dir + "/key.pem",
                "-out", dir + "/cert.pem", "-subj", "/CN=mail.test", "-days", "30"])
            try #require(made.status == 0, "openssl: \(made.stderr)")
            chmod(dir + "/key.pem", 0o600)
        }
        let port = SMTPDaemon.freePort()
        let conf = try TestSupport.write("""
            table passwd \(table)
            pki mail.test cert "\(dir)/cert.pem"
            pki mail.test key "\(dir)/key.pem"
            listen on 127.0.0.1 port \(port) tls pki mail.test auth <passwd>
            action "l" mbox
            match for local action "l"

            """, to: "smtpd.conf", in: dir)
        let script = try TestSupport.write(client, to: "client.py", in: dir)
        let data = try JSONSerialization.data(withJSONObject: logins.map { [$0.user, $0.password] })
        try data.write(to: URL(fileURLWithPath: dir + "/logins.json"))

        let daemon = try SMTPDaemon(release, conf: conf, port: port, scratch: dir, libexec: libexec)
        defer { daemon.stop() }
        var codes: [String: [Int]] = [:]
        for mechanism in mechanisms {
            let r = try release.run(["/usr/bin/python3", script, String(port), mechanism, dir + "/logins.json"],
                                    scratch: dir, timeout: 120)
            let list = r.stdout.split(separator: "\n").compactMap { Int($0) }
            try #require(list.count == logins.count, "\(mechanism): \(r.stdout) \(r.stderr)\n\(daemon.log.suffix(2000))")
            codes[mechanism] = list
        }
        return codes
    }
}
