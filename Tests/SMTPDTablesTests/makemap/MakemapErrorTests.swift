import Foundation
import Testing
@testable import SMTPDTables

/// Refused input and bad usage: the same message and exit code as the real makemap, the old map untouched,
/// no temporary file left.
@Suite("makemap errors, as the real makemap", .enabled(if: MakemapSupport.oracleAvailable))
struct MakemapErrorTests {
    typealias Case = MakemapSupport.Case

    static let cases: [Case] = [
        Case(name: "duplicate", options: [], lines: ["a b", "c d", "A e"]),
        Case(name: "duplicate in a set", options: ["-t", "set"], lines: ["x.org", "y.org", "X.ORG"]),
        Case(name: "key without value", options: [], lines: ["a b", "novalue", "c d"]),
        Case(name: "key without value, aliases", options: ["-t", "aliases"], lines: ["a: b", "lonely"]),
        Case(name: "duplicate before a malformed line", options: [], lines: ["a b", "a c", "bad"]),
        Case(name: "malformed before a duplicate", options: [], lines: ["a b", "bad", "a c"]),
        Case(name: "empty alias element", options: ["-t", "aliases"], lines: ["ok: a", "x: a,,b"]),
        Case(name: "trailing comma", options: ["-t", "aliases"], lines: ["x: a,"]),
        Case(name: "invalid alias element", options: ["-t", "aliases"], lines: ["x: a b"]),
        Case(name: "quotes do not protect commas", options: ["-t", "aliases"], lines: ["x: \"|cmd, arg\""]),
        Case(name: "relative include", options: ["-t", "aliases"], lines: ["x: include:rel"]),
        Case(name: "bad error code", options: ["-t", "aliases"], lines: ["x: error:250 fine"]),
        Case(name: "duplicate with an invalid value", options: ["-t", "aliases"], lines: ["x: a", "X: a b"]),
        Case(name: "unknown type", options: ["-t", "nope"], lines: ["a b"]),
        Case(name: "unknown db type", options: ["-d", "nope"], lines: ["a b"]),
        Case(name: "unknown option", options: ["-x"], lines: ["a b"]),
        Case(name: "-o with the sendmail form", options: ["-o", "x.db", "hash"], lines: ["a b"]),
        Case(name: "-h", options: ["-h"], lines: ["a b"]),
    ]

    @Test("same message and status as the real makemap; old map untouched; no temporary file", arguments: cases)
    func refused(_ c: Case) throws {
        try TestSupport.withTemporaryDirectory { dir in
            for tool in ["ours", "real"] {
                try FileManager.default.createDirectory(atPath: dir + "/" + tool, withIntermediateDirectories: false)
                try TestSupport.write(MakemapSupport.text(c.lines), to: "map", in: dir + "/" + tool)
                try TestSupport.write("old map", to: "map.db", in: dir + "/" + tool)
            }
            let ours = try MakemapSupport.run(MakemapSupport.ours, c.options + ["map"], in: dir + "/ours")
            let real = try MakemapSupport.run(MakemapSupport.real ?? "", c.options + ["map"], in: dir + "/real")
            #expect(ours.status == real.status)
            #expect(ours.status == 1)
            // getopt's messages name the program as invoked (its full path here).
            let oursText = MakemapSupport.upstreamPart(ours.stderr).replacingOccurrences(of: MakemapSupport.ours + ":", with: "makemap:")
            #expect(MakemapSupport.explainsEveryInvalidEntry(ours.stderr), "\(ours.stderr)")
            let realText = real.stderr.replacingOccurrences(of: (MakemapSupport.real ?? "") + ":", with: "makemap:")
            #expect(oursText == realText)
            #expect(ours.stdout == real.stdout)
            #expect(MakemapSupport.contents(dir + "/ours/map.db") == Data("old map".utf8))
            #expect(try MakemapSupport.leftovers(in: dir + "/ours", target: "map.db") == [])
        }
    }

    @Test("a missing source, a locked source, and standard input names")
    func sources() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let ours = try MakemapSupport.run(MakemapSupport.ours, ["missing"], in: dir)
            let real = try MakemapSupport.run(MakemapSupport.real ?? "", ["missing"], in: dir)
            #expect(ours.status == real.status && ours.stderr == real.stderr)

            // Errors in standard input are reported as `-:LINE`.
            let oursStdin = try MakemapSupport.run(MakemapSupport.ours, ["-o", "s.db", "-"], in: dir, stdin: "a b\nA c\n")
            let realStdin = try MakemapSupport.run(MakemapSupport.real ?? "", ["-o", "s.db", "-"], in: dir, stdin: "a b\nA c\n")
            #expect(oursStdin.status == realStdin.status && oursStdin.stderr == realStdin.stderr)
            #expect(oursStdin.stderr == "makemap: -:2: duplicate entry for a\n")

            // A writer's exclusive lock on the source.
            let path = try TestSupport.write("a b\n", to: "locked", in: dir)
            let fd = open(path, O_RDONLY | O_CLOEXEC)  // no child of a concurrent test may hold the lock
            defer { close(fd) }
            #expect(flock(fd, LOCK_EX) == 0)
            let locked = try MakemapSupport.run(MakemapSupport.ours, ["locked"], in: dir)
            let realLocked = try MakemapSupport.run(MakemapSupport.real ?? "", ["locked"], in: dir)
            #expect(locked.status == 1 && locked.stderr == "makemap: locked is locked\n")
            #expect(locked.stderr == realLocked.stderr)
            #expect(try MakemapSupport.leftovers(in: dir, target: "locked.db") == [])
        }
    }

    /// A killed run's temporary file (a dead PID, no lock) is removed by the next successful build; a live
    /// writer's is kept.
    @Test("stale temporary files of killed runs are removed")
    func staleTemporaries() throws {
        try TestSupport.withTemporaryDirectory { dir in
            try TestSupport.write("a b\n", to: "map", in: dir)
            // PIDs above the kernel's pid_max never exist.
            let stale = try TestSupport.write("junk", to: "map.db.smtpd-tables-tmp.2147483646.abcdef", in: dir)
            let live = try TestSupport.write("junk", to: "map.db.smtpd-tables-tmp.\(getpid()).abcdef", in: dir)
            let r = try MakemapSupport.run(MakemapSupport.ours, ["map"], in: dir)
            #expect(r.status == 0)
            #expect(!FileManager.default.fileExists(atPath: stale))
            #expect(FileManager.default.fileExists(atPath: live))
        }
    }
}
