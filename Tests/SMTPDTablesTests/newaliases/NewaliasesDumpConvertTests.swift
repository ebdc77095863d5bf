import Foundation
import Testing
@testable import SMTPDTables

@Suite("newaliases, smtpd-tables dump and convert")
struct NewaliasesDumpConvertTests {
    static let aliasText = "root: john\nPostmaster: root\nteam: alice, bob@example.org\n"

    @Test("newaliases builds the config's aliases table like the real one",
          .enabled(if: MakemapSupport.oracleAvailable && TestSupport.system("newaliases") != nil && getuid() == 0))
    func newaliases() throws {
        try TestSupport.withTemporaryDirectory { dir in
            for tool in ["ours", "real"] {
                let sub = dir + "/" + tool
                try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: false)
                try TestSupport.write(Self.aliasText, to: "aliases", in: sub)
                // A db: table: newaliases builds its source, the path without `.db`.
                try TestSupport.write("table aliases db:\(sub)/aliases.db\nlisten on localhost\n"
                                      + "action \"l\" mbox alias <aliases>\nmatch for local action \"l\"\n",
                                      to: "smtpd.conf", in: sub)
                // The real newaliases checks the whole config first, which opens the db table: it must exist.
                #expect(try TestSupport.run(MakemapSupport.real ?? "", ["-t", "aliases", sub + "/aliases"]).status == 0)
            }
            let ours = try TestSupport.run(TestSupport.product("newaliases"), ["-f", dir + "/ours/smtpd.conf"])
            let real = try TestSupport.run(TestSupport.system("newaliases") ?? "", ["-f", dir + "/real/smtpd.conf"])
            #expect(ours.status == 0 && real.status == 0)
            #expect(ours.stdout == "\(dir)/ours/aliases: 3 aliases\n")
            #expect(ours.stdout.replacingOccurrences(of: "/ours/", with: "/real/") == real.stdout)
            #expect(try MakemapSupport.dump(dir + "/ours/aliases.db") == MakemapSupport.dump(dir + "/real/aliases.db"))

            // Invalid aliases: same refusal.
            try TestSupport.write("x: a,,b\n", to: "aliases", in: dir + "/ours")
            try TestSupport.write("x: a,,b\n", to: "aliases", in: dir + "/real")
            let o2 = try TestSupport.run(TestSupport.product("newaliases"), ["-f", dir + "/ours/smtpd.conf"])
            let r2 = try TestSupport.run(TestSupport.system("newaliases") ?? "", ["-f", dir + "/real/smtpd.conf"])
            #expect(o2.status == 1 && r2.status == 1)
            // Upstream's line as it prints it, then ours saying what is wrong.
            #expect(MakemapSupport.upstreamPart(o2.stderr).replacingOccurrences(of: "/ours/", with: "/real/") == r2.stderr)
            #expect(MakemapSupport.explainsEveryInvalidEntry(o2.stderr) && o2.stderr.contains("alias element 2 is empty"))
        }
    }

    @Test("makemap -b i -O AliasFile= builds an aliases map")
    func makemapNewaliasesMode() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let src = try TestSupport.write(Self.aliasText, to: "al", in: dir)
            let r = try TestSupport.run(MakemapSupport.ours, ["-bi", "-O", "AliasFile=" + src])
            #expect(r.status == 0)
            #expect(r.stdout == "\(src): 3 aliases\n")
            #expect(try Table("db:" + src + ".db").lookup("postmaster")?.value == "root")
        }
    }

    @Test("dump prints what makemap -U prints; convert goes file -> hash -> btree -> file")
    func dumpAndConvert() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let tool = TestSupport.product("smtpd-tables")
            let src = try TestSupport.write(Self.aliasText, to: "aliases", in: dir)
            #expect(try TestSupport.run(MakemapSupport.ours, ["-t", "aliases", src]).status == 0)
            let ourU = try TestSupport.run(MakemapSupport.ours, ["-U", src + ".db"])
            let dump = try TestSupport.run(tool, ["dump", src + ".db"])
            #expect(dump.status == 0 && dump.stdout == ourU.stdout)
            let fileDump = try TestSupport.run(tool, ["dump", "file:" + src])
            #expect(fileDump.stdout == "root\tjohn\npostmaster\troot\nteam\talice, bob@example.org\n")

            #expect(try TestSupport.run(tool, ["convert", src, dir + "/h.db"]).status == 0)
            #expect(try TestSupport.run(tool, ["convert", dir + "/h.db", dir + "/b.db", "--to", "btree"]).status == 0)
            #expect(try TestSupport.run(tool, ["convert", dir + "/b.db", dir + "/back"]).status == 0)
            #expect(try TestSupport.run(MakemapSupport.ours, ["-U", dir + "/h.db"]).stdout == ourU.stdout)
            let back = try Table(dir + "/back")
            #expect(back.backend == .file && back.count == 3)
            #expect(try back.lookup("team")?.value == "alice, bob@example.org")
            if MakemapSupport.oracleAvailable {
                #expect(try MakemapSupport.dump(dir + "/h.db") == MakemapSupport.dump(src + ".db"))
            }

            // A list survives the round trip through <set>.
            let list = try TestSupport.write("example.org\nExample.NET\n", to: "list", in: dir)
            #expect(try TestSupport.run(tool, ["convert", list, dir + "/list.db"]).status == 0)
            #expect(try TestSupport.run(MakemapSupport.ours, ["-U", dir + "/list.db"]).stdout.contains("example.net\t<set>"))
            #expect(try TestSupport.run(tool, ["convert", dir + "/list.db", dir + "/list2"]).status == 0)
            let list2 = try Table(dir + "/list2")
            #expect(list2.kind == .list && list2.count == 2)

            // An entry a file table cannot hold is refused, and nothing is written.
            let db = try BerkeleyDB.create(at: dir + "/odd.db", method: .hash)
            try db.put(BDBFixtures.z("a key"), BDBFixtures.z("v"))
            try db.close()
            let refused = try TestSupport.run(tool, ["convert", dir + "/odd.db", dir + "/odd"])
            #expect(refused.status == 2)
            #expect(refused.stderr.contains("cannot be written to a file table"))
            #expect(!FileManager.default.fileExists(atPath: dir + "/odd"))
            #expect(try MakemapSupport.leftovers(in: dir, target: "odd") == [])
        }
    }
}
