import Foundation
import SMTPDTables
import Testing

/// The messages of issue 19, through the built binaries: what is wrong, and what would be right.
@Suite("smtpd-tables, makemap and newaliases: messages that say what is wrong")
struct MessageTests {
    let tool = TestSupport.product("smtpd-tables")
    static let services = TableService.allCases.map(\.rawValue)
    static let subcommands = ["query", "resolve", "check", "dump", "convert", "encrypt", "verify"]

    /// Every one-edit typo of `word` that is no valid word itself: swapped neighbours, a dropped letter, a
    /// doubled letter.
    static func typos(_ word: String, avoiding valid: [String]) -> [String] {
        let c = Array(word)
        var out: [String] = []
        for i in 0..<(c.count - 1) {
            var s = c
            s.swapAt(i, i + 1)
            out.append(String(s))
        }
        for i in c.indices {
            var dropped = c
            dropped.remove(at: i)
            out.append(String(dropped))
            var doubled = c
            doubled.insert(c[i], at: i)
            out.append(String(doubled))
        }
        return Array(Set(out)).filter { !valid.contains($0) && $0 != word }.sorted()
    }

    @Test("an unknown service lists the valid ones and suggests the nearest", arguments: services)
    func unknownService(_ service: String) throws {
        try TestSupport.withTemporaryDirectory { dir in
            let table = try TestSupport.write("k v\n", to: "t", in: dir)
            for typo in Self.typos(service, avoiding: Self.services) where service.count > 4 {
                let r = try TestSupport.run(tool, ["query", "-s", typo, table, "k"])
                #expect(r.status == 2, "\(typo)")
                #expect(r.stderr.contains("unknown service '\(typo)'"), "\(r.stderr)")
                #expect(r.stderr.contains("(valid: \(Self.services.joined(separator: ", ")))"), "\(r.stderr)")
                // A typo may sit as near another service (`domain` and `domain`'s neighbours): any suggestion
                // is a service one or two edits away, and the intended one is suggested unless another is nearer.
                if let suggested = r.stderr.firstMatch(of: /did you mean '([a-z]+)'/)?.1 {
                    #expect(Self.services.contains(String(suggested)))
                } else {
                    Issue.record("no suggestion for \(typo): \(r.stderr)")
                }
            }
        }
    }

    @Test("the intended service is the one suggested for its swapped-letter typos")
    func swappedLetters() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let table = try TestSupport.write("k v\n", to: "t", in: dir)
            #expect(try TestSupport.run(tool, ["query", "-s", "alais", table, "k"]).stderr
                .contains("did you mean 'alias'?"))
            #expect(try TestSupport.run(tool, ["query", "-s", "credentails", table, "k"]).stderr
                .contains("did you mean 'credentials'?"))
            // Nothing near: the list alone.
            let far = try TestSupport.run(tool, ["query", "-s", "zzzzzzzz", table, "k"])
            #expect(!far.stderr.contains("did you mean") && far.stderr.contains("(valid: alias,"))
        }
    }

    @Test("a mistyped subcommand is named, with the nearest and the list (not 'unexpected arguments')",
          arguments: subcommands)
    func unknownSubcommand(_ name: String) throws {
        for typo in Self.typos(name, avoiding: Self.subcommands) {
            let r = try TestSupport.run(tool, [typo, "file:/nonexistent", "key"])
            #expect(r.status == 2)
            #expect(!r.stderr.contains("unexpected argument"), "\(r.stderr)")
            #expect(r.stderr.contains("unknown subcommand '\(typo)'; did you mean '\(name)'?"), "\(typo): \(r.stderr)")
            #expect(r.stderr.contains("(valid: query, resolve, check,"), "\(r.stderr)")
        }
    }

    @Test("hash:PATH and btree:PATH are read as db:PATH, with a note on standard error")
    func accessMethodPrefixes() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let source = try TestSupport.write((0..<50).map { "key\($0) value\($0)" }.joined(separator: "\n") + "\n",
                                               to: "map", in: dir)
            #expect(try TestSupport.run(TestSupport.product("makemap"), [source]).status == 0)
            let db = try TestSupport.run(tool, ["query", "db:\(source).db", "key7", "key42", "nope"])
            #expect(db.status == 0 && db.stderr.isEmpty)
            for prefix in ["hash", "btree"] {
                let r = try TestSupport.run(tool, ["query", "\(prefix):\(source).db", "key7", "key42", "nope"])
                #expect(r.status == 0)
                #expect(r.stdout == db.stdout)
                #expect(r.stderr.contains("note: \(prefix):\(source).db read as db:\(source).db"), "\(r.stderr)")
                let dump = try TestSupport.run(tool, ["dump", "\(prefix):\(source).db"])
                #expect(dump.status == 0 && dump.stdout.split(separator: "\n").count == 50)
            }
        }
    }

    @Test("convert refuses to write onto its source (same path, a symbolic link, a hard link) and keeps it")
    func convertOntoSource() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let source = try TestSupport.write("a b\nc d\n", to: "map", in: dir)
            try FileManager.default.createSymbolicLink(atPath: dir + "/symlink", withDestinationPath: source)
            try FileManager.default.linkItem(atPath: source, toPath: dir + "/hardlink")
            let before = try Data(contentsOf: URL(fileURLWithPath: source))
            for (src, dst) in [(source, source), ("file:" + source, source), (source, dir + "/symlink"),
                               (source, dir + "/hardlink"), (dir + "/symlink", source)] {
                for to in ["file", "hash"] {
                    let r = try TestSupport.run(tool, ["convert", "--to", to, src, dst])
                    #expect(r.status == 2, "\(src) \(dst)")
                    #expect(r.stderr.contains("is the source table"), "\(r.stderr)")
                    #expect(try Data(contentsOf: URL(fileURLWithPath: source)) == before)
                }
            }
            // Another file is fine.
            #expect(try TestSupport.run(tool, ["convert", source, dir + "/copy.db"]).status == 0)
        }
    }

    @Test("resolve - reads the addresses from standard input, as arguments would give them")
    func resolveStandardInput() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let conf = try ExampleSetup.make(in: dir)
            let addresses = ["root@localhost", "alice@example.org", "nobody@example.net", "postmaster@localhost"]
            for json in [false, true] {
                let flags = ["resolve", "-f", conf, "--hostname", "mail.example.org"] + (json ? ["--json"] : [])
                let arguments = try TestSupport.run(tool, flags + addresses)
                let stdin = try TestSupport.run(tool, flags + ["-"],
                                                stdin: Data((" " + addresses.joined(separator: "\n\n") + "\r\n").utf8))
                #expect(arguments.status == stdin.status)
                #expect(arguments.status == 1)  // nobody@example.net is refused
                #expect(arguments.stdout == stdin.stdout)
            }
        }
    }

    @Test("makemap keeps upstream's FILE:LINE: invalid entry and says why on the next line, at the version in use",
          arguments: ["6.8", "7.6", "7.9"])
    func makemapInvalidEntry(_ version: String) throws {
        try TestSupport.withTemporaryDirectory { dir in
            var environment = ProcessInfo.processInfo.environment
            environment[SMTPDVersion.environmentVariable] = version
            let cases: [(options: [String], text: String, line: Int, why: String)] = [
                ([], "a b\nlonely\n", 2, "a key without a value"),
                (["-t", "aliases"], "a: b\nc: d,,e\n", 2, "alias element 2 is empty"),
                (["-t", "aliases"], "a: b, c d, e\n", 1, "alias element 2, 'c d', is none of"),
                (["-t", "aliases"], "a: b\nx: \"|cmd\n", 2, "alias element 1, '\"|cmd', is none of"),
            ]
            for c in cases {
                let source = try TestSupport.write(c.text, to: "map", in: dir)
                let r = try TestSupport.run(TestSupport.product("makemap"), c.options + [source], environment: environment)
                let lines = r.stderr.split(separator: "\n").map(String.init)
                #expect(r.status == 1)
                #expect(lines.first == "makemap: \(source):\(c.line): invalid entry", "\(r.stderr)")
                #expect(lines.count == 2 && lines[1].hasPrefix("makemap: \(source):\(c.line): \(c.why)")
                        && lines[1].hasSuffix("(OpenSMTPD \(version) makemap)"), "\(r.stderr)")
                if let real = TestSupport.realMakemap, version == "6.8" {
                    let upstream = try TestSupport.run(real, c.options + [source])
                    #expect(upstream.stderr == lines[0] + "\n")
                }
            }
        }
    }
}
