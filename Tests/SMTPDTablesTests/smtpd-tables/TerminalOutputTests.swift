import Foundation
import Testing

/// Control characters from tables (Output.swift, TerminalEscape): escaped when standard output is a
/// terminal, unchanged through a pipe.
@Suite("smtpd-tables: control characters on a terminal")
struct TerminalOutputTests {
    let tool = TestSupport.product("smtpd-tables")

    /// ESC sequences (colour, window title), BEL, DEL and a UTF-8 C1 CSI (U+009B).
    static let hostile: [UInt8] = Array("red".utf8) + [0x1B] + Array("[31mX".utf8) + [0x07, 0x7F, 0xC2, 0x9B]
        + Array("Y\u{e9}".utf8)
    static let escaped = "red\\x1b[31mX\\x07\\x7f\\xc2\\x9bY\u{e9}"

    static func withFixture(_ body: (_ table: String, _ config: String) throws -> Void) throws {
        try TestSupport.withTemporaryDirectory { dir in
            let table = try TestSupport.write(bytes: Array("k ".utf8) + hostile + [0x0A], to: "t", in: dir)
            // An alias to a filter whose command carries the sequence: resolve prints the command.
            try TestSupport.write(bytes: Array("team: |/bin/echo ".utf8) + hostile + [0x0A], to: "aliases", in: dir)
            let config = try TestSupport.write("table aliases file:\(dir)/aliases\naction \"l\" mbox alias <aliases>\n"
                                               + "match for local action \"l\"\n", to: "smtpd.conf", in: dir)
            try body(table, config)
        }
    }

    static func commands(_ table: String, _ config: String) -> [[String]] {
        [["query", table, "k"], ["query", table, "k", "other"], ["dump", table],
         ["resolve", "-f", config, "--hostname", "example.org", "team"]]
    }

    @Test("on a terminal: no raw control byte reaches it, each is shown as \\xHH", .enabled(if: PseudoTerminal.available))
    func terminal() throws {
        try Self.withFixture { table, config in
            for command in Self.commands(table, config) {
                let r = try PseudoTerminal.run([tool] + command)
                #expect(r.status == 0, "\(command)")
                #expect(r.terminalText.contains(Self.escaped), "\(command): \(r.terminalText)")
                // The terminal's own CR LF aside, nothing below 0x20 but tab, and no DEL, no C1.
                let controls = r.terminal.filter { ($0 < 0x20 && ![0x09, 0x0A, 0x0D].contains($0)) || $0 == 0x7F }
                #expect(controls.isEmpty, "\(command): \(controls)")
                #expect(!r.terminal.starts(with: [0xC2, 0x9B]) && !String(decoding: r.terminal, as: UTF8.self).unicodeScalars.contains("\u{9B}"))
            }
        }
    }

    @Test("through a pipe: the bytes go out unchanged")
    func pipe() throws {
        try Self.withFixture { table, config in
            for command in Self.commands(table, config) {
                let r = try TestSupport.run(tool, command)
                #expect(r.status == 0, "\(command)")
                let out = Array(r.stdoutBytes)
                #expect(out.indices.contains { out[$0...].starts(with: Self.hostile) }, "\(command)")
                #expect(!r.stdout.contains("\\x1b"))
            }
            let query = try TestSupport.run(tool, ["query", table, "k"])
            #expect(Array(query.stdoutBytes) == Self.hostile + [0x0A])
            let labelled = try TestSupport.run(tool, ["query", table, "k", "other"])
            #expect(Array(labelled.stdoutBytes) == Array("k\t".utf8) + Self.hostile + [0x0A])
        }
    }

    @Test("resolve --json escapes DEL and C1 itself (valid JSON, safe anywhere)")
    func json() throws {
        try Self.withFixture { _, config in
            let r = try TestSupport.run(tool, ["resolve", "--json", "-f", config, "--hostname", "example.org", "team"])
            #expect(r.status == 0)
            #expect(r.stdout.contains("red\\u001b[31mX\\u0007\\u007f\\u009bY"))
            #expect(try JSONSerialization.jsonObject(with: r.stdoutBytes) is [Any])
        }
    }
}
