import Foundation
import Testing
@testable import SMTPDTables

/// DovecotConfig: the reader of 2.3 and 2.4 dovecot.conf, alone and against the real `doveconf -n` of each release.
@Suite("Dovecot configuration reader")
struct DovecotConfigTests {
    @Test("the seed's 2.3 passdb: scheme, path, syntax")
    func seed23() throws {
        let c = try DovecotConfig.parse("""
            # comment
            passdb {
                args   = scheme=blf-crypt /etc/mail/passwd
                driver = passwd-file
            }
            userdb {
                args   = uid=vmail gid=vmail home=/var/mail/%d/%n
                driver = static
            }
            """, path: "/etc/dovecot/dovecot.conf")
        #expect(c.syntax == .v2_3)
        #expect(c.passwdFilePassdbs.count == 1)
        let p = try #require(c.passwdFilePassdbs.first)
        #expect(p.path == "/etc/mail/passwd")
        #expect(p.defaultScheme == "BLF-CRYPT")
        #expect(p.place == .init(file: "/etc/dovecot/dovecot.conf", line: 2))
        #expect(p.pathPlace.line == 3)
        #expect(c.firstSetting?.line == 2)
        #expect(c.foldsLogins)
    }

    @Test("2.4: named passdb, inherited settings, quotes, comments, continuation lines")
    func syntax24() throws {
        let c = try DovecotConfig.parse("""
            dovecot_config_version = 2.4.1 # the first setting
            passdb_default_password_scheme = SHA512-CRYPT
            auth_allow_weak_schemes = yes
            passdb passwd-file {
              passwd_file_path = /etc/mail/passwd
            }
            passdb other {
              driver = passwd-file
              default_password_scheme = "blf-crypt"
              passwd_file_path = "/srv/pass words#1"
            }
            passdb pam {
            }
            auth_username_format = \\
              %{user}
            """, path: "d.conf")
        #expect(c.syntax == .v2_4)
        #expect(c.passwdFilePassdbs.map(\.path) == ["/etc/mail/passwd", "/srv/pass words#1"])
        #expect(c.passwdFilePassdbs.map(\.defaultScheme) == ["SHA512-CRYPT", "BLF-CRYPT"])
        #expect(c.passwdFilePassdbs[0].schemePlace?.line == 2)
        #expect(c.allowsWeakSchemes)
        #expect(c.authUsernameFormat == "%{user}")
        #expect(!c.foldsLogins)
        #expect(c.otherSyntax.isEmpty)
    }

    @Test("2.3 args: options before the path, username_format, no scheme")
    func args23() throws {
        let c = try DovecotConfig.parse("""
            passdb {
              driver = passwd-file
              args = username_format=%n /etc/mail/%d/passwd
            }
            passdb {
              driver = passwd-file
              args = /etc/mail/passwd
            }
            """, path: "d.conf")
        #expect(c.passwdFilePassdbs.map(\.path) == ["/etc/mail/%d/passwd", "/etc/mail/passwd"])
        #expect(c.passwdFilePassdbs.map(\.defaultScheme) == [nil, nil])
        #expect(c.passwdFilePassdbs[0].usernameFormat == "%n")
    }

    @Test("the other release's forms are noted with their lines")
    func mixedSyntax() throws {
        let a = try DovecotConfig.parse("""
            passdb passwd-file {
              passwd_file_path = /etc/mail/passwd
            }
            """, path: "d.conf")
        #expect(a.syntax == .v2_3)
        #expect(a.otherSyntax == [.init(file: "d.conf", line: 1)])
        let b = try DovecotConfig.parse("""
            dovecot_config_version = 2.4.1
            passdb {
              driver = passwd-file
              args = /etc/mail/passwd
            }
            """, path: "d.conf")
        #expect(b.syntax == .v2_4)
        #expect(b.otherSyntax == [.init(file: "d.conf", line: 4)])
    }

    @Test("!include and !include_try, relative to the including file, with globs")
    func includes() throws {
        try TestSupport.withTemporaryDirectory { dir in
            try FileManager.default.createDirectory(atPath: dir + "/conf.d", withIntermediateDirectories: true)
            try TestSupport.write("auth_mechanisms = plain\n", to: "conf.d/10-auth.conf", in: dir)
            try TestSupport.write("passdb {\n  driver = passwd-file\n  args = scheme=CRYPT /p\n}\n", to: "conf.d/20-passdb.conf", in: dir)
            let main = try TestSupport.write("!include conf.d/*.conf\n!include_try missing.conf\n", to: "dovecot.conf", in: dir)
            let c = try DovecotConfig.load(path: main)
            #expect(c.files == [main, dir + "/conf.d/10-auth.conf", dir + "/conf.d/20-passdb.conf"])
            #expect(c.passwdFilePassdbs.first?.place == .init(file: dir + "/conf.d/20-passdb.conf", line: 1))
            #expect(c.firstSetting == .init(file: main, line: 1))   // where 2.4 wants dovecot_config_version
            // An include loop through a glob ends with an error, not a hang.
            try TestSupport.write("!include *.loop\n", to: "a.loop", in: dir)
            try TestSupport.write("!include *.loop\n", to: "b.loop", in: dir)
            #expect(throws: TableError.self) { try DovecotConfig.load(path: dir + "/a.loop") }
            try TestSupport.write("!include nope.conf\n", to: "bad.conf", in: dir)
            #expect(throws: TableError.self) { try DovecotConfig.load(path: dir + "/bad.conf") }
        }
    }

    @Test("syntax errors name file and line", arguments: [
        ("passdb {\n  driver = passwd-file\n", 1),
        ("}\n", 1),
        ("a = b\nthis is not a setting\n", 2),
    ])
    func errors(_ text: String, _ line: Int) {
        #expect {
            _ = try DovecotConfig.parse(text, path: "x.conf")
        } throws: { error in
            guard let e = error as? TableError else { return false }
            return e.path == "x.conf" && e.line == line && e.kind == .config
        }
    }

    // MARK: Against doveconf

    static let releases = DovecotRelease.available.map(\.suite)

    static let seed: UInt64 = {
        if let text = ProcessInfo.processInfo.environment["SMTPD_TABLES_SEED"], let s = UInt64(text) { return s }
        return UInt64.random(in: 1...UInt64(UInt32.max))
    }()

    /// A generated configuration for `version`: the main file and the included ones (relative names).
    static func generate(_ version: DovecotVersion, _ rng: inout SplitMix64, dir: String) -> [String: String] {
        func pick<T>(_ xs: [T]) -> T { xs.randomElement(using: &rng)! }
        func coin() -> Bool { Bool.random(using: &rng) }
        var files: [String: String] = [:]
        var main = version == .v2_4 ? "dovecot_config_version = 2.4.1\ndovecot_storage_version = 2.4.1\n" : ""
        if coin() { main += "# generated\n\n" }
        var passdbs = ""
        for n in 0..<Int.random(in: 1...3, using: &rng) {
            let path = pick(["/etc/mail/passwd", "/srv/mail/passwd.\(n)", "/etc/dovecot/users"])
            let scheme: String? = pick([nil, "BLF-CRYPT", "blf-crypt", "SHA512-CRYPT", "CRYPT"])
            let comment = coin() ? "  # the shared file" : ""
            switch version {
            case .v2_3:
                var args = (scheme.map { "scheme=\($0) " } ?? "") + (coin() ? "username_format=%u " : "") + path
                if coin() { args = "\"\(args)\"" }
                passdbs += "passdb {\n  driver = passwd-file\(comment)\n"
                passdbs += coin() ? "  args = \\\n    \(args)\n}\n" : "  args = \(args)\n}\n"
                if coin() { passdbs += "passdb {\n  driver = pam\n}\n" }
            case .v2_4:
                let name = n == 0 && coin() ? "passwd-file" : "db\(n)"
                passdbs += "passdb \(name) {\(comment)\n"
                if name != "passwd-file" { passdbs += "  driver = passwd-file\n" }
                passdbs += coin() ? "  passwd_file_path = \"\(path)\"\n" : "  passwd_file_path = \(path)\n"
                if let scheme { passdbs += "  default_password_scheme = \(scheme)\n" }
                passdbs += "}\n"
                if coin() { passdbs += "passdb pam {\n}\n" }
            }
        }
        if version == .v2_4, coin() { main += "passdb_default_password_scheme = SHA256-CRYPT\n" }
        let other = "auth_mechanisms = plain login # what smtpd offers too\nauth_failure_delay = 0\n"
        switch Int.random(in: 0..<3, using: &rng) {
        case 0: main += other + passdbs
        case 1:
            files["conf.d/10-auth.conf"] = other
            files["conf.d/20-passdb.conf"] = passdbs
            main += "!include conf.d/*.conf\n!include_try local.conf\n"
        default:
            files["passdb.inc"] = passdbs
            main += other + "!include \(coin() ? "passdb.inc" : dir + "/passdb.inc")\n"
        }
        files["dovecot.conf"] = main
        return files
    }

    /// The passwd-file passdbs in `doveconf -n` output (one setting per line, no quotes, sections indented), read
    /// here on its own: 2.3's `args` split into options and path, 2.4's settings with the top-level defaults.
    static func doveconfPassdbs(_ text: String, _ version: DovecotVersion) -> [String] {
        var out: [String] = []
        var global: [String: String] = [:]
        var section: [String: String]?
        var label = ""
        for raw in text.split(separator: "\n") where !raw.hasPrefix("#") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if raw.hasPrefix("passdb") && line.hasSuffix("{") {
                section = [:]
                label = String(line.dropFirst(6).dropLast()).trimmingCharacters(in: .whitespaces)
                continue
            }
            if line == "}", let s = section {
                section = nil
                if version == .v2_3 {
                    guard s["driver"] == "passwd-file", let args = s["args"] else { continue }
                    var words = args.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
                    var scheme = "-"
                    while let w = words.first, w.hasPrefix("scheme=") || w.hasPrefix("username_format=") {
                        if w.hasPrefix("scheme=") { scheme = String(w.dropFirst(7)).uppercased() }
                        words.removeFirst()
                    }
                    out.append("\(words.joined(separator: " ")) \(scheme)")
                } else {
                    guard (s["driver"] ?? label) == "passwd-file", let path = s["passwd_file_path"] ?? global["passwd_file_path"]
                    else { continue }
                    let scheme = s["default_password_scheme"] ?? global["passdb_default_password_scheme"]
                    out.append("\(path) \(scheme?.uppercased() ?? "-")")
                }
                continue
            }
            guard let eq = line.range(of: " = ") ?? line.range(of: " =") else { continue }
            let key = String(line[..<eq.lowerBound]), value = String(line[eq.upperBound...])
            if section != nil { section![key] = value } else if !raw.hasPrefix(" ") { global[key] = value }
        }
        return out
    }

    @Test("our reading of passwd-file passdbs is doveconf -n's", .enabled(if: !releases.isEmpty, "needs root and Dovecot"),
          .disabled(if: TestSupport.underSanitizer, "process-level; the plain run covers it"),
          .timeLimit(.minutes(5)), arguments: releases)
    func sameAsDoveconf(_ suite: String) throws {
        let release = try #require(DovecotRelease.named(suite))
        print("DovecotConfigTests: seed \(Self.seed) (SMTPD_TABLES_SEED=\(Self.seed) to replay)")
        var rng = SplitMix64(seed: Self.seed)
        var agreed = 0, total = 0
        try release.withScratch { scratch in
            for n in 0..<30 {
                let dir = scratch + "/c\(n)"
                try FileManager.default.createDirectory(atPath: dir + "/conf.d", withIntermediateDirectories: true)
                let files = Self.generate(release.version, &rng, dir: dir)
                for (name, text) in files { try TestSupport.write(text, to: name, in: dir) }
                let main = dir + "/dovecot.conf"
                let r = try release.doveconf(main, scratch: scratch)
                try #require(r.status == 0, "\(release) refuses config \(n): \(r.stderr)\n\(files)")
                let theirs = Self.doveconfPassdbs(r.stdout, release.version)
                let config = try DovecotConfig.load(path: main)
                let ours = config.passwdFilePassdbs.map { "\($0.path) \($0.defaultScheme ?? "-")" }
                total += 1
                if ours == theirs && config.syntax == release.version { agreed += 1 }
                #expect(ours == theirs, "\(release), config \(n) (seed \(Self.seed)): \(files)")
                #expect(config.syntax == release.version && config.otherSyntax.isEmpty)

                // The same passdbs in the other release's syntax: this release refuses to start, where we say so.
                let otherVersion: DovecotVersion = release.version == .v2_3 ? .v2_4 : .v2_3
                let odir = dir + "/other"
                try FileManager.default.createDirectory(atPath: odir + "/conf.d", withIntermediateDirectories: true)
                for (name, text) in Self.generate(otherVersion, &rng, dir: odir) { try TestSupport.write(text, to: name, in: odir) }
                let refused = try release.doveconf(odir + "/dovecot.conf", scratch: scratch)
                let read = try DovecotConfig.load(path: odir + "/dovecot.conf")
                let findings = DovecotCheck(dovecot: read, version: release.version, smtpd: nil).run()
                    .filter { $0.code == "dovecot-config-syntax" }
                total += 1
                #expect(refused.status != 0, "\(release) accepts a \(otherVersion) configuration")
                #expect(!findings.isEmpty, "\(release): no syntax finding for a \(otherVersion) configuration")
                // 2.4: "Error in configuration file F line N: The first setting must be dovecot_config_version";
                // 2.3: "... line N: Unknown setting: dovecot_config_version". Our finding names the same place.
                let place = findings.first.map { "\($0.file ?? "") line \($0.line ?? 0):" } ?? "(none)"
                #expect(refused.stderr.contains(place), "\(refused.stderr) vs \(place)")
                if refused.status != 0 && refused.stderr.contains(place) { agreed += 1 }
            }
        }
        print("doveconf \(release.version): \(agreed) of \(total) agree (\(release); seed \(Self.seed))")
    }
}
