import Foundation
import Testing
@testable import SMTPDTables

/// What we read from a configuration: tables, actions, rules in order, macros, includes, negations.
@Suite("smtpd.conf model")
struct ConfigModelTests {
    static func parse(_ text: String, path: String = "/etc/smtpd.conf") throws -> SMTPDConfig {
        try SMTPDConfig.parse(text: text, path: path)
    }

    static func error(_ text: String, path: String = "/etc/smtpd.conf") -> TableError? {
        do {
            _ = try parse(text, path: path)
            return nil
        } catch let e as TableError {
            return e
        } catch {
            return nil
        }
    }

    @Test func tablesOfEveryBackend() throws {
        let c = try Self.parse("""
            table aliases file:/etc/mail/aliases
            table adb db:/etc/mail/aliases.db
            table bare "/etc/mail/domains"
            table creds proc:/usr/local/bin/creds
            table ldap ldap:/etc/mail/ldap.conf
            table dom { example.org, "example.net" }
            table map { root = bob, postmaster => "root, bob" }
            action "x" mbox
            match for local action "x"
            """)
        #expect(c.tables.map(\.name) == ["aliases", "adb", "bare", "creds", "ldap", "dom", "map"])
        let aliases = try #require(c.table(named: "aliases"))
        #expect(aliases.backend == .file)
        #expect(aliases.path == "/etc/mail/aliases")
        #expect(aliases.location == ConfigLocation(file: "/etc/smtpd.conf", line: 1))
        #expect(c.table(named: "adb")?.backend == .db)
        #expect(c.table(named: "adb")?.path == "/etc/mail/aliases.db")
        #expect(c.table(named: "bare")?.backend == .file)
        #expect(c.table(named: "bare")?.config == "/etc/mail/domains")
        #expect(c.table(named: "creds")?.backend == .other("proc"))
        #expect(c.table(named: "ldap")?.backend == .other("ldap"))
        #expect(c.table(named: "ldap")?.config == "/etc/mail/ldap.conf")
        #expect(c.table(named: "ldap")?.path == nil)
        let dom = try #require(c.table(named: "dom"))
        #expect(dom.backend == .inline)
        #expect(dom.entries == [InlineTableEntry(key: "example.org"), InlineTableEntry(key: "example.net")])
        #expect(dom.inlineKind == .list)
        let map = try #require(c.table(named: "map"))
        #expect(map.entries == [InlineTableEntry(key: "root", value: "bob"),
                                InlineTableEntry(key: "postmaster", value: "root, bob")])
        #expect(map.inlineKind == .mapping)
        #expect(c.table(named: "nope") == nil)
    }

    @Test func actionsAndOptions() throws {
        let c = try Self.parse("""
            table aliases file:/etc/mail/aliases
            table creds file:/etc/mail/creds
            mda wrapper "w" "/usr/bin/env %{mda}"
            action "local" maildir "~/Maildir" junk alias <aliases> user "vmail" wrapper "w" ttl 2d
            action "lmtp" lmtp "/run/lmtp" rcpt-to virtual { "@example.org" = bob }
            action "mda" mda "/usr/bin/procmail -f -"
            action "fwd" forward-only
            action "exp" expand-only
            action "out" relay host "smtp+tls://l@relay.example.org:587" auth <creds> tls no-verify \\
                helo "mx.example.org" mail-from "@example.org"
            match for local action "local"
            """)
        #expect(c.actions.map(\.name) == ["local", "lmtp", "mda", "fwd", "exp", "out"])
        let local = try #require(c.action(named: "local"))
        #expect(local.method == .maildir(path: "~/Maildir", junk: true))
        #expect(local.alias == .named("aliases"))
        #expect(local.user == "vmail")
        #expect(local.wrapper == "w")
        #expect(local.ttl == "2d")
        #expect(local.virtual == nil)
        #expect(local.location.line == 4)
        let lmtp = try #require(c.action(named: "lmtp"))
        #expect(lmtp.method == .lmtp(destination: "/run/lmtp", rcptTo: true))
        guard case .inline(let vt)? = lmtp.virtual else {
            Issue.record("virtual table not inline")
            return
        }
        #expect(vt.isAnonymous)
        #expect(vt.entries == [InlineTableEntry(key: "@example.org", value: "bob")])
        #expect(c.table(named: vt.name) == vt)
        #expect(c.action(named: "mda")?.method == .mda(command: "/usr/bin/procmail -f -"))
        #expect(c.action(named: "fwd")?.method == .forwardOnly)
        #expect(c.action(named: "exp")?.method == .expandOnly)
        let out = try #require(c.action(named: "out"))
        #expect(out.method == .relay)
        guard case .inline(let host)? = out.options.first.flatMap({ o -> TableReference? in
            if case .host(let t) = o { return t } else { return nil } }) else {
            Issue.record("no host table")
            return
        }
        #expect(host.entries == [InlineTableEntry(key: "smtp+tls://l@relay.example.org:587")])
        #expect(Array(out.options.dropFirst()) == [.auth(.named("creds")), .tls(verify: false),
                                                   .helo("mx.example.org"), .mailFrom("@example.org")])
        #expect(out.location.line == 9)
        #expect(out.text == "action \"out\" relay host \"smtp+tls://l@relay.example.org:587\" auth <creds> tls no-verify helo \"mx.example.org\" mail-from \"@example.org\"")
    }

    @Test func rulesInOrderWithNegations() throws {
        let c = try Self.parse("""
            table domains { example.org }
            table spammers { "@spam.example" }
            action "x" mbox
            action "r" relay
            match from any for domain <domains> action "x"
            match ! from local !for domain <domains> reject
            match from mail-from <spammers> for any reject
            match auth from any for any action "r"
            match from rdns regex { "^mx" } for rcpt-to { bob } tag { t } action "r"
            match for local action "x"
            """)
        #expect(c.rules.count == 6)
        #expect(c.rules.map(\.location.line) == [5, 6, 7, 8, 9, 10])
        #expect(c.rules.map(\.actionName) == ["x", nil, nil, "r", "r", "x"])
        #expect(c.rules[0].conditions == [MatchCondition(.fromAny),
                                          MatchCondition(.forDomain(.named("domains"), regex: false))])
        #expect(c.rules[0].text == "match from any for domain <domains> action \"x\"")
        #expect(c.rules[1].decision == .reject)
        #expect(c.rules[1].conditions == [MatchCondition(negated: true, .fromLocal),
                                          MatchCondition(negated: true, .forDomain(.named("domains"), regex: false))])
        #expect(c.rules[2].conditions.first == MatchCondition(.fromMailFrom(.named("spammers"), regex: false)))
        #expect(c.rules[3].conditions == [MatchCondition(.auth(nil, regex: false)), MatchCondition(.fromAny),
                                          MatchCondition(.forAny)])
        let r4 = c.rules[4].conditions
        #expect(r4.count == 3)
        if case .fromRDNS(let t?, let regex) = r4[0].kind {
            #expect(regex)
            #expect(c.table(t)?.entries == [InlineTableEntry(key: "^mx")])
        } else {
            Issue.record("expected from rdns regex, got \(r4[0])")
        }
        #expect(c.rules[5].matchesFromLocalByDefault)
        #expect(!c.rules[5].matchesForLocalByDefault)
        #expect(!c.rules[0].matchesFromLocalByDefault)
    }

    @Test func macros() throws {
        let c = try Self.parse("""
            dom = "example.org"
            two = "a.org b.org"
            name = '"local"'
            dom = "example.net"
            action $name mbox
            match from any for domain $dom action "local"
            match from any for domain { $two } reject
            match from any for domain "$dom" reject
            """)
        #expect(c.macro(named: "dom") == "example.net")
        #expect(c.macro(named: "name") == "\"local\"")
        // ... and an unquoted keyword is a keyword (as with smtpd).
        #expect(Self.error("name = \"local\"\naction $name mbox\nmatch for local action \"x\"")?.line == 2)
        #expect(c.macros.map(\.name) == ["two", "name", "dom"])
        #expect(c.macros.last?.location.line == 4)
        // A macro's value is read again as tokens: a quoted value stays a plain string, even a keyword...
        #expect(c.action(named: "local") != nil)
        // ... or for several words; inside quotes it is not expanded.
        guard case .forDomain(.inline(let t1), _) = c.rules[0].conditions[1].kind,
              case .forDomain(.inline(let t2), _) = c.rules[1].conditions[1].kind,
              case .forDomain(.inline(let t3), _) = c.rules[2].conditions[1].kind
        else {
            Issue.record("unexpected conditions")
            return
        }
        #expect(t1.entries.map(\.key) == ["example.net"])
        #expect(t2.entries.map(\.key) == ["a.org", "b.org"])
        #expect(t3.entries.map(\.key) == ["$dom"])
        // The rule keeps the macro as written.
        #expect(c.rules[0].text == "match from any for domain $dom action \"local\"")
    }

    @Test func lexing() throws {
        let c = try Self.parse("""
            # comment line
            table t { "a b", 'c"d', "e\\"f", g#comment
            }
            action "x" \\
              mbox
            match from src { 192.0.2.1, "::1", 10.0.0.0/8 } \\
                for any action "x"
            """)
        #expect(c.table(named: "t")?.entries.map(\.key) == ["a b", "c\"d", "e\"f", "g"])
        #expect(c.action(named: "x")?.location.line == 4)
        #expect(c.rules.first?.location.line == 6)
        #expect(c.rules.first?.text == "match from src { 192.0.2.1, \"::1\", 10.0.0.0/8 } for any action \"x\"")
        if case .fromSource(.inline(let t), _)? = c.rules.first?.conditions.first?.kind {
            #expect(t.entries.map(\.key) == ["192.0.2.1", "::1", "10.0.0.0/8"])
        } else {
            Issue.record("no source table")
        }
    }

    @Test func subaddressingDelimiter() throws {
        #expect(try Self.parse("action \"x\" mbox\nmatch for local action \"x\"").subaddressingDelimiter == UInt8(ascii: "+"))
        let c = try Self.parse("smtp sub-addr-delim \"-\"\naction \"x\" mbox\nmatch for local action \"x\"")
        #expect(c.subaddressingDelimiter == UInt8(ascii: "-"))
        #expect(c.otherDirectives.map(\.text) == ["smtp sub-addr-delim \"-\""])
    }

    @Test func otherDirectivesAndListeners() throws {
        let c = try Self.parse("""
            pki mx.example.org cert "/etc/ssl/mx.crt"
            pki mx.example.org key "/etc/ssl/private/mx.key"
            table sndrs { bob = "bob@example.org" }
            listen on eth0 tls pki mx.example.org hostname "mx.example.org" auth-optional senders <sndrs> masquerade
            listen on socket
            queue compression
            action "x" mbox
            match for local action "x"
            """)
        #expect(c.otherDirectives.map(\.keyword) == ["pki", "pki", "listen", "listen", "queue"])
        #expect(c.otherDirectives[2].location.line == 4)
        #expect(c.listeners.count == 2)
        #expect(c.listeners[0].interface == "eth0")
        #expect(c.listeners[0].hostname == "mx.example.org")
        #expect(c.listeners[0].senders == .named("sndrs"))
        #expect(c.listeners[1].interface == "socket")
    }

    @Test func includes() throws {
        try TestSupport.withTemporaryDirectory { dir in
            try TestSupport.write("table aliases file:/etc/mail/aliases\n\nbad = \"x\"\n", to: "tables.conf", in: dir)
            let top = try TestSupport.write("""
                include "\(dir)/tables.conf"
                action "local" mbox alias <aliases>
                match for local action "local"
                """, to: "smtpd.conf", in: dir)
            let c = try SMTPDConfig.load(path: top)
            #expect(c.includedFiles == ["\(dir)/tables.conf"])
            #expect(c.table(named: "aliases")?.location == ConfigLocation(file: "\(dir)/tables.conf", line: 1))
            #expect(c.macro(named: "bad") == "x")
            #expect(c.macros.first?.location == ConfigLocation(file: "\(dir)/tables.conf", line: 3))
            #expect(c.action(named: "local")?.location == ConfigLocation(file: top, line: 2))

            // A cycle is reported where the file includes itself.
            let loop = try TestSupport.write("include \"\(dir)/b.conf\"\n", to: "a.conf", in: dir)
            try TestSupport.write("\n\ninclude \"\(dir)/a.conf\"\n", to: "b.conf", in: dir)
            #expect(throws: TableError.self) { try SMTPDConfig.load(path: loop) }
            do {
                _ = try SMTPDConfig.load(path: loop)
            } catch let e as TableError {
                #expect(e.kind == .config)
                #expect(e.path == "\(dir)/b.conf")
                #expect(e.line == 3)
                #expect(e.message.contains("cycle"))
            }

            // Deep (non-cyclic) nesting is bounded too.
            for i in 0..<40 {
                try TestSupport.write("include \"\(dir)/n\(i + 1).conf\"\n", to: "n\(i).conf", in: dir)
            }
            do {
                _ = try SMTPDConfig.load(path: "\(dir)/n0.conf")
                Issue.record("deep includes accepted")
            } catch let e as TableError {
                #expect(e.message.contains("nested"))
                #expect(e.line == 1)
            }
        }
    }

    @Test func missingConfigurationIsAnIOError() {
        #expect(throws: TableError.self) { try SMTPDConfig.load(path: "/nonexistent/smtpd.conf") }
    }

    /// Errors the oracle corpus cannot show at a line: smtpd exits without one, or the case needs a file that
    /// cannot exist.
    @Test(arguments: [
        // A table name used twice: smtpd exits from table_create with no line number; we name the second one.
        ("table t { a }\ntable t { b }\naction \"x\" mbox\nmatch for local action \"x\"", 2, "already defined"),
        ("action \"x\" mbox\nmatch for local action \"x\"\ninclude \"/nonexistent/x.conf\"", 3, "failed to include"),
        // create_if_listener: smtpd exits without a line.
        ("listen on 127.0.0.1 auth\naction \"x\" mbox\nmatch for local action \"x\"", 1, "auth requires tls"),
        ("listen on 127.0.0.1 tls\naction \"x\" mbox\nmatch for local action \"x\"", 1, "pki required"),
    ])
    func oursOnlyErrors(_ text: String, _ line: Int, _ message: String) {
        let e = Self.error(text)
        #expect(e?.kind == .config)
        #expect(e?.line == line, "\(String(describing: e))")
        #expect(e?.message.contains(message) == true, "\(String(describing: e))")
        #expect(e?.path == "/etc/smtpd.conf")
    }

    /// 7.x grammar that 6.8 refuses: newlines inside braces, `protocols`, several pki on one listener.
    @Test func sevenEightGrammar() throws {
        let c = try Self.parse("""
            table dom {
                example.org,
                example.net
            }
            pki a cert "/a.crt"
            pki b cert "/b.crt"
            listen on 127.0.0.1 tls pki a pki b protocols "tlsv1.3" ciphers "secure"
            action "r" relay protocols "tlsv1.3" ciphers "secure"
            match from any for domain <dom> action "r"
            """)
        #expect(c.table(named: "dom")?.entries.map(\.key) == ["example.org", "example.net"])
        #expect(c.rules.first?.location.line == 9)
    }

    /// With `checkTableFiles`, file tables are loaded as smtpd loads them; without it they are not touched.
    @Test func tableFilesAreCheckedOnlyWhenAsked() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let text = "table aliases file:\(dir)/aliases\ntable adb db:\(dir)/aliases.db\naction \"x\" mbox alias <aliases>\nmatch for local action \"x\""
            _ = try SMTPDConfig.parse(text: text, path: "c")
            #expect(throws: TableError.self) {
                try SMTPDConfig.parse(text: text, path: "c", options: .init(checkTableFiles: true))
            }
            try TestSupport.write("not a db", to: "aliases.db", in: dir)
            try TestSupport.write("[::1\n", to: "aliases", in: dir)
            do {
                _ = try SMTPDConfig.parse(text: text, path: "c", options: .init(checkTableFiles: true))
                Issue.record("malformed table accepted")
            } catch let e as TableError {
                #expect(e.line == 1)
            }
            try TestSupport.write("# @list\nroot\n", to: "aliases", in: dir)
            do {
                _ = try SMTPDConfig.parse(text: text, path: "c", options: .init(checkTableFiles: true))
                Issue.record("list used as alias table")
            } catch let e as TableError {
                #expect(e.line == 3)
                #expect(e.message.contains("may not be used for alias lookups"))
            }
        }
    }
}
