import Foundation
import Testing
@testable import SMTPDTables

/// Each finding of `SetupChecker` with a fixture that triggers it and one that does not.
@Suite struct SetupCheckerTests {
    static let bcrypt10 = "$2b$10$DG71/YGUZzoEMsciLUZHfOc/qUs4f8DxppQrQfR7ChmMmZzJo0zWC"

    /// A setup in a temp dir: the example's shape, with the given file contents overriding the defaults.
    func findings(_ files: [String: String], extraConfig: String = "") throws -> [Finding] {
        try TestSupport.withTemporaryDirectory { dir in
            var all: [String: String] = [
                "aliases": "root: john\n",
                "vdomains": "example.org\n",
                "vusers": "alice@example.org alice\n@example.org alice\nalice vmail\n",
                "passwd": "alice:\(Self.bcrypt10)\n",
                "userinfo": "john 1000:1000:/nonexistent\nvmail 2000:2000:/nonexistent\n",
            ]
            for (k, v) in files { all[k] = v }
            for (name, text) in all { try TestSupport.write(text, to: name, in: dir) }
            let conf = """
                table aliases file:\(dir)/aliases
                table vdomains file:\(dir)/vdomains
                table vusers file:\(dir)/vusers
                table passwd file:\(dir)/passwd
                table userinfo file:\(dir)/userinfo
                \(extraConfig)
                action "local" mbox alias <aliases> userbase <userinfo>
                action "dovecot" lmtp "/var/dovecot/lmtp" rcpt-to virtual <vusers> userbase <userinfo>
                match from any for domain <vdomains> action "dovecot"
                match for local action "local"
                """
            let config = try SMTPDConfig.parse(text: conf, path: dir + "/smtpd.conf")
            var found = SetupChecker(config: config, resolverOptions: .init(host: .system())).run()
            // Checks on credentials come from the listener's auth table.
            if all["passwd"] != nil {
                let withAuth = try SMTPDConfig.parse(
                    text: conf + "\npki x cert \"/c\"\npki x key \"/k\"\nlisten on lo tls pki x auth <passwd>\n",
                    path: dir + "/smtpd.conf")
                found = SetupChecker(config: withAuth, resolverOptions: .init(host: .system())).run()
            }
            return found
        }
    }

    func codes(_ f: [Finding]) -> [String] { f.map(\.code) }

    @Test func cleanSetupHasNoFindings() throws {
        #expect(try findings([:]).isEmpty)
    }

    @Test func malformedEntryNamesFileAndLine() throws {
        let f = try findings(["vusers": "alice@example.org alice\nbroken\n"])
        let hit = try #require(f.first { $0.code == "malformed-entry" })
        #expect(hit.file?.hasSuffix("/vusers") == true)
        #expect(hit.line == 2)
    }

    @Test func duplicateEntries() throws {
        let f = try findings(["aliases": "root: john\nRoot: jane\n"])
        let hit = try #require(f.first { $0.code == "duplicate-entry" })
        #expect(hit.line == 2)
        #expect(hit.message.contains("first at line 1"))
        #expect(!codes(try findings(["aliases": "root: john\nroot2: jane\n"])).contains("duplicate-entry"))
    }

    @Test func invalidAliasValues() throws {
        let f = try findings(["aliases": "root: john # the admin\n"])
        #expect(f.contains { $0.code == "invalid-alias" && $0.line == 1 })
        #expect(!codes(try findings(["aliases": "root: john, \"|/usr/bin/x\"\n"])).contains("invalid-alias"))
    }

    @Test func credentialsSmtpdCannotUse() throws {
        for bad in ["alice:\(Self.bcrypt10)::::::\n", "alice:{BLF-CRYPT}\(Self.bcrypt10)\n", "alice:secret\n"] {
            let f = try findings(["passwd": bad])
            #expect(f.contains { $0.code == "credentials-unusable" && $0.line == 1 }, "\(bad)")
            // Never a hash or a password in what is printed.
            #expect(!f.contains { $0.message.contains(Self.bcrypt10) || $0.message.contains("secret") })
        }
    }

    @Test func weakHashes() throws {
        let weak = try PasswordHasher.hash("x", scheme: .bcrypt, rounds: 5)
        #expect(codes(try findings(["passwd": "alice:\(weak)\n"])).contains("weak-hash"))
        #expect(!codes(try findings([:])).contains("weak-hash"))
    }

    @Test func virtualEntryForDomainNotServed() throws {
        let f = try findings(["vusers": "alice@example.org alice\nbob@example.com bob\n"])
        let hit = try #require(f.first { $0.code == "virtual-domain-not-served" })
        #expect(hit.line == 2)
        #expect(hit.message.contains("example.com"))
    }

    @Test func wildcardThatDoesNotSpanDots() throws {
        let f = try findings(["vdomains": "*.example.org\n", "vusers": "x@a.b.example.org alice\ny@a.example.org alice\n"])
        #expect(f.contains { $0.code == "wildcard-pattern" && $0.severity == .note })
        let hit = try #require(f.first { $0.code == "virtual-domain-not-served" })
        #expect(hit.line == 1)
        #expect(hit.message.contains("does not span dots"))
        #expect(!f.contains { $0.code == "virtual-domain-not-served" && $0.line == 2 })
    }

    @Test func checkCommandExitCodesAndJSON() throws {
        try TestSupport.withTemporaryDirectory { dir in
            // root and daemon exist in every system passwd database.
            try TestSupport.write("abuse: root\nabuse: daemon\n", to: "aliases", in: dir)
            let conf = try TestSupport.write("""
                table aliases file:\(dir)/aliases
                action "local" mbox alias <aliases>
                match for local action "local"
                """, to: "smtpd.conf", in: dir)
            let tool = TestSupport.product("smtpd-tables")
            let text = try TestSupport.run(tool, ["check", "-f", conf])
            #expect(text.status == 1)
            #expect(text.stdout.contains("\(dir)/aliases:2: error: duplicate entry for abuse"))
            let json = try TestSupport.run(tool, ["check", "--json", "-f", conf])
            #expect(json.status == 1)
            let decoded = try JSONDecoder().decode([Finding].self, from: json.stdoutBytes)
            #expect(decoded.map(\.code) == ["duplicate-entry"])
            try TestSupport.write("abuse: root\n", to: "aliases", in: dir)
            #expect(try TestSupport.run(tool, ["check", "-f", conf]).status == 0)
            let broken = try TestSupport.write("match for bogus\n", to: "bad.conf", in: dir)
            let bad = try TestSupport.run(tool, ["check", "-f", broken])
            #expect(bad.status == 2)
            #expect(bad.stderr.contains("bad.conf:1"))
        }
    }

    @Test func aliasLoops() throws {
        let f = try findings(["aliases": "root: john\na: b\nb: a\n"])
        #expect(f.filter { $0.code == "expansion-loop" }.map(\.line) == [2, 3])
        #expect(f.first { $0.code == "expansion-loop" }?.message.contains("a -> b -> a") == true)
        #expect(!codes(try findings(["aliases": "root: john\na: b\nb: john\n"])).contains("expansion-loop"))
    }

    @Test func chainsDeeperThanSmtpdAllows() throws {
        let deep = (1...10).map { "d\($0): d\($0 + 1)" }.joined(separator: "\n") + "\nd11: john\n"
        let f = try findings(["aliases": "root: john\n" + deep])
        #expect(f.contains { $0.code == "expansion-too-deep" && $0.line == 2 })
        let shallow = (1...3).map { "d\($0): d\($0 + 1)" }.joined(separator: "\n") + "\nd4: john\n"
        #expect(!codes(try findings(["aliases": "root: john\n" + shallow])).contains("expansion-too-deep"))
    }

    @Test func targetsThatResolveNowhere() throws {
        // An unknown local user, and an address in a domain we serve with no entry.
        let f = try findings(["aliases": "root: john\nghost: nosuchuser\nfwd: x@example.net\n",
                              "vdomains": "example.org\nexample.net\n",
                              "vusers": "alice@example.org alice\nalice vmail\n"])
        let lines = f.filter { $0.code == "unresolvable-target" }.compactMap(\.line)
        #expect(lines.contains(2))
        #expect(lines.contains(3))
        #expect(f.contains { $0.code == "unresolvable-target" && $0.message.contains("x@example.net") })
        // error: entries fail on purpose.
        #expect(!codes(try findings(["aliases": "root: john\ngone: error:550 moved away\n"])).contains("unresolvable-target"))
    }

    @Test func dbOlderThanItsSourceOrMissing() throws {
        try TestSupport.withTemporaryDirectory { dir in
            try TestSupport.write("root: daemon\n", to: "aliases", in: dir)
            let conf = try TestSupport.write("""
                table aliases db:\(dir)/aliases.db
                action "local" mbox alias <aliases>
                match for local action "local"
                """, to: "smtpd.conf", in: dir)
            func codes() throws -> [String] {
                SetupChecker(config: try SMTPDConfig.load(path: conf), resolverOptions: .init(host: .system())).run().map(\.code)
            }
            #expect(try codes().contains("db-missing"))
            let built = try TestSupport.run(TestSupport.product("makemap"), ["-t", "aliases", "\(dir)/aliases"])
            #expect(built.status == 0)
            #expect(try codes().isEmpty)
            // The source edited after the build: the db is stale.
            var times = [timespec(tv_sec: 1_000_000, tv_nsec: 0), timespec(tv_sec: 1_000_000, tv_nsec: 0)]
            #expect(utimensat(AT_FDCWD, "\(dir)/aliases.db", &times, 0) == 0)
            let stale = try codes()
            #expect(stale == ["db-older-than-source"])
            let finding = try #require(SetupChecker(config: try SMTPDConfig.load(path: conf), resolverOptions: .init(host: .system())).run().first)
            #expect(finding.file == "\(dir)/aliases.db" && finding.severity == .warning)
        }
    }

    @Test func unreadableDBTable() throws {
        try TestSupport.withTemporaryDirectory { dir in
            try TestSupport.write(bytes: (0..<8192).map { UInt8(truncatingIfNeeded: $0 &* 7919) }, to: "aliases.db", in: dir)
            let conf = try TestSupport.write("""
                table aliases db:\(dir)/aliases.db
                action "local" mbox alias <aliases>
                match for local action "local"
                """, to: "smtpd.conf", in: dir)
            let f = SetupChecker(config: try SMTPDConfig.load(path: conf), resolverOptions: .init(host: .system())).run()
            #expect(f.contains { $0.code == "unreadable-table" && $0.file == "\(dir)/aliases.db" })
        }
    }

    @Test func netaddrPrefixThatOverflowsSmtpdsParser() throws {
        try TestSupport.withTemporaryDirectory { dir in
            try TestSupport.write("192.0.2.0/24\n10.0.0.0/33333333333\n", to: "nets", in: dir)
            let conf = try TestSupport.write("""
                table nets file:\(dir)/nets
                action "out" relay
                match from src <nets> for any action "out"
                """, to: "smtpd.conf", in: dir)
            let f = SetupChecker(config: try SMTPDConfig.load(path: conf), resolverOptions: .init(host: .system())).run()
            #expect(f.map(\.code) == ["netaddr-prefix-overflow"])
            #expect(f.first?.line == 2 && f.first?.message.contains("every IPv4 address") == true)
        }
    }
}
