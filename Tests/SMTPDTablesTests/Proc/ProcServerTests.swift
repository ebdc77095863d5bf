import Foundation
import Testing
@_spi(Reference) import SMTPDTables

/// A synchronous client of a proc: backend process, as smtpd is: one request written, its reply read.
final class ProcClient {
    let process = Process()
    private let toChild = Pipe()
    private let fromChild = Pipe()
    var replies: FileHandle { fromChild.fileHandleForReading }
    private let errors = Pipe()
    private var buffer: [UInt8] = []
    private(set) var registered: [String] = []

    /// Starts `executable` with `arguments` (argv[0] given apart, as smtpd gives the table's name) and does
    /// the handshake of smtpd `version`.
    init(_ executable: String, _ arguments: [String], version: String = "7.6.0-portable",
         tableName: String = "t") throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardInput = toChild
        process.standardOutput = fromChild
        process.standardError = errors
        try TestSupport.spawn(process)
        try send("config|smtpd-version|\(version)\nconfig|protocol|0.1\nconfig|tablename|\(tableName)\nconfig|ready\n")
        while let line = readLine(), line != "register|ready" { registered.append(line) }
    }

    func send(_ text: String) throws { try send(bytes: Array(text.utf8)) }
    func send(bytes: [UInt8]) throws { try toChild.fileHandleForWriting.write(contentsOf: Data(bytes)) }

    /// One line of the reply (without LF), nil at end of output or after 10 s without one.
    func readLine() -> String? {
        let fd = fromChild.fileHandleForReading.fileDescriptor
        while true {
            if let lf = buffer.firstIndex(of: 0x0A) {
                defer { buffer.removeFirst(lf + 1) }
                return String(decoding: buffer[..<lf], as: UTF8.self)
            }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 10_000) == 1 else { return nil }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { return nil }
            buffer += chunk[0..<n]
        }
    }

    /// Whether a reply is waiting (for requests that must get none).
    func hasReply(within milliseconds: Int32) -> Bool {
        if buffer.contains(0x0A) { return true }
        var p = pollfd(fd: fromChild.fileHandleForReading.fileDescriptor, events: Int16(POLLIN), revents: 0)
        return poll(&p, 1, milliseconds) == 1
    }

    private var counter: UInt32 = 0x1000
    /// A fresh 8-hex-digit ID, as smtpd makes them.
    func nextID() -> String {
        counter &+= 0x9E3779B1
        let hex = String(counter, radix: 16)
        return String(repeating: "0", count: 8 - hex.count) + hex
    }

    /// Sends one request and returns its reply after checking the frame smtpd requires.
    func request(_ operation: String, _ service: String? = nil, key: [UInt8]? = nil) throws -> String {
        let id = nextID()
        var line = Array("table|0.1|1764700000.000001|t|\(operation)|".utf8)
        if let service { line += Array("\(service)|\(id)".utf8) } else { line += Array(id.utf8) }
        if let key { line += [UInt8(ascii: "|")] + key }
        try send(bytes: line + [0x0A])
        let reply = try #require(readLine(), "no reply to \(operation)")
        let prefix = "\(operation)-result|\(id)|"
        #expect(reply.hasPrefix(prefix), "reply \(reply) does not echo \(id)")
        #expect(!reply.contains("\r"))
        let answer = String(reply.dropFirst(prefix.count))
        #expect(answer == "not-found" || answer == "ok" || answer == "found" || answer.hasPrefix("found|")
                && answer.count > 6 || answer == "error" || answer.hasPrefix("error|"), "malformed reply \(reply)")
        return answer
    }

    func request(_ operation: String, _ service: String, _ key: String) throws -> String {
        try request(operation, service, key: Array(key.utf8))
    }

    /// Closes smtpd's end and waits for the exit status.
    func finish() -> Int32 {
        try? toChild.fileHandleForWriting.close()
        process.waitUntilExit()
        return process.terminationStatus
    }

    var stderrText: String { String(decoding: errors.fileHandleForReading.availableData, as: UTF8.self) }
}

@Suite("proc: backend over pipes")
struct ProcServerTests {
    let serve = TestSupport.product("smtpd-tables")

    @Test("registers every service but auth; a passwd table registers credentials and userinfo")
    func registration() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let file = try TestSupport.write("example.org\n", to: "domains", in: dir)
            let c = try ProcClient(serve, ["serve", file])
            #expect(c.registered == TableService.allCases.map { "register|\($0.rawValue)" })
            #expect(c.finish() == 0)
            let pw = try TestSupport.write("u:x\n", to: "passwd", in: dir)
            let p = try ProcClient(TestSupport.product("table-passwd"), [pw])
            #expect(p.registered == ["register|credentials", "register|userinfo"])
            #expect(p.finish() == 0)
        }
    }

    /// Generated domain patterns and queries: every check answer equals smtpd's walk over the same file.
    @Test("check domain and mailaddr answer as smtpd's walk over the file")
    func generatedChecks() throws {
        var rng = SystemRandomNumberGenerator()
        let labels = ["a", "b", "mx", "example", "org", "net", "x-y"]
        func host() -> String { (0..<Int.random(in: 1...3, using: &rng)).map { _ in labels.randomElement(using: &rng)! }.joined(separator: ".") }
        let patterns = (0..<60).map { i in i % 3 == 0 ? "*." + host() : host() }
        let users = (0..<40).map { i in i % 4 == 0 ? "@" + host() : "u\(i % 7)@" + host() }
        try TestSupport.withTemporaryDirectory { dir in
            let domains = try TestSupport.write(patterns.joined(separator: "\n") + "\n", to: "domains", in: dir)
            let vusers = try TestSupport.write(users.joined(separator: "\n") + "\n", to: "users", in: dir)
            let reference = try Table(path: domains, backend: .file, options: TableOptions(version: try SMTPDVersion("7.6")))
            let refUsers = try Table(path: vusers, backend: .file, options: TableOptions(version: try SMTPDVersion("7.6")))
            let d = try ProcClient(serve, ["serve", domains])
            let u = try ProcClient(serve, ["serve", vusers])
            var found = 0
            for _ in 0..<300 {
                let q = Bool.random(using: &rng) ? host() : labels.randomElement(using: &rng)! + "." + host()
                let expected = try reference.lookupByScan(bytes: Array(q.utf8), service: .domain) != nil
                #expect(try d.request("check", "domain", q) == (expected ? "found" : "not-found"), "\(q)")
                let a = "u\(Int.random(in: 0..<7, using: &rng))+tag@" + host()
                let expectedUser = try refUsers.lookupByScan(bytes: Array(a.utf8), service: .mailaddr) != nil
                #expect(try u.request("check", "mailaddr", a) == (expectedUser ? "found" : "not-found"), "\(a)")
                if expected { found += 1 }
            }
            #expect(found > 0)
            #expect(d.finish() == 0 && u.finish() == 0)
        }
    }

    @Test("lookup returns the value as written, fetch the keys in turn, alias values byte for byte")
    func lookupAndFetch() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let file = try TestSupport.write("root: alice, |/bin/true\nbob  bob@example.org\n", to: "aliases", in: dir)
            let c = try ProcClient(serve, ["serve", "file:" + file])
            #expect(try c.request("lookup", "alias", "root") == "found|alice, |/bin/true")
            #expect(try c.request("lookup", "alias", "bob") == "found|bob@example.org")
            #expect(try c.request("lookup", "alias", "carol") == "not-found")
            #expect(try c.request("fetch", "source") == "found|bob")
            #expect(try c.request("fetch", "source") == "found|root")
            #expect(try c.request("fetch", "source") == "found|bob")
            #expect(c.finish() == 0)
        }
    }

    @Test("bad requests get an error or nothing, never a malformed line; the next request is answered")
    func errors() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let file = try TestSupport.write("user@example.org\n", to: "users", in: dir)
            let c = try ProcClient(serve, ["serve", file])
            #expect(try c.request("check", "nosuchservice", "x").hasPrefix("error"))
            #expect(try c.request("check", "auth", "user:Secret").hasPrefix("error"))
            #expect(try c.request("check", "mailaddr", key: [UInt8](repeating: 0x61, count: 1024)).hasPrefix("error"))
            #expect(try c.request("check", "mailaddr", key: [UInt8](repeating: 0x61, count: 1023)) == "not-found")
            #expect(try c.request("check", "mailaddr", "user@example.org\r") == "not-found")
            // A key holding LF arrives as two lines in one write: one reply, for the whole key.
            #expect(try c.request("check", "mailaddr", "user@example.org\nuser@example.org") == "not-found")
            #expect(!c.hasReply(within: 200))
            // No ID to echo: no reply at all (smtpd would take it for the answer to its next request).
            try c.send("garbage\n")
            try c.send(bytes: Array("table|0.1|1|t|frobnicate|x|00000001|k\n".utf8))
            #expect(!c.hasReply(within: 200))
            #expect(try c.request("check", "mailaddr", "user@example.org") == "found")
            #expect(c.finish() == 0)
            #expect(c.stderrText.contains("malformed request"))
        }
    }

    @Test("update reloads, keeps the old entries when the new file fails, and a vanished table keeps answering")
    func updates() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let file = try TestSupport.write("old.example\n", to: "domains", in: dir)
            let c = try ProcClient(serve, ["serve", file])
            #expect(try c.request("check", "domain", "old.example") == "found")
            _ = try TestSupport.write("new.example\n", to: "domains", in: dir)
            #expect(try c.request("update") == "ok")
            #expect(try c.request("check", "domain", "new.example") == "found")
            #expect(try c.request("check", "domain", "old.example") == "not-found")
            _ = try TestSupport.write("a b\nlist-entry\n", to: "domains", in: dir)   // mixed: does not load
            #expect(try c.request("update").hasPrefix("error|"))
            #expect(try c.request("check", "domain", "new.example") == "found")
            try FileManager.default.removeItem(atPath: file)
            #expect(try c.request("check", "domain", "new.example") == "found")
            #expect(try c.request("update").hasPrefix("error|"))
            #expect(try c.request("check", "domain", "new.example") == "found")
            #expect(c.finish() == 0)
        }
    }

    @Test("a table that cannot be opened answers error until an update loads it")
    func missingAtStart() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let c = try ProcClient(serve, ["serve", dir + "/later"])
            #expect(try c.request("check", "domain", "x.example").hasPrefix("error|table not loaded"))
            _ = try TestSupport.write("x.example\n", to: "later", in: dir)
            #expect(try c.request("update") == "ok")
            #expect(try c.request("check", "domain", "x.example") == "found")
            #expect(c.finish() == 0)
        }
    }

    @Test("passwd: credentials and userinfo as table-passwd answers them, names folded like file: keys")
    func passwd() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let file = try TestSupport.write(
                "Frank@Example.org:$2b$08$abc:1000:1001:Frank:/home/frank:/bin/sh:userdb_quota=1G\nbare:pw # note\n",
                to: "passwd", in: dir)
            let c = try ProcClient(TestSupport.product("table-passwd"), [file])
            #expect(try c.request("lookup", "credentials", "frank@example.org") == "found|frank@example.org:$2b$08$abc")
            #expect(try c.request("lookup", "userinfo", "frank@example.org") == "found|1000:1001:/home/frank")
            #expect(try c.request("lookup", "credentials", "bare") == "found|bare:pw ")
            #expect(try c.request("lookup", "userinfo", "bare").hasPrefix("error|"))
            #expect(try c.request("check", "domain", "bare").hasPrefix("error|"))
            #expect(try c.request("lookup", "credentials", "nobody") == "not-found")
            #expect(c.finish() == 0)
        }
    }

    @Test("a closed reply pipe ends the backend with status 1, not a signal")
    func closedPipe() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let file = try TestSupport.write("example.org\n", to: "domains", in: dir)
            let c = try ProcClient(serve, ["serve", file])
            try c.closeReplies()
            try c.send("table|0.1|1|t|check|domain|00000001|example.org\n")
            #expect(c.finish() == 1)
            #expect(c.process.terminationReason == .exit)
        }
    }

    @Test("end of input during the handshake is a clean exit with a message")
    func brokenHandshake() throws {
        let p = try TestSupport.run(serve, ["serve", "/nonexistent"], stdin: Data("config|smtpd-version|7.6.0\n".utf8))
        #expect(p.status == 1)
        #expect(p.stdout.isEmpty)
        #expect(p.stderr.contains("handshake"))
    }
}

extension ProcClient {
    /// Closes the read end of the backend's standard output, so its next write fails.
    func closeReplies() throws { try replies.close() }
}

@Suite("idx: and passwd: tables in the tools")
struct ServedTableToolTests {
    let tool = TestSupport.product("smtpd-tables")

    @Test("query reads passwd: and idx: tables as the helpers serve them")
    func query() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let pw = try TestSupport.write("Ann:$2b$08$xyz:10:20::/home/ann:\n", to: "passwd", in: dir)
            let cred = try TestSupport.run(tool, ["query", "-s", "userinfo", "passwd:" + pw, "ann"])
            #expect(cred.status == 0, "\(cred.stderr)")
            #expect(cred.stdout.contains("10:20:/home/ann"), "\(cred.stdout)")
            let d = try TestSupport.write("*.example.org\n", to: "domains", in: dir)
            let hit = try TestSupport.run(tool, ["query", "-s", "domain", "idx:" + d, "mx.example.org"])
            #expect(hit.status == 0, "\(hit.stdout)\(hit.stderr)")
        }
    }

    @Test("check reads idx: and passwd: tables of a config; other backends are named in the message")
    func check() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let d = try TestSupport.write("example.org\n", to: "domains", in: dir)
            let u = try TestSupport.write("a@example.org a\n", to: "users", in: dir)
            let good = try TestSupport.write("""
                table domains idx:\(d)
                table users idx:\(u)
                action "local" mbox virtual <users>
                match from any for domain <domains> action "local"
                """, to: "good.conf", in: dir)
            // The virtual user `a` is no user of this host: rejected, but after both tables were read.
            let r = try TestSupport.run(tool, ["resolve", "--smtpd-version", "7.6", "-f", good, "a@example.org"])
            #expect(r.status != 2, "\(r.stdout)\(r.stderr)")
            #expect(r.stdout.contains("(users:a@example.org)"), "\(r.stdout)")
            #expect(!r.stderr.contains("not read by this library"))
            let other = try TestSupport.write("""
                table domains ldap:/etc/mail/ldap.conf
                action "local" mbox
                match from any for domain <domains> action "local"
                """, to: "other.conf", in: dir)
            let o = try TestSupport.run(tool, ["resolve", "-f", other, "a@example.org"])
            #expect(o.status == 2)
            #expect(o.stderr.contains("backend ldap is not read by this library"), "\(o.stderr)")
        }
    }
}
