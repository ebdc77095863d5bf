import Foundation
import Testing
@testable import SMTPDTables

@Suite("Versions: SMTPDVersion, release features, tables and tools at a release")
struct SMTPDVersionTests {
    @Test func parsesKnownReleasesAndRefusesOthers() throws {
        #expect(try SMTPDVersion("6.8") == SMTPDVersion.oldest)
        #expect(try SMTPDVersion("7.9") == SMTPDVersion.newest)
        #expect(try SMTPDVersion("7.6.0p1").description == "7.6")
        #expect(try SMTPDVersion("7.6.0-portable").description == "7.6")
        #expect(SMTPDVersion.known.map(\.description) == ["6.8", "6.9"] + (0...9).map { "7.\($0)" })
        #expect(try SMTPDVersion("6.9") < SMTPDVersion("7.0") && SMTPDVersion("7.0") < SMTPDVersion("7.1"))
        for bad in ["", "7", "7.", ".6", "7.6x", "7.6.", "v7.6", " 7.6", "6.7", "7.10", "8.0", "99999.1"] {
            #expect(throws: SMTPDVersion.ParseError.self, "\(bad)") { try SMTPDVersion(bad) }
        }
        let error = #expect(throws: SMTPDVersion.ParseError.self) { try SMTPDVersion("8.0") }
        #expect(error?.description == "unsupported OpenSMTPD version '8.0' (known: 6.8 to 7.9)")
        let garbage = #expect(throws: SMTPDVersion.ParseError.self) { try SMTPDVersion("seven") }
        #expect(garbage?.description == "'seven' is not an OpenSMTPD version (give X.Y, from 6.8 to 7.9, e.g. 7.6)")
    }

    @Test func smtpdHelpOutput() {
        let help = "version: OpenSMTPD 7.6.0-portable\nusage: smtpd [-dFhnv] [-D macro=value] [-f file]\n"
        #expect(SMTPDVersion(smtpdHelp: help)?.description == "7.6")
        #expect(SMTPDVersion(smtpdHelp: "version: OpenSMTPD 6.8.0p2\nusage: ...")?.description == "6.8")
        #expect(SMTPDVersion(smtpdHelp: "usage: smtpd [-dFhnv]\n") == nil)
        #expect(SMTPDVersion(smtpdHelp: "version: OpenSMTPD 5.4.6\n") == nil)
    }

    @Test("the installed smtpd's version (Debian 12: 6.8)", .enabled(if: TestSupport.system("smtpd") != nil))
    func installedSmtpd() throws {
        let help = try TestSupport.run(try #require(TestSupport.system("smtpd")), ["-h"])
        let expected = SMTPDVersion(smtpdHelp: help.stdout + help.stderr)
        #expect(expected != nil)
        #expect(SMTPDVersion.installed() == expected)
        #expect(SMTPDVersion.installed(executable: "/nonexistent/smtpd") == nil)
        #expect(SMTPDVersion.installed(executable: "/bin/true") == nil)
    }

    @Test func featuresAreKeyedToTheirRelease() throws {
        let v68 = try SMTPDVersion("6.8"), v74 = try SMTPDVersion("7.4"), v75 = try SMTPDVersion("7.5"), v76 = try SMTPDVersion("7.6"),
            v77 = try SMTPDVersion("7.7"), v78 = try SMTPDVersion("7.8")
        #expect(!v68.has(.sharedLineParser) && v75.has(.sharedLineParser))
        #expect(!v75.has(.singleSeparator) && v76.has(.singleSeparator) && v76.has(.bracketKeys))
        #expect(v68.has(.ipv6SourceAddrname) && !v75.has(.ipv6SourceAddrname) && !v77.has(.ipv6SourceAddrname)
                && v78.has(.ipv6SourceAddrname))
        #expect(v68.changes(upTo: v68).isEmpty)
        #expect(Set(v75.changes(upTo: v76)) == [.singleSeparator, .bracketKeys, .procTextProtocol, .authService])
        #expect(!v74.has(.mdaRootMessage) && v75.has(.mdaRootMessage))
        #expect(!v68.has(.ipLiteralRelayed) && v75.has(.ipLiteralRelayed))
        #expect(TableLineParser.Grammar.makemap(v68) == .fparseln)
        #expect(TableLineParser.Grammar.makemap(v75) == .skipColonBlanks)
        #expect(TableLineParser.Grammar.fileTable(v68) == .skipColonBlanks)
        #expect(TableLineParser.Grammar.makemap(v76) == .singleSeparator)
    }

    /// file: tables as smtpd 6.8 (table_static.c before 7.5) and 7.6 (util.c `parse_table_line`) read them.
    @Test func fileTablesAtEachRelease() throws {
        let text = "a : b\nc:: d\ne::f\n[::1] localhost\ng: h # note\ni\\#j k\n"
        func values(_ version: String) throws -> [String] {
            try FileTable.snapshot(parsing: Array(text.utf8), path: "t", options: TableOptions(version: SMTPDVersion(version)))
                .entries.map { "\($0.key)=\($0.value ?? "-")" }
        }
        #expect(try values("6.8") == ["a=b", "c=d", "e=:f", "[=:1] localhost", "g=h # note", "i\\#j=k"])
        #expect(try values("7.5") == values("6.8"))
        #expect(try values("7.6") == ["a=: b", "c=: d", "e=:f", "[::1]=localhost", "g=h # note", "i\\#j=k"])
        // The kind is decided by the first line: `[::1]` has a `:`, so 6.8 reads a mapping (key `[`), 7.6 a list.
        let list = Array("[::1]\n[::2]\n".utf8)
        #expect(try FileTable.snapshot(parsing: list, path: "l", options: TableOptions(version: SMTPDVersion("6.8"))).kind
                == .mapping)
        #expect(try FileTable.snapshot(parsing: list, path: "l", options: TableOptions(version: .newest)).kind == .list)
    }

    /// 6.8's makemap grammar: fparseln(3) lines.
    @Test func makemapAtSixEight() throws {
        func build(_ text: String, _ kind: TableKind = .mapping) -> ([String], String?) {
            var bytes = Array(text.utf8)
            let r = TableLineParser.parseFparseln(&bytes, kind: kind, path: "m")
            let entries = r.entries.map { e -> String in
                let key = String(decoding: bytes[Int(e.keyStart)..<Int(e.keyStart + e.keyLength)], as: UTF8.self)
                guard e.valueLength >= 0 else { return key }
                return key + "=" + String(decoding: bytes[Int(e.valueStart)..<(Int(e.valueStart) + Int(e.valueLength))],
                                          as: UTF8.self)
            }
            return (entries, r.failure?.description)
        }
        #expect(build("F: g # note\n").0 == ["f=g "])
        #expect(build("f: a\\#b\\\\#c\n").0 == ["f=a#b\\\\"])
        #expect(build("a: b, \\\n  c\nd e\n").0 == ["a=b,   c", "d=e"])
        #expect(build("a : b\nc:: d\ne::f\n[::1] x\n").0 == ["a=b", "c=d", "e=f", "[=1] x"])
        #expect(build("a: b \r\n").0 == ["a=b \r"])
        #expect(build("# c\n\nx\n") == ([], "m:3: invalid entry (a key without a value)"))
        #expect(build("a: b \\\n").1 == nil)
        #expect(build("a \\\n\\\n").1 == "m:3: invalid entry (a key without a value)")
        #expect(build("a: b \\\n# c\nd\n") == (["a=b "], "m:3: invalid entry (a key without a value)"))
        #expect(build("  Example.org  \r\n# c\nb # d\n", .list).0 == ["example.org  \r", "b "])
    }

    @Test("makemap and newaliases take SMTPD_TABLES_SMTPD_VERSION")
    func makemapEnvironment() throws {
        try TestSupport.withTemporaryDirectory { dir in
            try TestSupport.write("f: g # note\na : b\n", to: "map", in: dir)
            func run(_ version: String?, _ tool: String = "makemap", _ args: [String] = ["map"]) throws -> ProcessResult {
                var environment = ProcessInfo.processInfo.environment
                environment[SMTPDVersion.environmentVariable] = version
                return try TestSupport.run(TestSupport.product(tool), args, environment: environment, currentDirectory: dir)
            }
            func dump() throws -> String { try run(nil, "makemap", ["-U", "map.db"]).stdout }
            #expect(try run("6.8").status == 0)
            #expect(try dump().split(separator: "\n").sorted() == ["a\tb", "f\tg "])
            #expect(try run("7.6").status == 0)
            #expect(try dump().split(separator: "\n").sorted() == ["a\t: b", "f\tg # note"])
            let bad = try run("8.0")
            #expect(bad.status == 1)
            #expect(bad.stderr == "makemap: SMTPD_TABLES_SMTPD_VERSION: unsupported OpenSMTPD version '8.0' (known: 6.8 to 7.9)\n")
            // newaliases: at 6.8 the comment goes, at 7.6 the value is no alias list.
            try TestSupport.write("root: john # the admin\n", to: "aliases", in: dir)
            try TestSupport.write("""
                table aliases file:\(dir)/aliases
                action "local" mbox alias <aliases>
                match for local action "local"
                """, to: "smtpd.conf", in: dir)
            #expect(try run("6.8", "newaliases", ["-f", "smtpd.conf"]).stdout == "\(dir)/aliases: 1 aliases\n")
            let refused = try run("7.6", "newaliases", ["-f", "smtpd.conf"])
            #expect(refused.status == 1)
            #expect(refused.stderr.hasPrefix("newaliases: \(dir)/aliases:1: invalid entry\n"
                                              + "newaliases: \(dir)/aliases:1: alias element 1, 'john # the admin',"))
            #expect(refused.stderr.hasSuffix("(OpenSMTPD 7.6 makemap)\n"))
        }
    }

    @Test("--smtpd-version on every subcommand; resolve and check name the version")
    func multiToolOption() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let tool = TestSupport.product("smtpd-tables")
            try TestSupport.write("a : b\n", to: "t", in: dir)
            #expect(try TestSupport.run(tool, ["query", "--smtpd-version", "6.8", dir + "/t", "a"]).stdout == "b\n")
            #expect(try TestSupport.run(tool, ["query", "--smtpd-version", "7.6", dir + "/t", "a"]).stdout == ": b\n")
            #expect(try TestSupport.run(tool, ["dump", "--smtpd-version", "6.8", dir + "/t"]).stdout == "a\tb\n")
            let bad = try TestSupport.run(tool, ["dump", "--smtpd-version", "6.7", dir + "/t"])
            #expect(bad.status == 2)
            #expect(bad.stderr.contains("--smtpd-version: unsupported OpenSMTPD version '6.7' (known: 6.8 to 7.9)"))
            for sub in ["query", "resolve", "check", "dump", "convert", "encrypt", "verify", "serve"] {
                #expect(try TestSupport.run(tool, [sub, "--help"]).stdout.contains("--smtpd-version <X.Y>"), "\(sub)")
            }
            try TestSupport.write("root: john\n", to: "aliases", in: dir)
            let conf = try TestSupport.write("""
                table aliases file:\(dir)/aliases
                action "local" mbox alias <aliases>
                match for local action "local"
                """, to: "smtpd.conf", in: dir)
            let text = try TestSupport.run(tool, ["resolve", "--smtpd-version", "6.8", "-f", conf, "--hostname", "mx", "root"])
            #expect(text.stdout.hasPrefix("smtpd version: 6.8 (--smtpd-version)\n"), "\(text.stdout)")
            let json = try TestSupport.run(tool, ["resolve", "--smtpd-version", "7.6", "--json", "-f", conf, "root"])
            let objects = try JSONSerialization.jsonObject(with: json.stdoutBytes) as? [[String: Any]]
            #expect(objects?.first?["smtpdVersion"] as? String == "7.6")
            var environment = ProcessInfo.processInfo.environment
            environment[SMTPDVersion.environmentVariable] = "7.5"
            let check = try TestSupport.run(tool, ["check", "-f", conf], environment: environment)
            #expect(check.stdout.hasPrefix("smtpd version: 7.5 (SMTPD_TABLES_SMTPD_VERSION)\n"), "\(check.stdout)")
            try TestSupport.write("root: john\nroot: jane\n", to: "aliases", in: dir)
            let findings = try TestSupport.run(tool, ["check", "--json", "--smtpd-version", "6.8", "-f", conf])
            let decoded = try JSONSerialization.jsonObject(with: findings.stdoutBytes) as? [[String: Any]]
            #expect(decoded?.contains { $0["code"] as? String == "duplicate-entry" } == true)
            #expect(decoded?.allSatisfy { $0["smtpdVersion"] as? String == "6.8" } == true)
            #expect(try JSONDecoder().decode([Finding].self, from: findings.stdoutBytes).count == decoded?.count)
        }
    }
}
