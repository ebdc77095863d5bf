import Foundation
import Testing
@testable import SMTPDTables

/// Our makemap against the real one: the same input gives the same database (checked with the real
/// `makemap -U` and with `db5.3_dump -p`, which shows the header and the record order too).
@Suite("makemap output equals the real makemap's", .enabled(if: MakemapSupport.oracleAvailable))
struct MakemapOracleTests {
    // No trailing blanks after a value: 7.8 trims them, 6.8 keeps them.
    static let plain = ["Root john", "Postmaster:root", "ALICE   bob@example.org, carol@example.net",
                        "# a comment", "", "abuse |/usr/bin/handler --flag", "  indented\tvalue with\ttabs",
                        "*.example.org relay", "@example.com catchall"]
    static let aliases = ["root: john", "postmaster: root", "Team: alice, bob@example.org, /var/mail/team",
                          "devnull: /dev/null", "pipe: \"|/usr/bin/vacation -a x\"", "err: error:550 go away",
                          "mixed: a,b ,  c.d-e+f"]
    static let set = ["example.org", "Example.NET", "mx.example.com", "a key with spaces", "10.0.0.0/8"]

    typealias Case = MakemapSupport.Case

    static let cases: [Case] = [
        Case(name: "plain hash", options: [], lines: plain),
        Case(name: "plain btree", options: ["-d", "btree"], lines: plain),
        Case(name: "aliases hash", options: ["-t", "aliases"], lines: aliases),
        Case(name: "aliases btree", options: ["-dbtree", "-taliases"], lines: aliases),
        Case(name: "set hash", options: ["-t", "set"], lines: set),
        Case(name: "set btree", options: ["-t", "set", "-d", "btree"], lines: set),
        Case(name: "empty hash", options: [], lines: ["# nothing", ""]),
        Case(name: "empty btree", options: ["-d", "btree"], lines: []),
    ]

    @Test("same database as the real makemap", arguments: cases)
    func sameDatabase(_ c: Case) throws {
        try TestSupport.withTemporaryDirectory { dir in
            try FileManager.default.createDirectory(atPath: dir + "/ours", withIntermediateDirectories: false)
            try FileManager.default.createDirectory(atPath: dir + "/real", withIntermediateDirectories: false)
            let text = c.lines.isEmpty ? "" : MakemapSupport.text(c.lines)
            try TestSupport.write(text, to: "map", in: dir + "/ours")
            try TestSupport.write(text, to: "map", in: dir + "/real")
            let ours = try MakemapSupport.run(MakemapSupport.ours, c.options + ["map"], in: dir + "/ours")
            let real = try MakemapSupport.run(MakemapSupport.real ?? "", c.options + ["map"], in: dir + "/real")
            #expect(ours.status == real.status)
            #expect(ours.stdout == real.stdout)
            // The real one says nothing about btree; ours adds one warning line for it.
            let ourLines = MakemapSupport.upstreamPart(ours.stderr).split(separator: "\n").filter { !$0.contains("is a btree database") }
            #expect(ourLines == real.stderr.split(separator: "\n"))
            let btree = c.options.contains { $0.contains("btree") }
            #expect(ours.stderr.contains("is a btree database") == btree)
            let oursDB = dir + "/ours/map.db", realDB = dir + "/real/map.db"
            #expect(try MakemapSupport.dump(oursDB) == MakemapSupport.dump(realDB))
            #expect(try MakemapSupport.realDump(oursDB, btree: btree) == MakemapSupport.realDump(realDB, btree: btree))
            // Our -U prints what the real -U prints, on either file.
            let ourU = try MakemapSupport.run(MakemapSupport.ours, (btree ? ["-d", "btree"] : []) + ["-U", realDB], in: dir)
            #expect(ourU.status == 0)
            #expect(ourU.stdout == (try MakemapSupport.realDump(realDB, btree: btree)))
            // The map takes the source's mode.
            let mode = try FileManager.default.attributesOfItem(atPath: oursDB)[.posixPermissions] as? Int
            let sourceMode = try FileManager.default.attributesOfItem(atPath: dir + "/ours/map")[.posixPermissions] as? Int
            #expect(mode == sourceMode)
        }
    }

    @Test("standard input and the sendmail form")
    func standardInputAndSendmailForm() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let text = MakemapSupport.text(Self.plain)
            for (args, output) in [(["-o", "viaO.db", "-"], "viaO.db"), (["hash", "sm"], "sm.db"),
                                   (["btree", "sm2.db"], "sm2.db"), (["-t", "set", "hash", "sm3"], "sm3.db")] {
                for tool in ["ours", "real"] {
                    try? FileManager.default.createDirectory(atPath: dir + "/" + tool, withIntermediateDirectories: false)
                    let path = tool == "ours" ? MakemapSupport.ours : (MakemapSupport.real ?? "")
                    let r = try MakemapSupport.run(path, args, in: dir + "/" + tool, stdin: text)
                    #expect(r.status == 0, "\(tool) \(args): \(r.stderr)")
                }
                #expect(try MakemapSupport.dump(dir + "/ours/" + output) == MakemapSupport.dump(dir + "/real/" + output),
                        "\(args)")
                let mode = try FileManager.default.attributesOfItem(atPath: dir + "/ours/" + output)[.posixPermissions] as? Int
                #expect(mode == 0o600, "stdin maps keep mkstemp's mode, as upstream")
            }
        }
    }

    @Test("-U on a btree: works with -d btree, fails like the real one without")
    func dumpBtree() throws {
        try TestSupport.withTemporaryDirectory { dir in
            try TestSupport.write(MakemapSupport.text(Self.plain), to: "map", in: dir)
            #expect(try MakemapSupport.run(MakemapSupport.ours, ["-d", "btree", "map"], in: dir).status == 0)
            let ours = try MakemapSupport.run(MakemapSupport.ours, ["-U", "map.db"], in: dir)
            let real = try MakemapSupport.run(MakemapSupport.real ?? "", ["-U", "map.db"], in: dir)
            #expect(ours.status == 1 && real.status == 1)
            #expect(ours.stdout == real.stdout)
            // The real one also lets libdb print its own BDB0641 line first.
            #expect(ours.stderr == "makemap: dbopen: map.db: Invalid argument\n")
            #expect(real.stderr.hasSuffix(ours.stderr))
            let ok = try MakemapSupport.run(MakemapSupport.ours, ["-Ud", "btree", "map.db"], in: dir)
            #expect(ok.status == 0)
            #expect(ok.stdout == (try MakemapSupport.realDump(dir + "/map.db", btree: true)))
            let missing = try MakemapSupport.run(MakemapSupport.ours, ["-U", "nope.db"], in: dir)
            let realMissing = try MakemapSupport.run(MakemapSupport.real ?? "", ["-U", "nope.db"], in: dir)
            #expect(missing.status == realMissing.status)
            #expect(missing.stderr == realMissing.stderr)
        }
    }

    /// 100,000 entries both ways: ours and the real one write the same file, and each reads the other's.
    @Test("a large map")
    func largeMap() throws {
        try TestSupport.withTemporaryDirectory { dir in
            var text = ""
            text.reserveCapacity(4_000_000)
            for i in 0..<100_000 { text += "User\(i): alice\(i), bob\(i % 97)@example.org\n" }
            try TestSupport.write(text, to: "big", in: dir)
            let ours = try MakemapSupport.run(MakemapSupport.ours, ["-t", "aliases", "-o", "ours.db", "big"], in: dir)
            #expect(ours.status == 0, "\(ours.stderr)")
            let real = try MakemapSupport.run(MakemapSupport.real ?? "", ["-t", "aliases", "-o", "real.db", "big"], in: dir)
            #expect(real.status == 0)
            #expect(try MakemapSupport.dump(dir + "/ours.db") == MakemapSupport.dump(dir + "/real.db"))
            let table = try Table("db:" + dir + "/real.db")
            #expect(table.count == 100_000)
            for i in stride(from: 0, to: 100_000, by: 997) {
                #expect(try table.lookup("USER\(i)")?.value == "alice\(i), bob\(i % 97)@example.org")
            }
            #expect(try table.lookup("user100000") == nil)
        }
    }
}
