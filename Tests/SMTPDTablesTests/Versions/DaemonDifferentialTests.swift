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
        let fm = FileManager.default
        try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
        chmod(dir, 0o755)
        func uid(_ user: String) -> uid_t { setup.uids[user] ?? 1234 }
        for (name, text) in setup.files {
            let path = try TestSupport.write(text.replacingOccurrences(of: "@S@", with: dir), to: name, in: dir)
            chmod(path, 0o644)
        }
        var userinfo = ""
        for u in DaemonCaseGenerator.users + setup.extraUsers where setup.forwards[u] == nil {
            userinfo += "\(u) \(uid(u)):\(uid(u)):\(dir)/home\n"
        }
        try fm.createDirectory(atPath: dir + "/home", withIntermediateDirectories: true)
        chown(dir + "/home", 1234, 1234)
        for (u, text) in setup.forwards {
            let home = dir + "/h" + u
            try fm.createDirectory(atPath: home, withIntermediateDirectories: true)
            let path = try TestSupport.write(text.replacingOccurrences(of: "@S@", with: dir), to: ".forward", in: home)
            chown(path, uid(u), uid(u))
            chown(home, uid(u), uid(u))
            chmod(home, 0o755)
            userinfo += "\(u) \(uid(u)):\(uid(u)):\(home)\n"
        }
        try TestSupport.write(userinfo, to: "userinfo", in: dir)
        let log = try TestSupport.write("", to: "log", in: dir)
        chmod(log, 0o666)
        // One program is the mda (`-u` and the userbase's user: a user delivery; not $USER, which 6.8 sets to
        // an action's `user`) and every alias filter (with other arguments).
        let deliver = try TestSupport.write("""
            #!/bin/sh
            n=$(sed -n 's/^Subject: rcpt //p' | head -n 1)
            if [ "$1" = "-u" ]; then k="user:$2"; else k="filter:$*"; fi
            echo "$n $k" >> \(log)
            """, to: "deliver.sh", in: dir)
        chmod(deliver, 0o755)

        var tables = ["aliases", "vusers", "vdomains", "userinfo"].map { "table \($0) file:\(dir)/\($0)" }
        if run.backend == "db" {
            tables = []
            for t in ["aliases", "vusers", "vdomains", "userinfo"] {
                let set = t == "vdomains" ? ["-t", "set"] : []
                let r = try run.release.makemap(set + [t], in: dir, scratch: dir)
                guard r.status == 0 else { throw DaemonFailure("\(run.release) makemap \(t): \(r.stderr)") }
                tables.append("table \(t) db:\(dir)/\(t).db")
            }
        }
        let port = SMTPDaemon.freePort()
        let conf = try TestSupport.write((tables + setup.settings).joined(separator: "\n") + """

            listen on 127.0.0.1 port \(port)
            action "local" mda "\(deliver) -u %{user.username}" alias <aliases> userbase <userinfo>\(setup.localActionOptions)
            action "virtual" mda "\(deliver) -u %{user.username}" virtual <vusers> userbase <userinfo>
            action "out" relay
            match from any for domain <vdomains> action "virtual"
            match for local action "local"
            match from any for domain "relay.test" action "out"

            """, to: "smtpd.conf", in: dir)

        let hostname = HostFacts.systemHostname(mailnameFile: (run.release.root ?? "") + "/etc/mailname")
        var options = Resolver.Options(host: HostFacts(hostname: hostname, localAddresses: HostFacts.interfaceAddresses()),
                                       sender: .init(source: "127.0.0.1", mailFrom: setup.mailFrom))
        options.smtpdVersion = run.release.version
        let resolver = try Resolver(config: try SMTPDConfig.load(path: conf), options: options)

        let daemon = try SMTPDaemon(run.release, conf: conf, port: port, scratch: dir)
        defer { daemon.stop() }
        let smtp = try daemon.connect()

        // One transaction per recipient, its number in the subject, which deliver.sh logs with each delivery
        // (the environment names the original recipient in 7.6 and later only).
        var mismatches: [String] = []
        var expected: [Int: [String]] = [:]
        for (n, rcpt) in setup.recipients.enumerated() {
            let ours = try resolver.resolve(rcpt)
            guard smtp.command("MAIL FROM:<\(setup.mailFrom)>").hasPrefix("250") else {
                throw DaemonFailure("MAIL FROM refused")
            }
            let reply = smtp.command("RCPT TO:<\(rcpt)>")
            if ours.accepted {
                if !reply.hasPrefix("250") {
                    mismatches.append("\(rcpt): smtpd \(reply), we accept")
                    _ = smtp.command("RSET")
                    continue
                }
                var list: [String] = []
                // A delivery the mda refuses (root) is queued and bounced: deliver.sh never runs for it.
                for d in ours.deliveries where !ours.refusals.contains(where: { $0.delivery == d }) {
                    switch d {
                    case .user(let name, _, _): list.append("user:" + name)
                    case .filter(let command, _, _): list.append("filter:" + filterArguments(command, dir: dir))
                    case .file(let path, _, _): list.append("file:" + path)
                    case .relay: break
                    }
                }
                expected[n] = list
                guard smtp.command("DATA").hasPrefix("354"),
                      smtp.command("Subject: rcpt \(n)\r\n\r\nhello\r\n.").hasPrefix("250") else {
                    throw DaemonFailure("\(rcpt): message refused")
                }
            } else {
                if reply != (ours.reply ?? "") { mismatches.append("\(rcpt): smtpd \(reply), we \(ours.reply ?? "accept")") }
                _ = smtp.command("RSET")
            }
        }
        _ = smtp.command("QUIT")
        let want = expected.values.reduce(0) { $0 + $1.count }
        var got: [Int: [String]] = [:]
        for line in SMTPDaemon.lines(of: log, atLeast: want) {
            let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
            got[Int(parts[0]) ?? -1, default: []].append(parts.count > 1 ? parts[1] : "")
        }
        for n in Set(got.keys).union(expected.keys).sorted() {
            let a = (got[n] ?? []).sorted(), b = (expected[n] ?? []).sorted()
            let rcpt = setup.recipients.indices.contains(n) ? setup.recipients[n] : "?"
            if a != b { mismatches.append("\(rcpt): smtpd delivered \(a), we \(b)") }
        }
        if !mismatches.isEmpty {
            // The generated files, for reading the failure.
            for (name, text) in setup.files.sorted(by: { $0.key < $1.key }) + setup.forwards.map({ ("~\($0.key)/.forward", $0.value) }) {
                mismatches.append("  \(name): " + text.replacingOccurrences(of: "\n", with: "\\n"))
            }
        }
        return (setup.recipients.count, mismatches)
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
