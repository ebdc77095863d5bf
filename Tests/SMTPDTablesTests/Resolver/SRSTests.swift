import Foundation
import Testing
@testable import SMTPDTables

/// SRS as smtpd writes and reads it; the real daemons judge it in DaemonFixedCaseTests.
@Suite struct SRSTests {
    @Test func sha1MatchesTheStandardVectors() {
        func hex(_ s: String) -> String { SHA1.digest(Array(s.utf8)).map { String(format: "%02x", $0) }.joined() }
        #expect(hex("abc") == "a9993e364706816aba3e25717850c26c9cd0d89d")
        #expect(hex("") == "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        #expect(hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
                == "84983e441c3bd26ebaae4aa1f95129e5e54670f1")
        #expect(hex(String(repeating: "a", count: 1000)).count == 40)
    }

    @Test func sha1AgreesWithOpenSSLOnGeneratedInputs() throws {
        let openssl = try #require(TestSupport.system("openssl"))
        var rng = SplitMix64(seed: 77)
        for length in [0, 1, 55, 56, 63, 64, 65, 119, 120, 300] {
            let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("sha1-\(length)").path
            try #require(FileManager.default.createFile(atPath: file, contents: Data(bytes)))
            defer { try? FileManager.default.removeItem(atPath: file) }
            let r = try TestSupport.run(openssl, ["dgst", "-sha1", "-r", file])
            let theirs = String(r.stdout.prefix(40))
            #expect(SHA1.digest(bytes).map { String(format: "%02x", $0) }.joined() == theirs, "length \(length)")
        }
    }

    @Test func roundTripsWithinTheTTLAndOnlyThen() {
        let keys = SRSKeys(key: Array("k".utf8), backupKey: Array("old".utf8), ttlDays: 4)
        let now: Int64 = 1_780_000_000
        for offset in -6...3 {
            let a = SRS.encode(sender: "bob@example.com", forwarderDomain: "fwd.test", key: keys.key!,
                               now: now + Int64(offset) * 86400)
            #expect(a.hasPrefix("SRS0="))
            let decoded = SRS.decode(Array(a.utf8), keys: keys, now: now).map { String(decoding: $0, as: UTF8.self) }
            // Up to ttl days old, or one day ahead.
            #expect((decoded == "bob@example.com") == (-4...1).contains(offset), "offset \(offset)")
        }
        let signedByBackup = SRS.encode(sender: "bob@example.com", forwarderDomain: "fwd.test", key: keys.backupKey!, now: now)
        #expect(SRS.decode(Array(signedByBackup.utf8), keys: keys, now: now) != nil)
        #expect(SRS.decode(Array(signedByBackup.utf8), keys: SRSKeys(key: keys.key), now: now) == nil)
        #expect(SRS.decode(Array(signedByBackup.utf8), keys: SRSKeys(), now: now) == nil)
    }

    @Test func timestampsWrapAtDay1024() {
        let keys = SRSKeys(key: Array("k".utf8))
        // Day 1024 * k + 1 is stamp 1; an address stamped at day 1023 (three days before... modulo 1024) is fresh.
        let day: Int64 = 86400
        let now = (1024 * 20 + 1) * day
        let old = SRS.encode(sender: "u@d.test", forwarderDomain: "f.test", key: keys.key!, now: now - 2 * day)
        #expect(SRS.decode(Array(old.utf8), keys: keys, now: now) != nil)
        let tooOld = SRS.encode(sender: "u@d.test", forwarderDomain: "f.test", key: keys.key!, now: now - 5 * day)
        #expect(SRS.decode(Array(tooOld.utf8), keys: keys, now: now) == nil)
        let ahead = SRS.encode(sender: "u@d.test", forwarderDomain: "f.test", key: keys.key!, now: now + day)
        #expect(SRS.decode(Array(ahead.utf8), keys: keys, now: now) != nil)
    }

    @Test func srs1DecodesToTheFirstForwardersSRS0() {
        let now: Int64 = 1_780_000_000
        let first = SRS.encode(sender: "bob@example.com", forwarderDomain: "one.test", key: Array("a".utf8), now: now)
        let second = SRS.encode(sender: first, forwarderDomain: "two.test", key: Array("b".utf8), now: now)
        #expect(second.hasPrefix("SRS1=") && second.hasSuffix("@two.test"))
        let decoded = SRS.decode(Array(second.utf8), keys: SRSKeys(key: Array("b".utf8)), now: now)
        #expect(decoded.map { String(decoding: $0, as: UTF8.self) } == first)
        // A third hop keeps the first forwarder's part.
        let third = SRS.encode(sender: second, forwarderDomain: "three.test", key: Array("c".utf8), now: now)
        #expect(third.hasPrefix("SRS1=") && third.contains("one.test==") && third.hasSuffix("@three.test"))
        #expect(SRS.decode(Array(third.utf8), keys: SRSKeys(key: Array("c".utf8)), now: now)
                    .map { String(decoding: $0, as: UTF8.self) } == first)
    }

    @Test func theResolverDecodesAtEachReleaseAsSmtpdDoes() throws {
        let now: Int64 = 1_780_000_000
        let conf = """
            srs key "k"
            table aliases { postmaster = root }
            action "local" mbox alias <aliases>
            action "out" relay
            match from any for domain "relay.test" action "out"
            match for local action "local"
            """
        let config = try SMTPDConfig.parse(text: conf, path: "smtpd.conf")
        #expect(config.srs.key == Array("k".utf8) && "\(config.srs)".contains("set") && !"\(config.srs)".contains("\"k\""))
        let rcpt = SRS.encode(sender: "root@relay.test", forwarderDomain: "localhost", key: Array("k".utf8), now: now)
        func resolve(_ version: String, mailFrom: String = "") throws -> Resolution {
            var o = Resolver.Options(hostname: "localhost", sender: .init(mailFrom: mailFrom))
            o.smtpdVersion = try SMTPDVersion(version)
            o.now = now
            return try Resolver(config: config, options: o).resolve(rcpt)
        }
        // 7.3 and later match the decoded address: relayed back to the sender.
        #expect(try resolve("7.6").deliveries == [.relay(address: "root@relay.test", action: "out")])
        // 6.8 matched the address as received (a local domain) and delivered the decoded user locally.
        let old = try resolve("6.8")
        #expect(old.deliveries.count == 1)
        if case .user(let name, _, "local")? = old.deliveries.first { #expect(name == "root") } else { Issue.record("\(old.deliveries)") }
        // Only bounces (an empty MAIL FROM) are decoded.
        #expect(try resolve("7.6", mailFrom: "x@y.test").accepted == false)
    }
}
