import Foundation
import Testing
@testable import SMTPDTables

/// db: tables read by our library: the real makemap's files give the same answers as the source file read as
/// a file: table, for every key and service; smtpd accepts the maps we build; reloads see whole files only.
@Suite("db: tables")
struct DBTableTests {
    static let mapping = ["root john", "alice bob@example.org, carol@example.net", "example.org relay",
                          "*.example.net wild", "@example.com catchall", "user@example.com one",
                          "192.168.0.0/16 lan", "10.1.2.3 host", "^ab+c$ regex"]
    static let services: [TableService] = TableService.allCases

    @Test("the real makemap's db answers like the file table", .enabled(if: MakemapSupport.oracleAvailable),
          arguments: ["hash", "btree"])
    func realMakemapDB(_ method: String) throws {
        try TestSupport.withTemporaryDirectory { dir in
            let src = try TestSupport.write(MakemapSupport.text(Self.mapping), to: "map", in: dir)
            let r = try TestSupport.run(MakemapSupport.real ?? "", ["-d", method, src])
            #expect(r.status == 0)
            let db = try Table("db:" + src + ".db")
            let file = try Table("file:" + src)
            #expect(db.backend == .db && db.count == file.count)
            let queries = Self.mapping.map { String($0.split(separator: " ")[0]) }
                + ["ROOT", "a.example.net", "x@example.com", "user@example.com", "192.168.4.5", "abbbc", "nobody"]
            // smtpd's walk order over the db (the order the real makemap -U prints).
            let walk = try MakemapSupport.realDump(src + ".db", btree: method == "btree")
                .split(separator: "\n").map { String($0.split(separator: "\t")[0]) }
            for service in Self.services {
                for q in queries {
                    // Where several keys match a pattern, smtpd's db walk returns the first it meets.
                    let expectedKey = try walk.first { key in
                        try Table(contents: Array("\(key) v\n".utf8)).lookup(q, service: service) != nil
                    }
                    let a = try? db.lookup(q, service: service)
                    #expect(a?.key == expectedKey, "\(service) \(q)")
                    if let key = expectedKey {
                        #expect(a?.value == (try file.lookup(key))?.value, "\(service) \(q)")
                    }
                }
            }
            // A bare path to a db file is read as db:.
            #expect(try Table(src + ".db").backend == .db)
            #expect(DBTable.recognises(path: src + ".db"))
            #expect(!DBTable.recognises(path: src))
        }
    }

    @Test("sets, records without a trailing NUL, unfolded keys, first match in walk order")
    func foreignRecords() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let path = dir + "/foreign.db"
            let db = try BerkeleyDB.create(at: path, method: .btree)
            try db.put(BDBFixtures.z("plain"), BDBFixtures.z("value"))
            try db.put(BDBFixtures.bytes("nonul"), BDBFixtures.bytes("raw"))
            try db.put(BDBFixtures.z("Upper"), BDBFixtures.z("hidden"))
            try db.put(BDBFixtures.z("*.Example.ORG"), BDBFixtures.z("x"))
            try db.put(BDBFixtures.z("a*.example.org"), BDBFixtures.z("y"))
            try db.put(BDBFixtures.z("set"), BDBFixtures.z("<set>"))
            try db.close()
            let table = try Table("db:" + path)
            #expect(try table.lookup("plain")?.value == "value")
            #expect(try table.lookup("NONUL")?.value == "raw")
            // smtpd folds the query and asks DB->get for it: a key stored with capitals is never found exactly...
            #expect(try table.lookup("upper") == nil)
            #expect(try table.lookup("Upper") == nil)
            // ...but the pattern services compare case-insensitively; the first in the walk (btree: sorted) wins.
            #expect(try table.lookup("ab.example.org", service: .domain)?.key == "*.Example.ORG")
            #expect(try table.lookup("set")?.value == "<set>")
        }
    }

    @Test("a rebuilt map is seen by an open table, whole")
    func reload() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let src = try TestSupport.write("key one\n", to: "map", in: dir)
            _ = try MapBuilder.build(from: .file(src), to: src + ".db")
            let table = try Table("db:" + src + ".db")
            #expect(try table.lookup("key")?.value == "one")
            var lines = ""
            for i in 0..<2000 { lines += "k\(i) v\(i)\n" }
            try TestSupport.write("key two\n" + lines, to: "map", in: dir)
            let result = try MapBuilder.build(from: .file(src), to: src + ".db")
            #expect(result.count == 2001)
            #expect(try table.lookup("key")?.value == "two")
            #expect(table.count == 2001)
        }
    }

    @Test("smtpd accepts the hash maps we build and refuses a btree", .enabled(if: TestSupport.system("smtpd") != nil))
    func smtpdAccepts() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let aliases = try TestSupport.write("root: john\npostmaster: root\n", to: "aliases", in: dir)
            let domains = try TestSupport.write("example.org\nexample.net\n", to: "domains", in: dir)
            #expect(try TestSupport.run(MakemapSupport.ours, ["-t", "aliases", aliases]).status == 0)
            #expect(try TestSupport.run(MakemapSupport.ours, ["-t", "set", domains]).status == 0)
            #expect(try TestSupport.run(MakemapSupport.ours, ["-d", "btree", "-o", dir + "/bt.db", aliases]).status == 0)
            let conf = """
                table aliases db:\(aliases).db
                table domains db:\(domains).db
                listen on localhost
                action "local" mbox alias <aliases>
                match from any for domain <domains> action "local"

                """
            let path = try TestSupport.write(conf, to: "smtpd.conf", in: dir)
            let ok = try TestSupport.run(TestSupport.system("smtpd") ?? "", ["-n", "-f", path])
            #expect(ok.status == 0, "\(ok.stderr)")
            let bad = try TestSupport.write(conf.replacingOccurrences(of: aliases + ".db", with: dir + "/bt.db"),
                                            to: "bad.conf", in: dir)
            #expect(try TestSupport.run(TestSupport.system("smtpd") ?? "", ["-n", "-f", bad]).status != 0)
        }
    }
}
