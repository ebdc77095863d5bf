import Foundation
import Testing
@testable import SMTPDTables
#if canImport(Glibc)
import Glibc
#endif

// Swift's Glibc module hides the XSI pseudo-terminal functions (they need _XOPEN_SOURCE); declare them.
@_silgen_name("posix_openpt") private func pty_posix_openpt(_ flags: Int32) -> Int32
@_silgen_name("grantpt") private func pty_grantpt(_ fd: Int32) -> Int32
@_silgen_name("unlockpt") private func pty_unlockpt(_ fd: Int32) -> Int32
@_silgen_name("ptsname_r") private func pty_ptsname_r(_ fd: Int32, _ buf: UnsafeMutablePointer<CChar>, _ len: Int) -> Int32

@Suite("smtpd-tables encrypt")
struct EncryptCommandTests {
    let tool = TestSupport.product("smtpd-tables")

    @Test("an argument gives one bcrypt $2b$ cost-10 hash by default")
    func argument() throws {
        let r = try TestSupport.run(tool, ["encrypt", "pa:ss word"])
        #expect(r.status == 0)
        let hash = r.stdout.trimmingCharacters(in: .newlines)
        #expect(hash.hasPrefix("$2b$10$") && r.stdout.hasSuffix("\n"))
        #expect(PasswordHasher.verify("pa:ss word", against: hash))
        #expect(r.stderr.isEmpty)
        #expect(!r.stdout.contains("pa:ss"))
    }

    @Test("--scheme and --rounds", arguments: [
        (["--scheme", "sha512"], "$6$"), (["--scheme", "sha512", "--rounds", "10000"], "$6$rounds=10000$"),
        (["--scheme", "sha256"], "$5$"), (["--scheme", "yescrypt"], "$y$j9T$"), (["--rounds", "4"], "$2b$04$"),
    ])
    func schemes(options: [String], prefix: String) throws {
        let r = try TestSupport.run(tool, ["encrypt"] + options + ["x"])
        #expect(r.status == 0)
        let hash = r.stdout.trimmingCharacters(in: .newlines)
        #expect(hash.hasPrefix(prefix))
        #expect(PasswordHasher.verify("x", against: hash))
        if Doveadm.path != nil {
            #expect(try Doveadm.verifies("{CRYPT}" + hash, password: "x"))
        }
    }

    @Test("stdin: one hash per line, like smtpctl encrypt; a last line without newline counts")
    func standardInput() throws {
        let r = try TestSupport.run(tool, ["encrypt", "--rounds", "4"], stdin: Data("first\nsecond pw\nlast".utf8))
        #expect(r.status == 0)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        try #require(lines.count == 3)
        #expect(PasswordHasher.verify("first", against: lines[0]))
        #expect(PasswordHasher.verify("second pw", against: lines[1]))
        #expect(PasswordHasher.verify("last", against: lines[2]))
        #expect(r.stderr.isEmpty)   // no prompt when stdin is not a terminal
        let empty = try TestSupport.run(tool, ["encrypt"], stdin: Data())
        #expect(empty.status == 0 && empty.stdout.isEmpty)
    }

    @Test("bad options fail with exit 2 (the tool's error status) and say why, without the password")
    func badOptions() throws {
        let r = try TestSupport.run(tool, ["encrypt", "--rounds", "3", "hunter2"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("between 4 and 31"))
        #expect(!r.stderr.contains("hunter2") && r.stdout.isEmpty)
        let m = try TestSupport.run(tool, ["encrypt", "--scheme", "md5", "hunter2"])
        #expect(m.status == 2 && !m.stderr.contains("hunter2"))
    }

    @Test("on a terminal it prompts on stderr and does not echo the password")
    func terminalNoEcho() throws {
        let master = pty_posix_openpt(O_RDWR | O_NOCTTY)
        try #require(master >= 0)
        defer { close(master) }
        try #require(pty_grantpt(master) == 0 && pty_unlockpt(master) == 0)
        var name = [CChar](repeating: 0, count: 128)
        try #require(pty_ptsname_r(master, &name, name.count) == 0)
        let slavePath = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let slave = open(slavePath, O_RDWR | O_NOCTTY)
        try #require(slave >= 0)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = ["encrypt", "--rounds", "4"]
        let slaveHandle = FileHandle(fileDescriptor: slave, closeOnDealloc: false)
        let out = Pipe()
        process.standardInput = slaveHandle
        process.standardError = slaveHandle
        process.standardOutput = out
        try TestSupport.spawn(process)
        close(slave)

        func readMaster(until done: (String) -> Bool) -> String {
            var seen = [UInt8]()
            var buf = [UInt8](repeating: 0, count: 512)
            while !done(String(decoding: seen, as: UTF8.self)) {
                var pfd = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
                guard poll(&pfd, 1, 10_000) > 0 else { break }
                let n = buf.withUnsafeMutableBytes { read(master, $0.baseAddress, $0.count) }
                if n <= 0 { break }
                seen += buf[0..<n]
            }
            return String(decoding: seen, as: UTF8.self)
        }
        let prompt = readMaster { $0.contains("Password: ") }
        #expect(prompt.contains("Password: "))
        _ = "hunter2\n".withCString { write(master, $0, 8) }
        let hashData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let rest = readMaster { _ in false }   // until EIO once the child has gone
        #expect(process.terminationStatus == 0)
        #expect(!(prompt + rest).contains("hunter2"))
        let hash = String(decoding: hashData, as: UTF8.self).trimmingCharacters(in: .newlines)
        #expect(hash.hasPrefix("$2b$04$"))
        #expect(PasswordHasher.verify("hunter2", against: hash))
    }
}

@Suite("smtpd-tables encrypt: bcrypt's 72 bytes")
struct EncryptBcryptLimitTests {
    let tool = TestSupport.product("smtpd-tables")

    @Test("72 bytes are hashed; 73 are refused (exit 2, a message without the password), as argument and on stdin")
    func boundary() throws {
        let ok = String(repeating: "p", count: 71) + "1"
        let long = String(repeating: "p", count: 72) + "2"
        let r = try TestSupport.run(tool, ["encrypt", "--rounds", "4", ok])
        #expect(r.status == 0)
        #expect(PasswordHasher.verify(ok, against: r.stdout.trimmingCharacters(in: .newlines)))
        for run in [try TestSupport.run(tool, ["encrypt", "--rounds", "4", long]),
                    try TestSupport.run(tool, ["encrypt", "--rounds", "4"], stdin: Data((ok + "\n" + long + "\n").utf8))] {
            #expect(run.status == 2)
            #expect(run.stderr.contains("bcrypt uses only the first 72 bytes of a password and this one has 73"))
            #expect(!run.stderr.contains(long) && !run.stderr.contains("ppppp"))
        }
        // Other schemes take it; --help says so.
        let sha = try TestSupport.run(tool, ["encrypt", "--scheme", "sha512", long])
        #expect(sha.status == 0 && PasswordHasher.verify(long, against: sha.stdout.trimmingCharacters(in: .newlines)))
        let help = try TestSupport.run(tool, ["encrypt", "--help"])
        #expect(help.stdout.replacingOccurrences(of: "\n", with: " ").contains("only the first 72 bytes"))
    }
}
