import Foundation
import Testing
@testable import SMTPDTables

/// The whole `ConfigCorpus`, and `releaseCases` (what releases read differently), judged by the `smtpd -n` of
/// every release there is (6.8 on the machine, 7.6 and 7.9 in their Debian roots) and by our reader at that
/// release: both accept a configuration or both refuse it, at the same line when smtpd names one.
/// (ConfigOracleTests also holds 6.8 to the corpus' own expectation, case by case.)
@Suite("smtpd.conf against smtpd -n of each release")
struct ConfigReleaseOracleTests {
    /// Configurations whose verdict changed between releases (`@D@` is the case's folder, which holds a
    /// self-signed certificate and its key as cert.pem and key.pem).
    static let releaseCases: [ConfigCase] = [
        ConfigCase(name: "multi-line braces (7.5)", text: """
            table t { a,
              b }
            action "l" mbox
            match for domain <t> action "l"
            """, valid: false, line: 1),
        ConfigCase(name: "newline as a separator", text: """
            table t { a
              b }
            action "l" mbox
            match for domain <t> action "l"
            """, valid: true),
        ConfigCase(name: "newline after the brace (7.5)", text: """
            table t {
              a, b }
            action "l" mbox
            match for domain <t> action "l"
            """, valid: false, line: 1),
        ConfigCase(name: "tls without pki (7.3)", text: """
            listen on 127.0.0.1 port 2525 tls
            action "l" mbox
            match for local action "l"
            """, valid: true),
        ConfigCase(name: "listener ciphers (7.3)", text: """
            pki mail.test cert "@D@/cert.pem"
            pki mail.test key "@D@/key.pem"
            listen on 127.0.0.1 port 2525 tls pki mail.test ciphers "HIGH"
            action "l" mbox
            match for local action "l"
            """, valid: false, line: 3),
        ConfigCase(name: "listener pki in capitals (7.3)", text: """
            pki mail.test cert "@D@/cert.pem"
            pki mail.test key "@D@/key.pem"
            listen on 127.0.0.1 port 2525 tls pki Mail.Test
            action "l" mbox
            match for local action "l"
            """, valid: true),
        ConfigCase(name: "two pki on a listener (7.3)", text: """
            pki a cert "@D@/cert.pem"
            pki a key "@D@/key.pem"
            pki b cert "@D@/cert.pem"
            pki b key "@D@/key.pem"
            listen on 127.0.0.1 port 2525 tls pki a pki b
            action "l" mbox
            match for local action "l"
            """, valid: false, line: 5),
        ConfigCase(name: "rcpt-to mapping (7.5)", text: """
            table m { bob = bob@example.org }
            action "l" mbox
            match rcpt-to <m> for local action "l"
            """, valid: false, line: 3),
        ConfigCase(name: "auth mapping (7.5)", text: """
            table m { bob = bob@example.org }
            action "l" mbox
            match auth <m> for local action "l"
            """, valid: false, line: 3),
        ConfigCase(name: "multi-line filter chain (7.5)", text: """
            filter a phase connect match rdns disconnect "550 no"
            filter b phase connect match !rdns disconnect "550 no"
            filter c chain { a,
             b }
            listen on 127.0.0.1 port 2525 filter c
            action "l" mbox
            match for local action "l"
            """, valid: false, line: 3),
    ]

    @Test("agrees with smtpd -n", .enabled(if: !DebianRelease.available.isEmpty, "needs root and a real smtpd"),
          .enabled(if: TestSupport.system("openssl") != nil, "needs openssl for the test certificate"),
          .disabled(if: TestSupport.underSanitizer, "process-level; the plain run covers it"),
          arguments: DebianRelease.available.map(\.suite))
    func agrees(_ suite: String) throws {
        let release = try #require(DebianRelease.named(suite))
        var differences: [String] = []
        var refusedNow = 0, acceptedNow = 0
        try release.withScratch { scratch in
            let made = try TestSupport.run(TestSupport.system("openssl") ?? "", [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", scratch + "/key.pem",
                "-out", scratch + "/cert.pem", "-subj", "/CN=mail.test", "-days", "30"])
            try #require(made.status == 0, "openssl: \(made.stderr)")
            let cert = try String(contentsOfFile: scratch + "/cert.pem", encoding: .utf8)
            let key = try String(contentsOfFile: scratch + "/key.pem", encoding: .utf8)
            for (i, c) in (ConfigCorpus.cases + Self.releaseCases).enumerated() {
                let dir = scratch + "/c\(i)"
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
                try TestSupport.write(cert, to: "cert.pem", in: dir)
                chmod(try TestSupport.write(key, to: "key.pem", in: dir), 0o600)
                let conf = try ConfigOracleTests.materialize(c, in: dir)
                let r = try release.configCheck(conf, scratch: scratch)
                let theirs = ConfigOracleTests.verdict(status: r.status, stderr: r.stderr)
                let ours = ConfigOracleTests.ourVerdict(conf: conf, version: release.version)
                if i >= ConfigCorpus.cases.count { if theirs.valid { acceptedNow += 1 } else { refusedNow += 1 } }
                if ours.valid != theirs.valid || (!theirs.valid && theirs.line != nil && ours.line != theirs.line) {
                    differences.append("\(c.name): smtpd \(theirs.valid ? "OK" : theirs.message) / ours \(ours.valid ? "OK" : ours.message)")
                }
            }
        }
        #expect(differences.isEmpty, "\(release): \(differences.count) differ:\n\(differences.joined(separator: "\n"))")
        // The release cases are not all one verdict: each release accepts some and refuses others.
        #expect(refusedNow > 0 && acceptedNow > 0)
    }
}
