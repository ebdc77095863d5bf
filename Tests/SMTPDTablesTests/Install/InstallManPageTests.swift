import Foundation
import Testing

/// The man pages: mandoc -Tlint clean, and every option each program offers documented in its page (read from
/// the programs' own --help and usage, and from the front ends' getopt strings, so the pages cannot drift).
@Suite("Install: man pages", .enabled(if: InstallSupport.mandoc != nil, "mandoc is not installed"))
struct InstallManPageTests {
    @Test("mandoc -Tlint reports nothing (but links to our own, not yet installed, pages)")
    func lint() throws {
        let result = try TestSupport.run(InstallSupport.mandoc!, ["-Tlint"] + InstallSupport.manPages.map(InstallSupport.file))
        let ours = ["smtpd-tables 5", "smtpd-tables 8", "makemap 8", "newaliases 8"]
        let complaints = (result.stdout + result.stderr).split(separator: "\n").filter { line in
            // mandoc looks cross-references up in the installed manuals: ours are not installed during the tests.
            if line.contains("referenced manual not found"), ours.contains(where: { line.contains("Xr \($0)") }) {
                return false
            }
            // A stale mandoc.db on the machine is not a problem of the pages.
            return !line.hasPrefix("mandoc: outdated mandoc.db")
        }
        #expect(complaints.isEmpty, "\(complaints.joined(separator: "\n"))")
    }

    static let subcommands = ["query", "resolve", "check", "dump", "convert", "encrypt", "verify", "migrate-config", "serve"]

    @Test("every option of smtpd-tables' --help is in smtpd-tables(8)", arguments: [""] + subcommands)
    func multiToolOptions(_ subcommand: String) throws {
        let help = try TestSupport.run(TestSupport.product("smtpd-tables"),
                                       (subcommand.isEmpty ? [] : [subcommand]) + ["--help"])
        #expect(help.status == 0)
        let options = InstallSupport.helpOptions(help.stdout)
        #expect(options.contains("--help") && options.contains("--version"), "\(help.stdout)")
        let page = try InstallSupport.rendered("man/smtpd-tables.8")
        // Each subcommand has its own section, so its options are looked for there.
        var text = page[...]
        if !subcommand.isEmpty {
            let heading = "\n   \(subcommand)\n"
            let start = try #require(page.range(of: heading), "no section for \(subcommand)")
            text = page[start.upperBound...]
            if let end = text.range(of: "\n   ") { text = text[..<end.lowerBound] }
            // --help and --version are documented once for every subcommand, in the DESCRIPTION.
            text += page
        }
        for option in options {
            let found = InstallSupport.mentions(String(text), option)
            #expect(found, "\(option) of '\(subcommand)' is not in smtpd-tables(8)")
        }
    }

    @Test("every subcommand of smtpd-tables has a section in smtpd-tables(8)")
    func multiToolSubcommands() throws {
        let help = try TestSupport.run(TestSupport.product("smtpd-tables"), ["--help"])
        let listed = help.stdout.components(separatedBy: "SUBCOMMANDS:").last?.split(separator: "\n")
            .filter { $0.hasPrefix("  ") && !$0.hasPrefix("   ") }
            .compactMap { $0.split(separator: " ").first.map(String.init) } ?? []
        #expect(Set(listed).subtracting(["help", "See"]) == Set(Self.subcommands), "\(listed)")
        let source = try InstallSupport.read("man/smtpd-tables.8")
        for name in Self.subcommands {
            #expect(source.contains("\n.Ss \(name)\n"), "no .Ss \(name)")
        }
    }

    @Test("every getopt letter and usage option of makemap and newaliases is in its page",
          arguments: ["makemap", "newaliases"])
    func dropInOptions(_ program: String) throws {
        let page = try InstallSupport.rendered("man/\(program).8")
        // The usage message (what upstream prints for -h and for mistakes).
        let usage = try TestSupport.run(TestSupport.product(program), ["-h"])
        #expect(usage.status == 1 && usage.stderr.hasPrefix("usage: \(program) "), "\(usage.stderr)")
        var options = usage.stderr.split(whereSeparator: { " []\n".contains($0) }).filter { $0.hasPrefix("-") }
            .map(String.init)
        // Every letter the parser accepts; -h only prints the usage, as upstream's.
        let letters = try InstallSupport.getoptLetters(source: "Sources/\(program)/main.swift")
        #expect(letters.contains("V"))
        options += letters.filter { $0 != "h" }.map { "-\($0)" } + ["--version"]
        for option in Set(options) {
            let found = InstallSupport.mentions(page, option)
            #expect(found, "\(option) is not in \(program)(8)")
        }
    }

    @Test("each page says which OpenSMTPD versions it follows and what 6.8 does differently",
          arguments: InstallSupport.manPages)
    func versions(_ page: String) throws {
        let text = try InstallSupport.rendered(page)
        #expect(text.contains("STANDARDS"))
        #expect(text.contains("OpenSMTPD 7.6"), "\(page) does not name 7.6")
        #expect(text.contains("6.8"), "\(page) does not say what 6.8 does")
        if page.hasSuffix(".8") && !page.contains("smtpd-tables") {
            #expect(text.contains("differs from upstream"), "\(page) does not say how it differs from upstream")
        }
    }
}
