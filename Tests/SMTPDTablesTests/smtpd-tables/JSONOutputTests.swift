import Foundation
import Testing

/// `--json` on every subcommand a script parses: one document (an array of objects, each naming the
/// smtpdVersion), the documented fields, and never a password or a hash unless asked for.
@Suite("smtpd-tables --json: one style everywhere, no secrets")
struct JSONOutputTests {
    let tool = TestSupport.product("smtpd-tables")
    /// Examples/passwd: the test passwords and the hashes that must not leak.
    static let passwords = ["alice": "alice-secret-1", "bob": "bob-secret-2"]

    /// The array of objects in `stdout`, with the style checks every --json output passes.
    func objects(_ r: ProcessResult, version: String = "7.6", sourceLocation: SourceLocation = #_sourceLocation) throws -> [[String: Any]] {
        let parsed = try JSONSerialization.jsonObject(with: r.stdoutBytes)
        let array = try #require(parsed as? [[String: Any]], "not an array of objects: \(r.stdout)", sourceLocation: sourceLocation)
        #expect(array.allSatisfy { $0["smtpdVersion"] as? String == version }, sourceLocation: sourceLocation)
        // One object per line: scripts can also read it line by line.
        let lines = r.stdout.split(separator: "\n")
        #expect(array.isEmpty ? r.stdout == "[]\n" : lines.count == array.count + 2, "\(r.stdout)", sourceLocation: sourceLocation)
        return array
    }

    func hashes(_ dir: String) throws -> [String] {
        try String(contentsOfFile: dir + "/passwd", encoding: .utf8).split(separator: "\n")
            .filter { !$0.hasPrefix("#") && $0.contains(":") }
            .map { String($0.split(separator: ":", maxSplits: 1)[1]) }
    }

    /// Neither a password nor any hash of the passwd file, nor a long piece of one, is in `text`.
    func expectNoSecret(_ text: String, _ dir: String, _ what: String) throws {
        for password in Self.passwords.values { #expect(!text.contains(password), "\(what)") }
        for hash in try hashes(dir) {
            #expect(!text.contains(String(hash.suffix(20))), "\(what) shows a hash")
            #expect(!text.contains(String(hash.prefix(20))), "\(what) shows a hash")
        }
    }

    @Test("query, dump, verify, check and resolve: one array of objects with their documented fields, no secret")
    func everySubcommand() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let conf = try ExampleSetup.make(in: dir)
            let v = ["--smtpd-version", "7.6"]
            var outputs: [(String, ProcessResult)] = []

            let keys = ["alice@example.org", "nobody@nowhere", "abuse@example.org", "bob"]
            for (table, service) in [("vusers", "string"), ("vusers", "mailaddr"), ("passwd", "credentials"),
                                     ("passwd", "string"), ("aliases.db", "alias")] {
                let q = try TestSupport.run(tool, ["query", "--json", "--explain", "-s", service] + v + [dir + "/" + table] + keys)
                let items = try objects(q)
                #expect(items.map { $0["key"] as? String } == keys)
                // The JSON agrees with the text answers, key by key.
                for (key, item) in zip(keys, items) {
                    let text = try TestSupport.run(tool, ["query", "-s", service] + v + [dir + "/" + table, key])
                    #expect((item["found"] as? Bool) == (text.status == 0), "\(table) \(service) \(key)")
                    #expect(item["service"] as? String == service && item["backend"] as? String != nil)
                    if text.status == 0, item["withheld"] == nil {
                        let shown = service == "string" || service == "alias" ? item["value"] : item["entry"]
                        #expect(shown as? String == text.stdout.trimmingCharacters(in: .newlines), "\(table) \(key)")
                    }
                    if text.status == 0, table != "aliases.db" { #expect(item["line"] as? Int != nil) }
                }
                outputs.append(("query \(table) \(service)", q))
            }

            for table in ["passwd", "vusers", "aliases.db"] {
                let d = try TestSupport.run(tool, ["dump", "--json"] + v + [dir + "/" + table])
                let items = try objects(d)
                let text = try TestSupport.run(tool, ["dump"] + v + [dir + "/" + table])
                #expect(items.map { $0["key"] as? String } == text.stdout.split(separator: "\n").map {
                    String($0.split(separator: "\t", maxSplits: 1)[0])
                })
                if table == "passwd" { #expect(items.allSatisfy { $0["withheld"] != nil && $0["value"] is NSNull }) }
                outputs.append(("dump \(table)", d))
            }

            for (user, password) in Self.passwords.sorted(by: { $0.key < $1.key }) + [("alice", "wrong"), ("nobody", "x")] {
                let r = try TestSupport.run(tool, ["verify", "--json", "--dovecot-scheme", "BLF-CRYPT"] + v + [dir + "/passwd", user],
                                            stdin: Data((password + "\n").utf8))
                let item = try #require(try objects(r).first)
                let good = Self.passwords[user] == password
                #expect(item["accepted"] as? Bool == good && r.status == (good ? 0 : 1), "\(user)")
                #expect(item["found"] as? Bool == (user != "nobody"))
                if user != "nobody" {
                    #expect((item["smtpd"] as? [String: Any])?["accepted"] as? Bool == good)
                    #expect((item["dovecot"] as? [String: Any])?["checked"] as? Bool == true)
                }
                outputs.append(("verify \(user)", r))
            }

            let check = try TestSupport.run(tool, ["check", "--json"] + v + ["-f", conf])
            for item in try objects(check) {
                #expect(["error", "warning", "note"].contains(item["severity"] as? String ?? ""))
                #expect(item["code"] is String && item["message"] is String && item.keys.contains("file")
                        && item.keys.contains("line") && item.keys.contains("table"))
            }
            outputs.append(("check", check))

            let addresses = ["alice@example.org", "nobody@example.net", "root@localhost"]
            let resolve = try TestSupport.run(tool, ["resolve", "--json", "--hostname", "mail.example.org"] + v
                                              + ["-f", conf] + addresses + ["--auth", "alice"])
            let resolved = try objects(resolve)
            #expect(resolved.map { $0["address"] as? String } == addresses)
            for item in resolved {
                for field in ["accepted", "code", "rule", "action", "deliveries", "tree"] {
                    #expect(item.keys.contains(field), "\(field)")
                }
            }
            outputs.append(("resolve", resolve))

            for (what, r) in outputs { try expectNoSecret(r.stdout + r.stderr, dir, what) }

            // Asked for, the hash is printed: the check above can fail.
            let shown = try TestSupport.run(tool, ["dump", "--json", "--show-secrets"] + v + [dir + "/passwd"])
            #expect(try hashes(dir).allSatisfy { shown.stdout.contains($0.replacingOccurrences(of: "/", with: "\\/")) || shown.stdout.contains($0) })
        }
    }

    @Test("an empty answer is [] (check of a clean config, dump of an empty table)")
    func empty() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let table = try TestSupport.write("", to: "empty", in: dir)
            #expect(try TestSupport.run(tool, ["dump", "--json", "--smtpd-version", "7.6", table]).stdout == "[]\n")
            try TestSupport.write("root: daemon\n", to: "aliases", in: dir)
            let conf = try TestSupport.write("""
                table aliases file:\(dir)/aliases
                action "local" mbox alias <aliases>
                match for local action "local"
                """, to: "smtpd.conf", in: dir)
            let r = try TestSupport.run(tool, ["check", "--json", "--smtpd-version", "7.6", "-f", conf])
            #expect(r.status == 0 && r.stdout == "[]\n", "\(r.stdout)")
        }
    }

    @Test("control characters, DEL and C1 from tables are \\u escapes in every --json")
    func escapes() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let table = try TestSupport.write(bytes: Array("k\u{1b}[2J v\u{7f}x\u{85}y\n".utf8), to: "t", in: dir)
            for arguments in [["query", "--json", table, "k\u{1b}[2j"], ["dump", "--json", table]] {
                let r = try TestSupport.run(tool, arguments + ["--smtpd-version", "7.6"])
                #expect(!r.stdoutBytes.contains(0x1b) && !r.stdoutBytes.contains(0x7f), "\(arguments)")
                #expect(r.stdout.contains("\\u001b") && r.stdout.contains("\\u007f") && r.stdout.contains("\\u0085"))
                let item = try #require(try objects(r).first)
                #expect(item["value"] as? String == "v\u{7f}x\u{85}y")
            }
        }
    }
}
