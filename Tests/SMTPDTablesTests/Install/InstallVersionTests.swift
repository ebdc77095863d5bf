import Foundation
import Testing
@testable import SMTPDTables

/// `--version` and `-V`: one version everywhere (the library's constant, the CHANGELOG, the Makefile), and the
/// libdb line is the library actually loaded (checked against db5.3_dump -V, Debian's own tool).
@Suite("Install: --version")
struct InstallVersionTests {
    static let invocations: [(String, [String])] = [
        ("makemap", ["-V"]), ("makemap", ["--version"]), ("makemap", ["-Ut", "set", "-V"]),
        ("newaliases", ["-V"]), ("newaliases", ["--version"]),
        ("smtpd-tables", ["--version"]), ("smtpd-tables", ["query", "--version"]),
        ("smtpd-tables", ["resolve", "--version"]),
    ]

    @Test("every program prints the package version, libdb's and the smtpd semantics applied",
          arguments: 0..<invocations.count)
    func prints(_ index: Int) throws {
        let (program, arguments) = Self.invocations[index]
        let result = try TestSupport.run(TestSupport.product(program), arguments)
        #expect(result.status == 0, "\(program) \(arguments): \(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 3, "\(result.stdout)")
        let name = program == "smtpd-tables" ? "smtpd-tables" : "\(program) (smtpd-tables)"
        #expect(lines.first == "\(name) \(SMTPDTablesVersion.package)")
        #expect(lines.dropFirst().first?.hasPrefix("libdb: Berkeley DB 5.3") == true)
        #expect(lines.last == "table semantics: OpenSMTPD \(try SMTPDVersion.select()); 6.8 to 7.9 selectable")
        #expect(result.stdout == SMTPDTablesVersion.text(program: program))
    }

    @Test("the libdb line is what db5.3_dump -V reports", .enabled(if: TestSupport.system("db5.3_dump") != nil))
    func libdbMatchesDebian() throws {
        let dump = try TestSupport.run(TestSupport.system("db5.3_dump")!, ["-V"])
        #expect(dump.status == 0)
        #expect(SMTPDTablesVersion.berkeleyDB == dump.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    @Test("the version is semantic, the CHANGELOG's newest entry, and what make reads")
    func oneSource() throws {
        let version = SMTPDTablesVersion.package
        let parts = version.split(separator: ".")
        #expect(parts.count == 3 && parts.allSatisfy { Int($0) != nil }, "\(version)")
        let changelog = try InstallSupport.read("CHANGELOG.md")
        let newest = changelog.split(separator: "\n").first { $0.hasPrefix("## ") }
        #expect(newest?.dropFirst(3).split(separator: " ").first.map(String.init) == version)
        if let make = InstallSupport.make {
            let result = try TestSupport.run(make, ["-s", "-C", InstallSupport.packageRoot, "version"])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout == version + "\n")
        }
    }

    @Test("upstream's makemap has no -V: the letter is free (Debian's makemap refuses it)",
          .enabled(if: TestSupport.realMakemap != nil))
    func upstreamHasNoV() throws {
        let result = try TestSupport.run(TestSupport.realMakemap!, ["-V"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("invalid option -- 'V'"), "\(result.stderr)")
    }

    @Test("the other options still parse around -V's letter: an unknown one is still a usage error")
    func unknownStillUsage() throws {
        let result = try TestSupport.run(TestSupport.product("makemap"), ["-x"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("invalid option -- 'x'"))
        #expect(result.stdout.isEmpty)
    }
}
