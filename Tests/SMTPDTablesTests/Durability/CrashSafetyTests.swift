import Foundation
import Testing
@testable import SMTPDTables

/// makemap killed (SIGKILL) at random moments while it rebuilds a large map: the map is always the
/// complete old one or the complete new one, as judged by the real makemap's dump and by our reader;
/// the killed runs' temporary files are reported by `smtpd-tables check` and removed by the next
/// successful build, and only those.
@Suite("Durability: makemap killed mid-build", .serialized)
struct CrashSafetyTests {
    /// Entries in version A; version B has 1000 more, so a count alone tells them apart. A debug build
    /// takes about 130 ms to build 100k entries on an idle machine, long enough to land kills in every
    /// phase; more would make each round's checks (two full dumps of the map) too slow for CI.
    static let entries = 100_000
    static let kills = Durability.quick ? 8 : 32

    /// The inode of `path` (the map in place).
    static func inode(_ path: String) throws -> UInt64 {
        var st = stat()
        guard stat(path, &st) == 0 else { throw DurabilityFailure("stat \(path): \(errno)") }
        return UInt64(st.st_ino)
    }

    struct Version {
        var tag: String
        var count: Int
        var source: String
        var dump: Data
    }

    @Test(.enabled(if: TestSupport.realMakemap != nil, "needs the real makemap (Debian opensmtpd)"))
    func killedRebuildsLeaveTheOldOrTheNewMap() throws {
        let seed = ProcessInfo.processInfo.environment["DURABILITY_SEED"].flatMap { UInt64($0) }
        var random = SeededGenerator(seed: seed)
        let makemap = TestSupport.product("makemap")
        try TestSupport.withTemporaryDirectory { dir in
            let target = dir + "/map.db"
            // Sources not named after the target, so that check's freshness rule stays quiet.
            let sourceA = try TestSupport.write(bytes: Durability.source(count: Self.entries, tag: "A"),
                                                to: "source-a", in: dir)
            let sourceB = try TestSupport.write(bytes: Durability.source(count: Self.entries + 1000, tag: "B"),
                                                to: "source-b", in: dir)
            // Reference builds, timed from the moment the child runs, as the kill delays are: how long a
            // whole run takes here and now (debug build, machine maybe loaded). Runs that finish before their
            // signal refine the estimate.
            var durations: [Double] = []
            func timedBuild(_ source: String, _ output: String) throws {
                let p = try Durability.start(makemap, ["-o", output, source])
                let t0 = Durability.now()
                p.waitUntilExit()
                durations.append(Durability.now() - t0)
                guard p.terminationStatus == 0 else { throw DurabilityFailure("makemap \(source) failed") }
            }
            try timedBuild(sourceB, dir + "/reference-b.db")
            try timedBuild(sourceA, target)
            guard let dumpA = try Durability.realDump(target),
                  let dumpB = try Durability.realDump(dir + "/reference-b.db") else {
                throw DurabilityFailure("the real makemap cannot dump our maps")
            }
            #expect(Durability.lineCount(dumpA) == Self.entries)
            #expect(Durability.lineCount(dumpB) == Self.entries + 1000)
            let versions = [Version(tag: "A", count: Self.entries, source: sourceA, dump: dumpA),
                            Version(tag: "B", count: Self.entries + 1000, source: sourceB, dump: dumpB)]
            func buildTime() -> Double { durations.sorted()[durations.count / 2] }

            var current = 0  // index in versions of the map in place
            var kills = 0, oldKept = 0, newInPlace = 0, exitedFirst = 0
            var killFractions: [Double] = [], afterRename = 0, afterCreate = 0
            var round = 0
            while kills < Self.kills, round < 3 * Self.kills {
                defer { round += 1 }
                let next = 1 - current
                // How each kill is timed, by round: mostly a delay drawn over the whole run; every fourth one
                // in its last fifth or a little past it (close, fsync, rename, directory fsync, removal of
                // stale files); every fourth one right after the rename is seen (the target's inode changes),
                // which load on the machine cannot make miss the end of the run (at least one such kill lands
                // before the last ones, whatever the count). The last three kills follow
                // the creation of the temporary file, so that some are left for the checks below.
                enum Timing { case delay(Double), afterRename, afterCreate }
                let timing: Timing = kills >= Self.kills - 3 ? .afterCreate
                    : round % 4 == 3 || (afterRename == 0 && kills >= Self.kills - 4) ? .afterRename
                    : round % 4 == 2 ? .delay(Double.random(in: 0.8...1.05, using: &random))
                    : .delay(Double.random(in: 0...1, using: &random))
                let estimate = buildTime()
                let before = try Self.inode(target)
                let p = try Durability.start(makemap, ["-o", target, versions[next].source])
                let t0 = Durability.now()
                let deadline = t0 + 20 * estimate + 5
                var description: String
                switch timing {
                case .delay(let fraction):
                    Durability.sleep(seconds: fraction * estimate)
                    description = "delay \(Int(fraction * estimate * 1000)) ms of \(Int(estimate * 1000)) ms"
                case .afterRename:
                    while p.isRunning, (try? Self.inode(target)) == before, Durability.now() < deadline {}
                    description = "after the rename"
                case .afterCreate:
                    while p.isRunning, (try? Durability.temporaries(of: target))?.isEmpty ?? true,
                          Durability.now() < deadline { Durability.sleep(seconds: 0.0002) }
                    description = "after the temporary file was created"
                }
                kill(p.processIdentifier, SIGKILL)
                p.waitUntilExit()
                let killed = p.terminationReason == .uncaughtSignal
                if killed {
                    kills += 1
                    switch timing {
                    case .delay(let fraction): killFractions.append(fraction)
                    case .afterRename: afterRename += 1
                    case .afterCreate: afterCreate += 1
                    }
                } else {
                    exitedFirst += 1
                    durations.append(Durability.now() - t0)
                    #expect(p.terminationStatus == 0, "round \(round): makemap failed without being killed")
                }

                // The real makemap must read a whole map, one of the two.
                let context = "round \(round), seed \(random.seed), killed \(description)"
                guard let dump = try Durability.realDump(target) else {
                    Issue.record("\(context): the real makemap cannot read the map")
                    return
                }
                let realSees = versions.firstIndex { Durability.sameRecords(dump, $0.dump) }
                guard let realSees else {
                    Issue.record("\(context): the map is neither version: \(Durability.lineCount(dump)) records, digest \(Durability.digest(dump))")
                    return
                }
                // Our reader must agree.
                let table = try Table(path: target, backend: .db)
                let ours = Durability.dump(of: table)
                #expect(Durability.sameRecords(ours, versions[realSees].dump),
                        "\(context): our reader sees \(table.count) records, digest \(Durability.digest(ours))")
                if !killed { #expect(realSees == next, "\(context): a finished run left the old map") }
                if killed { if realSees == current { oldKept += 1 } else { newInPlace += 1 } }
                current = realSees
            }
            #expect(kills == Self.kills, "only \(kills) of \(round) runs were killed before they ended")
            // Both outcomes happened: kills before and after the rename.
            #expect(oldKept > 0 && newInPlace > 0,
                    "kills: \(oldKept) kept the old map, \(newInPlace) left the new one (seed \(random.seed))")

            // The killed runs' temporary files: reported by check, removed by the next build, and only them.
            let leftovers = try Durability.temporaries(of: target)
            let config = try TestSupport.write(
                "table map db:\(target)\naction \"local\" mbox\nmatch for local action \"local\"\n",
                to: "smtpd.conf", in: dir)
            let check = try TestSupport.run(TestSupport.product("smtpd-tables"), ["check", "--json", "-f", config])
            let findings = try JSONDecoder().decode([Finding].self, from: check.stdoutBytes)
            let reported = findings.filter { $0.code == "stale-temporary" }.compactMap(\.file).sorted()
            #expect(!leftovers.isEmpty, "no temporary file was left by the mid-build kills")
            #expect(reported == leftovers)
            #expect(leftovers.isEmpty || check.status == 1)

            // Files that look like temporaries but are not provably stale: a live writer's PID (ours), and a
            // dead PID whose file is still locked (a writer in another PID namespace, say).
            let livePID = try TestSupport.write("x", to: "map.db\(AtomicFile.marker)\(getpid()).Live00", in: dir)
            let lockedPath = try TestSupport.write("x", to: "map.db\(AtomicFile.marker)2147483646.Lockd0", in: dir)
            let lockFD = open(lockedPath, O_RDONLY | O_CLOEXEC)
            defer { close(lockFD) }
            #expect(flock(lockFD, LOCK_EX | LOCK_NB) == 0)

            let final = try TestSupport.run(makemap, ["-o", target, versions[1 - current].source])
            #expect(final.status == 0)
            #expect(try Durability.temporaries(of: target) == [livePID, lockedPath].sorted())
            if let dump = try Durability.realDump(target) {
                #expect(Durability.sameRecords(dump, versions[1 - current].dump))
            }
            let after = try TestSupport.run(TestSupport.product("smtpd-tables"), ["check", "--json", "-f", config])
            let afterFindings = try JSONDecoder().decode([Finding].self, from: after.stdoutBytes)
            #expect(!afterFindings.contains { $0.code == "stale-temporary" })

            print("durability: \(kills) kills of makemap rebuilding a \(Self.entries)-entry map in \(round) runs "
                  + "(\(exitedFirst) finished before their signal; run time about \(Int(buildTime() * 1000)) ms; "
                  + "kills at \(Int((killFractions.min() ?? 0) * 100))%...\(Int((killFractions.max() ?? 0) * 100))% of it, "
                  + "\(killFractions.filter { $0 >= 0.8 }.count) in the last fifth, \(afterRename) right after the rename, "
                  + "\(afterCreate) after the temporary file appeared; seed \(random.seed)): "
                  + "\(oldKept) kept the old map, \(newInPlace) left the new one, none partial or unreadable; "
                  + "\(leftovers.count) temporary files left, all reported by check and removed by the next build")
        }
    }
}
