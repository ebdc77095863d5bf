import Foundation
import Testing
@testable import SMTPDTables

#if canImport(Glibc)
import Glibc
#endif

/// Our proc: helpers (`table-idx`, `table-passwd`) run by the real smtpd 7.6 (Debian 13) and 7.9 (sid), as
/// smtpd runs them: from PATH_LIBEXEC, as its own user, one per table. Judged by smtpd itself: the same generated
/// setups (DaemonCaseGenerator) give the same RCPT replies and deliveries with every table served by table-idx
/// as with smtpd's own file: (and, on 7.6, db:) tables; AUTH through table-passwd gives the 235/535 of a file:
/// table; `smtpctl update table` reaches the helper; and a killed helper is a logged failure, never an answer.
@Suite("proc: tables through the real daemons", .serialized,
       .enabled(if: !ProcHelpers.releases.isEmpty, "needs root and a trixie or sid root"),
       .enabled(if: ProcHelpers.available, "no static release build of table-idx/table-passwd (run make, or .ci/run)"),
       .disabled(if: TestSupport.underSanitizer, "process-level; the plain run covers it"))
struct ProcDaemonTests {
    static let releases = ProcHelpers.releases
    static let seeds: [UInt64] = [1, 2]

    struct Pair: CustomStringConvertible, Sendable {
        var suite: String
        var theirs: DaemonTableKind
        var ours: DaemonTableKind
        var description: String { "\(suite) \(theirs) vs \(ours)" }
    }

    /// file: against table-idx over the same text on each release; db: against table-idx over the same
    /// makemap-built db where smtpd has db: (7.6).
    static let pairs: [Pair] = releases.flatMap { suite in
        [Pair(suite: suite, theirs: .file, ours: .idx)]
            + (DebianRelease.named(suite)?.hasDB == true ? [Pair(suite: suite, theirs: .db, ours: .idxDB)] : [])
    }

    @Test("same RCPT replies and deliveries as smtpd's own tables", .timeLimit(.minutes(5)), arguments: pairs)
    func sameAsOwnTables(_ pair: Pair) throws {
        let release = try #require(DebianRelease.named(pair.suite))
        var differences: [String] = []
        var recipients = 0, deliveries = 0
        try release.withScratch { dir in
            for seed in Self.seeds {
                // makemap refuses a key twice where a file: table keeps the first: no duplicates for the db kinds.
                var generator = DaemonCaseGenerator(seed: seed &* 104_729 &+ 16, duplicateKeys: !pair.theirs.needsMakemap)
                let setup = generator.setup()
                let a = try PreparedSetup(setup, release: release, kind: pair.theirs, dir: dir + "/s\(seed)-\(pair.theirs)")
                let b = try PreparedSetup(setup, release: release, kind: pair.ours, dir: dir + "/s\(seed)-\(pair.ours)")
                // Our resolver's count of deliveries only says how long to wait for them; the daemons are compared.
                let (_, hint) = try DaemonDifferentialTests.predictions(a, release: release)
                let seenA = try a.observe(release, expectedDeliveries: hint)
                let seenB = try b.observe(release, expectedDeliveries: seenA.deliveryCount)
                // The two folders differ in name only: deliver.sh logs filter arguments holding the folder.
                var d = seenA.differences(from: Self.renamed(seenB, from: b.dir, to: a.dir), recipients: setup.recipients,
                                          a: "\(pair.theirs):", b: "\(pair.ours):")
                if !d.isEmpty { d += a.filesReport + ["  \(pair.ours) daemon log: " + seenB.daemonLog.suffix(1500)] }
                differences += d.map { "seed \(seed): \($0)" }
                recipients += setup.recipients.count
                deliveries += seenA.deliveryCount
                #expect(seenA.replies.contains { $0.hasPrefix("250") } && seenA.replies.contains { $0.hasPrefix("5") })
            }
        }
        print("proc \(release.version) \(pair.theirs) vs \(pair.ours): \(Self.seeds.count) setups, \(recipients) recipients, "
              + "\(deliveries) deliveries, \(differences.count) differences")
        #expect(differences.isEmpty, "\(pair): \(differences.count) differ:\n\(differences.prefix(40).joined(separator: "\n"))")
        #expect(recipients > 50 * Self.seeds.count && deliveries > 15 * Self.seeds.count)
    }

    static func renamed(_ o: DaemonObservation, from: String, to: String) -> DaemonObservation {
        var o = o
        o.deliveries = o.deliveries.mapValues { $0.map { $0.replacingOccurrences(of: from, with: to) } }
        return o
    }

    @Test("AUTH through table-passwd: the 235/535 of a file: table", .timeLimit(.minutes(5)),
          .enabled(if: TestSupport.system("openssl") != nil, "needs openssl for the test certificate"),
          arguments: releases)
    func authAsFileTable(_ suite: String) throws {
        let release = try #require(DebianRelease.named(suite))
        // The AUTH suite's passwd, less the lines a passwd file reads otherwise than a file: table by design
        // (`hank HASH`: no `:`, which fails the whole passwd load; `gina: HASH`: the blank is part of the hash).
        // The file: table gets each line cut after the hash: its value is the whole rest of the line, so
        // `dave:HASH:1000:...` is a hash smtpd's crypt never matches there, which is what table-passwd is for.
        let (all, allLogins) = try AuthDaemonTests.corpus()
        let lines = all.filter { line in
            guard let colon = line.firstIndex(of: ":") else { return false }
            return !line[..<colon].contains(" ") && line[line.index(after: colon)...].first != " "
        }
        let cut = lines.map { line in line.hasPrefix("#") ? line : line.split(separator: ":", maxSplits: 2,
            omittingEmptySubsequences: false).prefix(2).joined(separator: ":") }
        try #require(lines.count >= 6 && lines.contains { $0.hasPrefix("dave:") && $0.hasSuffix("::") })
        // The right and the lower-cased password (the wrong one answers as the lower-cased one does), PLAIN only:
        // the table is asked the same for LOGIN, and every refusal costs smtpd's failure pause.
        let logins = allLogins.enumerated().filter { $0.offset % 3 != 2 }.map(\.element)
        try release.withScratch { dir in
            let libexec = try ProcHelpers.stage(in: dir)
            let passwd = try TestSupport.write(lines.joined(separator: "\n") + "\n", to: "passwd", in: dir)
            let cutFile = try TestSupport.write(cut.joined(separator: "\n") + "\n", to: "passwd-cut", in: dir)
            chmod(passwd, 0o644)
            chmod(cutFile, 0o644)
            let file = try AuthDaemonRunner.codes(release, dir: dir, table: "file:" + cutFile, logins: logins,
                                                  mechanisms: ["PLAIN"])
            let proc = try AuthDaemonRunner.codes(release, dir: dir, table: "passwd:" + passwd, logins: logins,
                                                  libexec: libexec, mechanisms: ["PLAIN"])
            var differences: [String] = []
            var accepted = 0, tried = 0
            for (i, (a, b)) in zip(file["PLAIN"] ?? [], proc["PLAIN"] ?? []).enumerated() {
                tried += 1
                if a == 235 { accepted += 1 }
                if a != b { differences.append("\(logins[i].user) / password #\(i % 2): file: \(a), passwd: \(b)") }
            }
            print("proc \(release.version) AUTH PLAIN file: vs passwd: \(tried) logins (\(accepted) accepted), "
                  + "\(differences.count) differences")
            #expect(differences.isEmpty, "\(release):\n\(differences.joined(separator: "\n"))")
            #expect(tried == logins.count && accepted > 0 && accepted < tried)
        }
    }

    /// Runs `body` with a daemon serving one `vdomains` table (`example.org`, as text or, with `db`, as a makemap
    /// set) through table-idx, connected, after a first RCPT that started the helper. Mail relays: a RCPT is
    /// accepted exactly when its domain is in the table.
    static func withVdomainsDaemon(_ release: DebianRelease, db: Bool = false,
                                   _ body: (_ dir: String, _ table: String, SMTPDaemon, SMTPClient) throws -> Void) throws {
        try release.withScratch { dir in
            let text = try TestSupport.write("example.org\n", to: "vdomains", in: dir)
            chmod(text, 0o644)
            if db { try #require(try release.makemap(["-t", "set", "vdomains"], in: dir, scratch: dir).status == 0) }
            let table = db ? dir + "/vdomains.db" : text
            let libexec = try ProcHelpers.stage(in: dir)
            let port = SMTPDaemon.freePort()
            let conf = try TestSupport.write("""
                table vdomains idx:\(table)
                listen on 127.0.0.1 port \(port)
                action "out" relay
                match from any for domain <vdomains> action "out"

                """, to: "smtpd.conf", in: dir)
            let daemon = try SMTPDaemon(release, conf: conf, port: port, scratch: dir, libexec: libexec)
            defer { daemon.stop() }
            let smtp = try daemon.connect()
            #expect(rcpt(smtp, "a@example.org").hasPrefix("250"))
            try body(dir, table, daemon, smtp)
        }
    }

    static func rcpt(_ smtp: SMTPClient, _ address: String) -> String {
        _ = smtp.command("RSET")
        _ = smtp.command("MAIL FROM:<>")
        return smtp.command("RCPT TO:<\(address)>")
    }

    @Test("smtpctl update table reaches table-idx", .timeLimit(.minutes(5)), arguments: releases)
    func updateTable(_ suite: String) throws {
        let release = try #require(DebianRelease.named(suite))
        try Self.withVdomainsDaemon(release) { _, text, daemon, smtp in
            // The text source, replaced as an editor or a script would, by rename: nothing is read until update.
            #expect(Self.rcpt(smtp, "a@new.test").hasPrefix("550"))
            try Data("example.org\nnew.test\n".utf8).write(to: URL(fileURLWithPath: text), options: .atomic)
            chmod(text, 0o644)
            #expect(Self.rcpt(smtp, "a@new.test").hasPrefix("550"), "the text table was read again before the update")
            let r = try daemon.control(["update", "table", "vdomains"])
            #expect(r.status == 0, "smtpctl update table: \(r.stdout) \(r.stderr)")
            #expect(Self.rcpt(smtp, "a@new.test").hasPrefix("250"), "\(daemon.log.suffix(1500))")
            #expect(Self.rcpt(smtp, "a@example.org").hasPrefix("250"))
            // A file that no longer loads: the update is refused, the old entries stay, smtpd logs why.
            try Data("example.org\n".utf8).write(to: URL(fileURLWithPath: text), options: .atomic)
            chmod(text, 0)
            let refused = try daemon.control(["update", "table", "vdomains"])
            #expect(refused.status != 0, "smtpctl took a failed update for a success")
            #expect(Self.rcpt(smtp, "a@new.test").hasPrefix("250"))
            #expect(daemon.isRunning)
            // The helper's reason, on the standard error smtpd gave it (smtpd's log).
            let reason = daemon.log.split(separator: "\n").last { $0.hasPrefix("table vdomains:") }
            #expect(reason != nil, "\(daemon.log.suffix(1500))")
            print("proc \(release.version) update table: text re-read on update only; an unreadable file: smtpctl "
                  + "exit \(refused.status), old entries kept, logged \(reason ?? "nothing")")
        }
    }

    @Test("smtpctl update table after makemap rebuilt the db", .timeLimit(.minutes(5)),
          .enabled(if: DebianRelease.named("trixie")?.hasDB == true, "needs trixie's makemap"))
    func updateRebuiltDB() throws {
        let release = try #require(DebianRelease.named("trixie"))
        try Self.withVdomainsDaemon(release, db: true) { dir, _, daemon, smtp in
            #expect(Self.rcpt(smtp, "a@new.test").hasPrefix("550"))
            chmod(try TestSupport.write("new.test\n", to: "vdomains", in: dir), 0o644)
            try #require(try release.makemap(["-t", "set", "vdomains"], in: dir, scratch: dir).status == 0)
            let r = try daemon.control(["update", "table", "vdomains"])
            #expect(r.status == 0, "smtpctl update table: \(r.stdout) \(r.stderr)")
            #expect(Self.rcpt(smtp, "a@new.test").hasPrefix("250"), "\(daemon.log.suffix(1500))")
            #expect(Self.rcpt(smtp, "a@example.org").hasPrefix("550"))
        }
    }

    @Test("a killed table-idx: a logged failure, never an answer", .timeLimit(.minutes(5)), arguments: releases)
    func killedBackend(_ suite: String) throws {
        let release = try #require(DebianRelease.named(suite))
        try Self.withVdomainsDaemon(release) { _, text, daemon, smtp in
            // smtpd runs the helper as `vdomains PATH` (argv[0] the table's name).
            let helpers = SMTPDaemon.processes(withArguments: ["vdomains", text])
            try #require(helpers.count == 1, "table-idx processes for \(text): \(helpers)")
            kill(helpers[0], SIGKILL)
            usleep(300_000)
            // One address in the table and one not: a dead table must answer neither (a 250 for the second
            // would be a silent wrong answer).
            let inTable = Self.rcpt(smtp, "b@example.org")
            let notInTable = Self.rcpt(smtp, "b@elsewhere.test")
            for _ in 0..<50 where daemon.isRunning { usleep(100_000) }
            let log = daemon.log
            print("proc \(release.version) killed table-idx: RCPT in table -> \(inTable), not in table -> "
                  + "\(notInTable), daemon \(daemon.isRunning ? "still running" : "ended"), log: "
                  + (log.split(separator: "\n").last { $0.contains("table-proc") } ?? "(nothing on table-proc)"))
            #expect(!notInTable.hasPrefix("250"))
            #expect(inTable.hasPrefix("4") || inTable == "(no reply)", "\(inTable)")
            #expect(notInTable.hasPrefix("4") || notInTable == "(no reply)", "\(notInTable)")
            #expect(log.contains("table-proc"), "smtpd's log does not name the failure:\n\(log.suffix(1500))")
        }
    }
}
