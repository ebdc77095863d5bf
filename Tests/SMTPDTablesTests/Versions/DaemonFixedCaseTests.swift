import Foundation
import Testing
@testable import SMTPDTables

#if canImport(Glibc)
import Glibc
#endif

/// Setups the generator does not reach, each aimed at a behaviour that differs between releases or that we
/// once got wrong, sent to every real smtpd there is and compared as `DaemonDifferentialTests` compares:
/// SRS recipients (keys, backup key, ttl, SRS1, case, an alias whose value is an SRS address, a non-empty
/// `MAIL FROM`), tagged recipients whose user's `.forward` names them again, root's `.forward` and deliveries
/// to uid 0, and an action with `user NAME`.
@Suite("Fixed cases against the real daemons", .serialized)
struct DaemonFixedCaseTests {
    static let releases = DebianRelease.available

    @Test("same replies and deliveries", .enabled(if: !releases.isEmpty, "needs root and a real smtpd"),
          .disabled(if: TestSupport.underSanitizer, "process-level; the plain run covers it"),
          .timeLimit(.minutes(5)), arguments: releases)
    func sameAsDaemon(_ release: DebianRelease) throws {
        let run = DaemonDifferentialTests.Run(release: release, backend: "file")
        var mismatches: [String] = []
        var compared = 0
        try release.withScratch { dir in
            for (name, setup) in Self.setups(now: Int64(time(nil))) {
                let (n, m) = try DaemonDifferentialTests.compare(setup, run: run, dir: dir + "/" + name)
                compared += n
                mismatches += m.map { "\(name): \($0)" }
            }
        }
        print("fixed cases \(release.suite) (\(release.version)): \(compared) recipients, "
              + "\(mismatches.filter { !$0.contains(":   ") }.count) differences")
        let report = mismatches.prefix(60).joined(separator: "\n")
        #expect(mismatches.isEmpty, "\(release.suite): \(mismatches.count) of \(compared) differ:\n\(report)")
    }

    static let srsKey = Array("s3cret".utf8), srsBackup = Array("0ld-key".utf8)

    static func setups(now: Int64) -> [(String, DaemonCaseGenerator.Setup)] {
        let day: Int64 = 86400
        func srs0(_ sender: String, key: [UInt8] = srsKey, at domain: String = "localhost", time: Int64 = now) -> String {
            SRS.encode(sender: sender, forwarderDomain: domain, key: key, now: time)
        }
        let base = """
            a6: u1
            a11: u2, f2
            a1: u3, u4
            """
        var srs = DaemonCaseGenerator.Setup()
        srs.settings = ["srs key \"s3cret\"", "srs key backup \"0ld-key\""]
        let inner = srs0("a1@relay.test", key: Array("other".utf8), at: "relay.test")
        srs.recipients = [
            srs0("u1@relay.test"), srs0("a1@relay.test"), srs0("x@elsewhere.test"),
            srs0("u2@relay.test", key: srsBackup), srs0("u2@relay.test", key: Array("wrong".utf8)),
            srs0("u3@relay.test", time: now - 10 * day), srs0("u3@relay.test", time: now - 3 * day),
            srs0("u3@relay.test", time: now + day), srs0("u3@relay.test", time: now + 3 * day),
            SRS.encode(sender: inner, forwarderDomain: "localhost", key: srsKey, now: now),
            "srs0=" + srs0("u4@relay.test").dropFirst(5), srs0("u4@relay.test", at: "LOCALHOST"),
            srs0("u4@Relay.Test"), "SRS0=AAAA=AA=relay.test=u1@localhost", "SRS0=x@localhost", "srsalias@localhost",
            "SRS1=" + srs0("u1@relay.test").dropFirst(5),
        ]
        srs.files["aliases"] = base + "\nsrsalias: \(srs0("u2@relay.test")), u3\nu9: \(srs0("a6@relay.test"))\n"
        srs.recipients.append("u9@localhost")
        srs.files["vusers"] = "v1@example.org u1\n"
        srs.files["vdomains"] = "example.org\n"

        var srsSender = srs
        srsSender.mailFrom = "someone@relay.test"

        var tagged = DaemonCaseGenerator.Setup()
        tagged.files = ["aliases": base + "\n", "vusers": "v1@example.org f2\n", "vdomains": "example.org\n"]
        tagged.forwards = ["f2": "a11\na6\nf2\n", "f1": "f1\nu3\n", "f3": "u1, U1\nf3+x\nf1+y\n"]
        tagged.recipients = ["f2+tag@localhost", "f2@localhost", "f1+tag@localhost", "f3+box@localhost",
                             "a11+t@localhost", "f1@localhost", "F2+Tag@localhost", "v1+x@example.org"]

        var root = DaemonCaseGenerator.Setup()
        root.files = ["aliases": base + "\nra: r1, u2\nrb: r0\n", "vusers": "v1@example.org r1\n",
                      "vdomains": "example.org\n"]
        root.extraUsers = ["r0", "r1"]
        root.uids = ["r0": 0, "r1": 0]
        root.forwards = ["r0": "|@S@/deliver.sh r\nu1\n"]
        root.recipients = ["r0@localhost", "r1@localhost", "ra@localhost", "rb@localhost", "v1@example.org"]

        var user = DaemonCaseGenerator.Setup()
        user.files = ["aliases": base + "\n", "vusers": "v1@example.org f1\n", "vdomains": "example.org\n"]
        user.localActionOptions = " user nobody"
        user.forwards = ["f1": "u2\n", "f2": "|@S@/deliver.sh w\n"]
        user.recipients = ["f1@localhost", "f2@localhost", "u1@localhost", "a11@localhost", "v1@example.org"]

        return [("srs", srs), ("srs-sender", srsSender), ("tagged", tagged), ("root", root), ("user", user)]
    }
}
