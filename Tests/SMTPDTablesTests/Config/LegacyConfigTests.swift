import Foundation
import SMTPDTables
import Testing

/// A real smtpd for `smtpd -n`: this machine's (Debian 12, 6.8), or one in a Debian root (7.6, 7.9).
struct RealSMTPD: Sendable, CustomStringConvertible {
    /// The root ("" for this machine).
    var root: String
    var suite: String
    var hasDB: Bool
    var description: String { suite }

    static let host: RealSMTPD? = FileManager.default.isExecutableFile(atPath: "/usr/sbin/smtpd")
        ? RealSMTPD(root: "", suite: "bookworm (6.8)", hasDB: true) : nil

    /// `.ci/debian-root SUITE`'s root (needs root for unshare and chroot).
    static func inRoot(_ suite: String, hasDB: Bool) -> RealSMTPD? {
        guard getuid() == 0 else { return nil }
        let listed = (ProcessInfo.processInfo.environment["SMTPD_TABLES_ROOTS"] ?? "").split(separator: " ").map(String.init)
        for dir in listed + ["/var/cache/smtpd-tables/roots/\(suite)"] {
            guard let marker = FileManager.default.contents(atPath: dir + "/.smtpd-tables-root"),
                  String(decoding: marker, as: UTF8.self).hasPrefix("suite=\(suite) "),
                  FileManager.default.isExecutableFile(atPath: dir + "/usr/sbin/smtpd") else { continue }
            return RealSMTPD(root: dir, suite: suite, hasDB: hasDB)
        }
        return nil
    }

    static let all: [RealSMTPD] = [host, inRoot("trixie", hasDB: true), inRoot("sid", hasDB: false)].compactMap { $0 }

    /// A scratch directory this smtpd can read: `(path here, path for smtpd)`.
    func withScratch(_ body: (String, String) throws -> Void) throws {
        let inside = "/tmp/smtpd-tables-legacy-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root + inside, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root + inside) }
        try body(root + inside, inside)
    }

    /// `smtpd -n -f CONFIG` (CONFIG as smtpd sees it).
    func check(_ config: String) throws -> ProcessResult {
        if root.isEmpty { return try TestSupport.run("/usr/sbin/smtpd", ["-n", "-f", config], timeout: 30) }
        return try TestSupport.run("/usr/bin/unshare", [
            "-m", "sh", "-c", "mount -t proc proc \"$1/proc\" && exec chroot \"$1\" /usr/sbin/smtpd -n -f \"$2\"",
            "sh", root, config,
        ], timeout: 30)
    }
}

@Suite("Old configurations (6.0-6.3 grammar): recognised, and migrated by migrate-config")
struct LegacyConfigTests {
    let tool = TestSupport.product("smtpd-tables")

    /// The seed's smtpd.conf, as the tutorial wrote it (OpenBSD interface names), its tables under `dir`
    /// (`inside`: the same folder as smtpd sees it).
    static func seedConfig(_ inside: String, pki: Bool = false, linux: Bool = false, aliasesDB: Bool = true) -> String {
        let egress = linux ? "eth0" : "egress", loopback = linux ? "lo" : "lo0"
        var text = pki ? """
            pki mail.example.org certificate "\(inside)/mail.crt"
            pki mail.example.org key "\(inside)/mail.key"

            """ : ""
        text += """
            table aliases  \(aliasesDB ? "db:\(inside)/aliases.db" : "file:\(inside)/aliases")
            table vusers   file:\(inside)/vusers
            table vdomains file:\(inside)/vdomains
            table passwd   file:\(inside)/passwd
            listen on \(loopback)
            listen on \(egress) tls pki auth-optional
            listen on \(egress) port submission tls-require pki auth <passwd>
            accept for local alias <aliases> deliver to lmtp "/var/dovecot/lmtp" rcpt-to
            accept from any for domain <vdomains> virtual <vusers> deliver to lmtp "/var/dovecot/lmtp" rcpt-to
            accept from local for any relay

            """
        return text
    }

    /// The same setup written by hand in the 6.4+ grammar: the reference the migration must agree with.
    static func referenceConfig(_ inside: String) -> String {
        """
        pki mail.example.org cert "\(inside)/mail.crt"
        pki mail.example.org key "\(inside)/mail.key"
        table aliases  db:\(inside)/aliases.db
        table vusers   file:\(inside)/vusers
        table vdomains file:\(inside)/vdomains
        table passwd   file:\(inside)/passwd
        listen on lo
        listen on eth0 tls pki mail.example.org auth-optional
        listen on eth0 port submission tls-require pki mail.example.org auth <passwd>
        action "lmtp-aliases" lmtp "/var/dovecot/lmtp" rcpt-to alias <aliases>
        action "lmtp-virtual" lmtp "/var/dovecot/lmtp" rcpt-to virtual <vusers>
        action "out" relay
        match for local action "lmtp-aliases"
        match from any for domain <vdomains> action "lmtp-virtual"
        match from local for any action "out"

        """
    }

    /// The seed's tables (the tutorial lost their left-hand sides: these are plausible ones).
    static func writeTables(in dir: String, certificate: Bool) throws {
        try TestSupport.write("root: daemon\npostmaster: root\nabuse: root\nlist: alice@example.org, bob@example.org\n"
                              + "gone: error:550 gone away\n", to: "aliases", in: dir)
        try TestSupport.write("example.org\nexample.net\n", to: "vdomains", in: dir)
        try TestSupport.write("alice@example.org daemon\nbob@example.org bin\ninfo@example.net alice@example.org\n"
                              + "loop@example.net loop@example.net\n", to: "vusers", in: dir)
        try TestSupport.write("alice@example.org:$2b$10$DG71/YGUZzoEMsciLUZHfOc/qUs4f8DxppQrQfR7ChmMmZzJo0zWC\n",
                              to: "passwd", in: dir)
        let built = try TestSupport.run(TestSupport.product("makemap"), ["-t", "aliases", dir + "/aliases"])
        #expect(built.status == 0, "\(built.stderr)")
        if certificate {
            let r = try TestSupport.run("/usr/bin/openssl", [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=mail.example.org", "-days", "2",
                "-keyout", dir + "/mail.key", "-out", dir + "/mail.crt",
            ])
            #expect(r.status == 0, "\(r.stderr)")
            chmod(dir + "/mail.key", 0o600)
        }
    }

    @Test("check, resolve and newaliases on the seed's config: one clear message naming the first old line")
    func recognised() throws {
        try TestSupport.withTemporaryDirectory { dir in
            try Self.writeTables(in: dir, certificate: false)
            let conf = try TestSupport.write(Self.seedConfig(dir), to: "smtpd.conf", in: dir)
            for arguments in [["check", "-f", conf], ["resolve", "-f", conf, "root"]] {
                let r = try TestSupport.run(tool, arguments)
                #expect(r.status == 2)
                let lines = r.stderr.split(separator: "\n")
                #expect(lines.count == 1, "\(r.stderr)")
                #expect(r.stderr.contains("\(conf):8: accept ... deliver to"), "\(r.stderr)")
                #expect(r.stderr.contains("OpenSMTPD 6.0 to 6.3") && r.stderr.contains("migrate-config -f \(conf)"))
                #expect(!r.stderr.contains("syntax error"))
            }
            // newaliases still finds the aliases table.
            try FileManager.default.removeItem(atPath: dir + "/aliases.db")
            let n = try TestSupport.run(TestSupport.product("newaliases"), ["-f", conf])
            #expect(n.status == 0 && n.stdout == "\(dir)/aliases: 5 aliases\n", "\(n.stderr)")
            #expect(FileManager.default.fileExists(atPath: dir + "/aliases.db"))
        }
    }

    @Test("each old-only directive is named at its own line", arguments: [
        ("expire 4d", "expire (6.4+: queue ttl)"),
        ("max-message-size 35M", "max-message-size"),
        ("pki mx certificate \"/etc/ssl/mx.crt\"", "pki NAME certificate"),
        ("reject from any for domain <spam>", "reject (6.4+: match ... reject)"),
        ("subaddressing-delimiter -", "subaddressing-delimiter"),
        ("bounce-warn 1h, 6h", "bounce-warn"),
    ])
    func eachDirective(_ line: String, _ construct: String) throws {
        let text = "# comment\ntable spam { example.com }\naction \"x\" mbox\n\(line)\nmatch for local action \"x\"\n"
        #expect(throws: TableError.self) { try SMTPDConfig.parse(text: text, path: "c") }
        do {
            _ = try SMTPDConfig.parse(text: text, path: "c")
        } catch {
            #expect(error.line == 4 && error.message.contains(construct), "\(error)")
        }
    }

    @Test("the migrated seed config is accepted by the real smtpd -n", arguments: RealSMTPD.all)
    func acceptedBySMTPD(_ smtpd: RealSMTPD) throws {
        try smtpd.withScratch { here, inside in
            try Self.writeTables(in: here, certificate: true)
            let old = try TestSupport.write(Self.seedConfig(inside, pki: true, linux: true, aliasesDB: smtpd.hasDB),
                                            to: "old.conf", in: here)
            // The old config itself is refused by every release since 6.4.
            #expect(try smtpd.check(inside + "/old.conf").status != 0)
            let r = try TestSupport.run(tool, ["migrate-config", "-f", old, "-o", here + "/new.conf"])
            #expect(r.status == 0, "\(r.stderr)")
            let new = try String(contentsOfFile: here + "/new.conf", encoding: .utf8)
            #expect(new.contains("# migrate-config:"))  // the lost pki names are marked
            let real = try smtpd.check(inside + "/new.conf")
            #expect(real.status == 0, "\(smtpd): \(real.stderr)\n\(new)")
            #expect((real.stdout + real.stderr).contains("configuration OK"))
        }
    }

    /// What must agree between two resolutions of one address (action names and rule texts differ).
    static func answer(_ object: [String: Any]) -> String {
        let deliveries = (object["deliveries"] as? [[String: Any]] ?? []).map { d in
            d.filter { $0.key != "action" }.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
        }
        let tree = (object["tree"] as? [[String: Any]] ?? []).map { n in
            ["id", "parent", "kind", "value", "depth", "table", "key", "duplicate"].map { "\(n[$0] ?? "-")" }.joined(separator: "/")
        }
        return "\(object["accepted"] ?? "") \(object["code"] ?? "") \(object["error"] ?? "") \(deliveries) \(tree)"
    }

    @Test("resolve on the migrated seed gives the answers of the hand-written 6.4+ config")
    func sameAnswers() throws {
        try TestSupport.withTemporaryDirectory { dir in
            try Self.writeTables(in: dir, certificate: true)
            let old = try TestSupport.write(Self.seedConfig(dir, pki: true, linux: true), to: "old.conf", in: dir)
            let reference = try TestSupport.write(Self.referenceConfig(dir), to: "reference.conf", in: dir)
            #expect(try TestSupport.run(tool, ["migrate-config", "-f", old, "-o", dir + "/new.conf"]).status == 0)
            let users = ["root", "postmaster", "abuse", "list", "gone", "daemon", "nosuchuser", "alice", "bob", "info",
                         "loop", "daemon"]
            let domains = ["localhost", "mail.example.org", "example.org", "example.net", "elsewhere.com"]
            let addresses = users.flatMap { u in domains.map { "\(u)@\($0)" } } + ["root", "root+tag@localhost"]
            for source in ["local", "192.0.2.7"] {
                let flags = ["resolve", "--json", "--hostname", "mail.example.org", "--source", source, "--smtpd-version", "7.6"]
                let migrated = try TestSupport.run(tool, flags + ["-f", dir + "/new.conf"] + addresses)
                let handWritten = try TestSupport.run(tool, flags + ["-f", reference] + addresses)
                #expect(migrated.status == handWritten.status && migrated.status != 2, "\(migrated.stderr)")
                let a = try #require(try JSONSerialization.jsonObject(with: migrated.stdoutBytes) as? [[String: Any]])
                let b = try #require(try JSONSerialization.jsonObject(with: handWritten.stdoutBytes) as? [[String: Any]])
                #expect(a.count == addresses.count && b.count == addresses.count)
                for (x, y) in zip(a, b) { #expect(Self.answer(x) == Self.answer(y), "\(x["address"] ?? "") from \(source)") }
                // Both accept and refuse something: the comparison is not vacuous.
                #expect(a.contains { $0["accepted"] as? Bool == true } && a.contains { $0["accepted"] as? Bool == false })
            }
        }
    }

    /// Old rules built from the old grammar's parts, each a config of its own.
    static let generatedRules: [String] = {
        let froms = ["", "from any ", "from local ", "from source <nets> ", "from ! source <nets> "]
        let fors = ["", "for local ", "for any ", "for domain <doms> ", "for ! domain example.com ", "for domain \"*.example.org\" "]
        let extras = ["", "sender <sendertab> ", "recipient <rcpttab> ", "tagged T ", "authenticated "]
        let actions = ["deliver to mbox", "deliver to maildir", "deliver to maildir \"~/Mail\"",
                       "deliver to lmtp \"/var/dovecot/lmtp\" rcpt-to", "deliver to lmtp localhost:24 as vmail",
                       "deliver to mda \"/usr/bin/procmail -f -\" as vmail", "alias <aliases> deliver to mbox",
                       "virtual <vusers> deliver to maildir", "relay", "relay backup mx1.example.org",
                       "relay as \"@example.org\" tls verify", "relay via smtp://smarthost.example.org:25",
                       "relay via smtp+tls://label@smarthost.example.org auth <secrets>", "expire 4d", "forward-only"]
        var out: [String] = []
        for (i, action) in actions.enumerated() {
            out.append("accept \(froms[i % froms.count])\(fors[i % fors.count])\(extras[i % extras.count])\(action)")
            out.append("accept \(froms[(i + 2) % froms.count])\(fors[(i + 3) % fors.count])\(action)")
        }
        out += ["reject from any for domain <doms>", "reject from ! local sender <sendertab>"]
        return out
    }()

    @Test("generated old rules: the migration parses here and real smtpd -n 6.8 accepts it",
          .enabled(if: RealSMTPD.host != nil, "smtpd 6.8 is not installed"))
    func generated() throws {
        try TestSupport.withTemporaryDirectory { dir in
            try Self.writeTables(in: dir, certificate: false)
            for name in ["nets", "doms", "sendertab", "rcpttab"] {
                try TestSupport.write(name == "nets" ? "192.0.2.0/24\n" : "example.com\n", to: name, in: dir)
            }
            try TestSupport.write("label user:password\n", to: "secrets", in: dir)
            var failures: [String] = []
            for (i, rule) in Self.generatedRules.enumerated() {
                let old = """
                    table aliases db:\(dir)/aliases.db
                    table vusers file:\(dir)/vusers
                    table nets file:\(dir)/nets
                    table doms file:\(dir)/doms
                    table sendertab file:\(dir)/sendertab
                    table rcpttab file:\(dir)/rcpttab
                    table secrets file:\(dir)/secrets
                    listen on lo
                    expire 5d
                    max-message-size 35M
                    \(rule)
                    accept for local deliver to mbox

                    """
                let path = try TestSupport.write(old, to: "old\(i).conf", in: dir)
                let r = try TestSupport.run(tool, ["migrate-config", "-f", path, "-o", dir + "/new\(i).conf"])
                if r.status != 0 { failures.append("\(rule): migrate-config: \(r.stderr)"); continue }
                let real = try RealSMTPD.host!.check(dir + "/new\(i).conf")
                if real.status != 0 {
                    let new = (try? String(contentsOfFile: dir + "/new\(i).conf", encoding: .utf8)) ?? ""
                    failures.append("\(rule): smtpd -n: \(real.stderr)\n\(new)")
                }
            }
            #expect(failures.isEmpty, "\(failures.joined(separator: "\n\n"))")
            #expect(Self.generatedRules.count > 30)
        }
    }

    @Test("migrate-config refuses a 6.4+ config and never writes onto its source")
    func refusals() throws {
        try TestSupport.withTemporaryDirectory { dir in
            try Self.writeTables(in: dir, certificate: false)
            let new = try TestSupport.write("action \"x\" mbox\nmatch for local action \"x\"\n", to: "new.conf", in: dir)
            let r = try TestSupport.run(tool, ["migrate-config", "-f", new])
            #expect(r.status == 2 && r.stderr.contains("not in the 6.0-6.3 grammar"))
            let old = try TestSupport.write(Self.seedConfig(dir), to: "old.conf", in: dir)
            let before = try String(contentsOfFile: old, encoding: .utf8)
            let onto = try TestSupport.run(tool, ["migrate-config", "-f", old, "-o", old])
            #expect(onto.status == 2 && onto.stderr.contains("is the old configuration itself"))
            #expect(try String(contentsOfFile: old, encoding: .utf8) == before)
        }
    }
}
