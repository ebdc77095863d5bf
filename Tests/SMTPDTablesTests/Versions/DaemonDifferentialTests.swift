import Foundation
import Testing
@testable import SMTPDTables

#if canImport(Glibc)
import Glibc
#endif

/// Generated setups (DaemonCaseGenerator) sent as RCPTs to each real smtpd there is (Debian 12's 6.8 on the
/// machine, Debian 13's 7.6 and sid's 7.9 in their roots) and resolved by us at that daemon's version: the same
/// reply to every RCPT and the same deliveries (user, filter) for every accepted one, with the tables as
/// file: and, where the daemon has db:, as db: maps built by that release's own makemap. The mda and every
/// alias filter are one script that logs what was delivered, under the number of the recipient (one message
/// per recipient, numbered in its subject).
@Suite("RCPT differential against the real daemons", .serialized)
struct DaemonDifferentialTests {
    static let seeds: [UInt64] = [1, 2, 3, 4, 5, 6]

    struct Run: CustomStringConvertible, Sendable {
        var release: DebianRelease
        var backend: String
        var description: String { "\(release.suite) \(backend)" }
    }

    static let runs: [Run] = DebianRelease.available.flatMap { r in
        (r.hasDB ? ["file", "db"] : ["file"]).map { Run(release: r, backend: $0) }
    }

    @Test("same replies and deliveries", .enabled(if: !runs.isEmpty, "needs root and a real smtpd"),
          .disabled(if: TestSupport.underSanitizer, "process-level; the plain run covers it"),
          .timeLimit(.minutes(5)), arguments: runs)
    func sameAsDaemon(_ run: Run) throws {
        var mismatches: [String] = []
        var compared = 0
        try run.release.withScratch { dir in
            for seed in Self.seeds {
                // makemap refuses a duplicate key where a file: table keeps the first: no duplicates for db:.
                var generator = DaemonCaseGenerator(seed: seed &* 7919 &+ 4, duplicateKeys: run.backend == "file")
                let setup = generator.setup()
                let (n, m) = try Self.compare(setup, run: run, dir: dir + "/s\(seed)")
                compared += n
                mismatches += m.map { "seed \(seed): \($0)" }
            }
        }
        let report = mismatches.prefix(40).joined(separator: "\n")
        #expect(mismatches.isEmpty, "\(run): \(mismatches.count) of \(compared) differ:\n\(report)")
        #expect(compared > 200)
    }

    /// Writes `setup` into `dir`, starts the daemon on it, sends every recipient and compares. Returns the
    /// number of recipients compared and the differences.
    static func compare(_ setup: DaemonCaseGenerator.Setup, run: Run, dir: String) throws -> (Int, [String]) {
        let prepared = try PreparedSetup(setup, release: run.release, kind: run.backend == "db" ? .db : .file, dir: dir)
        let (predicted, want) = try predictions(prepared, release: run.release)
        let seen = try prepared.observe(run.release, expectedDeliveries: want)

        var mismatches: [String] = []
        var expected: [Int: [String]] = [:]
        for (n, rcpt) in setup.recipients.enumerated() {
            let ours = predicted[n], reply = seen.replies[n]
            if ours.accepted {
                if reply.hasPrefix("250") {
                    expected[n] = ours.deliveries
                } else {
                    mismatches.append("\(rcpt): smtpd \(reply), we accept")
                }
            } else if reply != (ours.reply ?? "") {
                mismatches.append("\(rcpt): smtpd \(reply), we \(ours.reply ?? "accept")")
            }
        }
        for n in Set(seen.deliveries.keys).union(expected.keys).sorted() {
            let a = seen.deliveries[n] ?? [], b = (expected[n] ?? []).sorted()
            let rcpt = setup.recipients.indices.contains(n) ? setup.recipients[n] : "?"
            if a != b { mismatches.append("\(rcpt): smtpd delivered \(a), we \(b)") }
        }
        if !mismatches.isEmpty { mismatches += prepared.filesReport }
        return (setup.recipients.count, mismatches)
    }

    /// What our resolver says of each recipient: accepted (and the deliveries deliver.sh would log) or the
    /// reply; and the number of deliveries in all.
    static func predictions(_ prepared: PreparedSetup, release: DebianRelease) throws
        -> ([(accepted: Bool, reply: String?, deliveries: [String])], Int) {
        let hostname = HostFacts.systemHostname(mailnameFile: (release.root ?? "") + "/etc/mailname")
        var options = Resolver.Options(host: HostFacts(hostname: hostname, localAddresses: HostFacts.interfaceAddresses()),
                                       sender: .init(source: "127.0.0.1", mailFrom: prepared.setup.mailFrom))
        options.smtpdVersion = release.version
        let resolver = try Resolver(config: try SMTPDConfig.load(path: prepared.conf), options: options)
        var out: [(accepted: Bool, reply: String?, deliveries: [String])] = []
        var count = 0
        for rcpt in prepared.setup.recipients {
            let ours = try resolver.resolve(rcpt)
            var list: [String] = []
            // A delivery the mda refuses (root) is queued and bounced: deliver.sh never runs for it.
            for d in ours.deliveries where !ours.refusals.contains(where: { $0.delivery == d }) {
                switch d {
                case .user(let name, _, _): list.append("user:" + name)
                case .filter(let command, _, _): list.append("filter:" + filterArguments(command, dir: prepared.dir))
                case .file(let path, _, _): list.append("file:" + path)
                case .relay: break
                }
            }
            if ours.accepted { count += list.count }
            out.append((ours.accepted, ours.reply, list))
        }
        return (out, count)
    }

    /// What our deliver.sh logs for a filter command: its arguments, as the shell splits them.
    static func filterArguments(_ command: String, dir: String) -> String {
        var words = command.split(whereSeparator: { $0 == " " || $0 == "\t" }).map {
            String($0).replacingOccurrences(of: "\"", with: "")
        }
        if !words.isEmpty { words.removeFirst() }
        return words.joined(separator: " ")
    }
}
