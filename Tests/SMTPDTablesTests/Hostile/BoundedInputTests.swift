import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import SMTPDTables

/// Issue 18's defects that were about memory, hangs and secrets, each run through the real binaries under an
/// address-space limit (`prlimit --as`, 2 GiB: the defects grew to 17 GB) and a time-out.
@Suite("Hostile: bounded reads, no hang, no secret printed")
struct BoundedInputTests {
    static let limit = 2 << 30
    static let makemap = TestSupport.product("makemap")

    /// Runs a built program under the address-space limit, killed after `timeout` seconds.
    static func limited(_ program: String, _ arguments: [String], stdin: Data? = nil, timeout: Double = 30) throws -> ProcessResult {
        if !TestSupport.underSanitizer, let prlimit = TestSupport.system("prlimit") {
            return try TestSupport.run(prlimit, ["--as=\(limit)", program] + arguments, stdin: stdin, timeout: timeout)
        }
        return try TestSupport.run(program, arguments, stdin: stdin, timeout: timeout)
    }

    /// Item 1: `:include:` targets that are devices or FIFOs are refused at once by `resolve` and `check`,
    /// instead of growing without end or hanging.
    @Test(arguments: ["/dev/zero", "/dev/urandom", "fifo"])
    func includeOfADeviceOrFIFO(target: String) throws {
        try TestSupport.withTemporaryDirectory { dir in
            var path = target
            if target == "fifo" {
                path = dir + "/list"
                #expect(mkfifo(path, 0o600) == 0)
            }
            try TestSupport.write("devlist: :include:\(path)\n", to: "aliases", in: dir)
            let conf = try TestSupport.write("""
                table aliases file:\(dir)/aliases
                action "local" mbox alias <aliases>
                match for local action "local"
                """, to: "smtpd.conf", in: dir)
            for arguments in [["resolve", "-f", conf, "devlist@localhost"], ["check", "-f", conf]] {
                let r = try Self.limited(Hostile.tool, arguments, timeout: 20)
                #expect(!r.timedOut && !r.signaled, "\(arguments[0]) on :include:\(target): \(r.stderr)")
                #expect(r.status == 1, "\(arguments[0]) on :include:\(target): status \(r.status)")
            }
        }
    }

    /// Item 2: makemap on endless or huge input answers at once (Debian's makemap: `invalid entry`), within the
    /// memory limit, exit 1, and writes nothing.
    @Test func makemapOnEndlessOrHugeInput() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let sparse = dir + "/sparse"
            let fd = open(sparse, O_CREAT | O_WRONLY, 0o600)
            #expect(fd >= 0 && ftruncate(fd, off_t(3) << 30) == 0)
            close(fd)
            let cases: [(arguments: [String], stdin: Data?, message: String)] = [
                (["/dev/zero"], nil, "/dev/zero:1: invalid entry"),
                (["/dev/urandom"], nil, "invalid entry"),
                ([sparse], nil, "file too large"),
                (["-"], nil, "-:1: invalid entry"),
            ]
            for c in cases {
                let output = dir + "/out.db"
                var arguments = ["-o", output] + c.arguments
                var stdin = c.stdin
                if c.arguments == ["-"] {
                    // Standard input from /dev/zero: a shell redirection, as a user types it.
                    // Under a sanitizer, no address-space limit: its runtime reserves terabytes (see `limited`).
                    let limit = TestSupport.underSanitizer ? "" : "prlimit --as=\(Self.limit) "
                    arguments = ["-c", "exec \(limit)\(Self.makemap) -o \(output) - < /dev/zero"]
                    stdin = nil
                }
                let r = c.arguments == ["-"]
                    ? try TestSupport.run("/bin/sh", arguments, timeout: 20)
                    : try Self.limited(Self.makemap, arguments, stdin: stdin, timeout: 20)
                #expect(!r.timedOut && !r.signaled, "makemap \(c.arguments): \(r.stderr)")
                #expect(r.status == 1, "makemap \(c.arguments): status \(r.status)")
                #expect(r.stderr.contains(c.message), "makemap \(c.arguments): \(r.stderr)")
                #expect(access(output, F_OK) != 0, "makemap \(c.arguments) wrote \(output)")
            }
            // A stream is read no further than the line of its first NUL, so it is refused even where that
            // line is a comment: a map of its first lines would silently lose the rest (seen with /dev/urandom,
            // whose first NUL fell in a comment once in a while).
            let output = dir + "/out.db"
            let r = try TestSupport.run(Self.makemap, ["-o", output, "-"], stdin: Data("a b\n# x\0y\nc d\n".utf8),
                                        timeout: 20)
            #expect(r.status == 1 && r.stderr.contains("-:2: invalid entry"), "\(r.status) \(r.stderr)")
            #expect(access(output, F_OK) != 0)
        }
    }

    /// Item 9: a FIFO at a `db:` path is refused at once by query, dump, check and resolve (libdb would wait
    /// for a writer forever); a bare `.db` path that holds text is an error saying it is not a database.
    @Test func fifoOrTextAtADBPath() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let fifo = dir + "/aliases.db"
            #expect(mkfifo(fifo, 0o600) == 0)
            let conf = try TestSupport.write("""
                table aliases db:\(fifo)
                action "local" mbox alias <aliases>
                match for local action "local"
                """, to: "smtpd.conf", in: dir)
            let runs: [[String]] = [["query", "db:" + fifo, "root"], ["dump", "db:" + fifo],
                                    ["check", "-f", conf], ["resolve", "-f", conf, "root@localhost"]]
            for arguments in runs {
                let r = try Self.limited(Hostile.tool, arguments, timeout: 20)
                #expect(!r.timedOut && !r.signaled, "\(arguments[0]): \(r.stderr)")
                #expect(r.status != 0, "\(arguments[0]): status \(r.status)")
                #expect(r.stderr.contains("not a regular file") || r.stdout.contains("not a regular file"),
                        "\(arguments[0]): \(r.stderr)")
            }
            let text = try TestSupport.write("root admin\n", to: "text.db", in: dir)
            let r = try Self.limited(Hostile.tool, ["query", text, "root"], timeout: 20)
            #expect(r.status == 2 && r.stderr.contains("not a Berkeley DB file"), "\(r.stderr)")
            #expect(try Self.limited(Hostile.tool, ["query", "file:" + text, "root"]).stdout == "admin\n")
        }
    }

    /// Item 3: a passwd table also used as an alias table (and by a relay): no command prints a hash or a
    /// password it was not asked for, in text or JSON, on stdout or stderr.
    @Test func noSecretInAnyOutput() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let bcrypt = try PasswordHasher.hash(Array("Secret-One".utf8), scheme: .bcrypt, rounds: 4)
            let sha = try PasswordHasher.hash(Array("Secret-Two".utf8), scheme: .sha512, rounds: 1000)
            let secrets = [bcrypt, sha, "plaintextpw", "Secret-One", "Secret-Two"]
            let passwd = try TestSupport.write("""
                alice \(bcrypt)
                bob \(sha)
                relay relayuser:plaintextpw
                carol {PLAIN}plaintextpw
                """ + "\n", to: "passwd", in: dir)
            let conf = try TestSupport.write("""
                table passwd file:\(passwd)
                action "local" mbox alias <passwd>
                action "out" relay host smtp+tls://relay@mx.example.net auth <passwd>
                match for local action "local"
                match from local for any action "out"
                """, to: "smtpd.conf", in: dir)
            let runs: [[String]] = [
                ["check", "-f", conf], ["check", "--json", "-f", conf],
                ["resolve", "-f", conf, "alice@localhost", "bob@localhost", "relay@localhost", "carol@localhost"],
                ["resolve", "--json", "-f", conf, "alice@localhost", "relay@localhost", "carol@localhost"],
                ["query", "-s", "alias", passwd, "alice", "bob", "relay", "carol"],
                ["query", "-s", "mailaddrmap", passwd, "alice", "relay"],
                ["query", "-s", "userinfo", passwd, "bob", "carol"],
                ["query", "-s", "source", passwd, "alice"],
            ]
            for arguments in runs {
                let r = try TestSupport.run(Hostile.tool, arguments, timeout: 60)
                #expect(!r.timedOut && !r.signaled, "\(arguments): \(r.stderr)")
                // A query that finds a value prints it: that was asked for. Its errors, and everything check and
                // resolve print, must not quote one.
                let shown = arguments[0] == "query" ? r.stderr : r.stdout + r.stderr
                for secret in secrets {
                    #expect(!shown.contains(secret),
                            "\(arguments.prefix(2)) printed a secret: \(r.stdout.prefix(300)) \(r.stderr.prefix(300))")
                }
            }
            // And the check says what is wrong without the values.
            let check = try TestSupport.run(Hostile.tool, ["check", "-f", conf])
            #expect(check.stdout.contains("[credentials-as-alias]"))
            #expect(check.stdout.contains("not shown"))
            // Asked for on purpose, the value is printed (query of the credentials service, dump).
            let asked = try TestSupport.run(Hostile.tool, ["query", "-s", "credentials", passwd, "alice"])
            #expect(asked.stdout.contains(bcrypt))
        }
    }

    /// Item 4: a relay's `auth <table>` holds clear-text `label user:password`, not crypt(3) hashes: check does
    /// not tell the admin to hash it, warns when it looks hashed, and warns when a listener uses it too.
    @Test func relayCredentialsAreNotListenerCredentials() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let hash = try PasswordHasher.hash(Array("x".utf8), scheme: .bcrypt, rounds: 4)
            try TestSupport.write("mx relayuser:cleartext\nhashed relayuser:\(hash)\nnouser cleartext\n",
                                  to: "relaypw", in: dir)
            try TestSupport.write("alice \(hash)\n", to: "passwd", in: dir)
            try TestSupport.write("x", to: "cert.pem", in: dir)
            func codes(_ conf: String) throws -> [String: [String]] {
                let path = try TestSupport.write(conf, to: "smtpd.conf", in: dir)
                let findings = SetupChecker(config: try SMTPDConfig.load(path: path), resolverOptions: nil).run()
                return Dictionary(grouping: findings, by: { $0.table ?? "" }).mapValues { $0.map(\.code) }
            }
            let relayOnly = try codes("""
                table relaypw file:\(dir)/relaypw
                action "out" relay host smtp+tls://mx@mx.example.net auth <relaypw>
                match from local for any action "out"
                """)
            let relay = relayOnly["relaypw", default: []]
            #expect(!relay.contains("credentials-unusable") && !relay.contains("weak-hash"), "\(relay)")
            #expect(relay.contains("relay-credentials-hashed"), "\(relay)")
            #expect(relay.contains("relay-credentials-invalid"), "\(relay)")
            #expect(relay.filter { $0.hasPrefix("relay-credentials") }.count == 2, "\(relay)")
            let both = try codes("""
                pki localhost cert "\(dir)/cert.pem"
                pki localhost key "\(dir)/cert.pem"
                table relaypw file:\(dir)/relaypw
                listen on localhost smtps pki localhost auth <relaypw>
                action "out" relay host smtp+tls://mx@mx.example.net auth <relaypw>
                match from local for any action "out"
                """)
            #expect(both["relaypw", default: []].contains("credentials-used-both-ways"), "\(both)")
        }
    }
}
