import Foundation
import Testing
@testable import SMTPDTables

/// The password prompt on a real terminal (PasswordInput.swift), and reading long passwords.
@Suite("smtpd-tables: the password prompt")
struct PasswordPromptTests {
    let tool = TestSupport.product("smtpd-tables")

    static let crashText = ["Crash", "crashed", "Backtrac", "*** Signal"]

    @Test("^C and ^\\ at Password: restore echo and exit with 128 + the signal, no crash report, no hang",
          .enabled(if: PseudoTerminal.available),
          arguments: [(UInt8(0x03), SIGINT), (UInt8(0x1C), SIGQUIT)])
    func interruptAtPrompt(key: UInt8, signal: Int32) throws {
        for command in [["encrypt", "--rounds", "4"], ["verify", "/dev/null", "nobody"]] {
            // verify prompts only for a user in the table: give it one.
            try TestSupport.withTemporaryDirectory { dir in
                let table = try TestSupport.write("nobody $2b$04$abcdefghijklmnopqrstuu5fMvWKCM0/xlzvn4VUqkdmzPr4Nqxi\n",
                                                  to: "creds", in: dir)
                let arguments = command.map { $0 == "/dev/null" ? table : $0 }
                let r = try PseudoTerminal.run([tool] + arguments, waitFor: "Password:", send: [key], timeout: 20)
                #expect(r.echoAtPrompt == false, "\(command[0]): echo was on at the prompt")
                #expect(!r.hung, "\(command[0]) hung after the key")
                #expect(r.status == 128 + signal && r.signal == nil, "\(command[0]): \(String(describing: r.status)) \(String(describing: r.signal))")
                #expect(r.echoAfter, "\(command[0]): stty -a after: \(r.sttyAfter)")
                for text in Self.crashText { #expect(!r.terminalText.contains(text), "\(r.terminalText.prefix(300))") }
            }
        }
    }

    @Test("a password typed at the prompt, and ^D there, leave echo on", .enabled(if: PseudoTerminal.available))
    func normalAndEndOfInput() throws {
        let typed = try PseudoTerminal.run([tool, "encrypt", "--rounds", "4"], waitFor: "Password:",
                                           send: Array("s3cret pw\n".utf8), stdoutIsPipe: true)
        #expect(typed.status == 0 && typed.echoAfter)
        #expect(PasswordHasher.verify("s3cret pw", against: String(decoding: typed.stdout, as: UTF8.self)
            .trimmingCharacters(in: .newlines)))
        #expect(!typed.terminalText.contains("s3cret"))
        let eof = try PseudoTerminal.run([tool, "encrypt"], waitFor: "Password:", send: [0x04])
        #expect(eof.status == 2 && eof.echoAfter)
        #expect(eof.terminalText.contains("no password given"))
    }

    @Test("long lines are read whole, across read blocks; over 1 MiB is refused with the limit named")
    func longPasswords() throws {
        // 1 MiB exactly: read whole (crypt(3)'s own limit then names its length), and the next line still counts.
        let limit = 1 << 20   // PasswordInput.maximumLength (the tool's, not the library's)
        // From files, not a pipe: the tool stops reading at the first refusal, and a writer still
        // feeding a pipe would get SIGPIPE.
        func encrypt(_ input: Data) throws -> ProcessResult {
            try TestSupport.withTemporaryDirectory { dir in
                let file = try TestSupport.write(bytes: Array(input), to: "input", in: dir)
                return try TestSupport.run("/bin/sh", ["-c", "exec \"$0\" encrypt --scheme sha512 < \"$1\"", tool, file])
            }
        }
        let atLimit = try encrypt(Data(repeating: UInt8(ascii: "a"), count: limit) + Data("\nb\n".utf8))
        #expect(atLimit.status == 2)
        #expect(atLimit.stderr.contains("at most 511 bytes and this one has \(limit) (line 1)"))
        let over = try encrypt(Data(repeating: UInt8(ascii: "a"), count: 4 * limit) + Data("\n".utf8))
        #expect(over.status == 2 && over.stdout.isEmpty)
        #expect(over.stderr.contains("limited to 1048576 bytes (1 MiB) (line 1)"))

        // Lines of 500 bytes (under crypt's 511) across several 64 KiB blocks: every one hashed as written.
        let passwords = (0..<200).map { i in String(repeating: Character(UnicodeScalar(UInt8(65 + i % 26))), count: 490) + "\(1000 + i)" }
        let r = try TestSupport.run(tool, ["encrypt", "--scheme", "sha256", "--rounds", "1000"],
                                    stdin: Data((passwords.joined(separator: "\n") + "\n").utf8))
        #expect(r.status == 0, "\(r.stderr)")
        let hashes = r.stdout.split(separator: "\n").map(String.init)
        try #require(hashes.count == passwords.count)
        for (password, hash) in zip(passwords, hashes) { #expect(PasswordHasher.verify(password, against: hash)) }
    }

    @Test("verify reads only the first line of a regular file on stdin: the rest stays for the next reader")
    func verifyLeavesTheRest() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let hash = try PasswordHasher.hash("pw", rounds: 4)
            let table = try TestSupport.write("u \(hash)\n", to: "creds", in: dir)
            let input = try TestSupport.write("pw\nthe rest\n", to: "input", in: dir)
            let r = try TestSupport.run("/bin/sh", ["-c", "{ \"$0\" verify \"$1\" u; cat; } < \"$2\"", tool, table, input])
            #expect(r.stdout.contains("smtpd (auth <table>): accepted"))
            #expect(r.stdout.hasSuffix("the rest\n"), "\(r.stdout)")
        }
    }
}
