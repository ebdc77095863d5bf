import Foundation
import Testing

/// Shared by the install tests: where the package is, and the tools they drive (mandoc, make, bash).
enum InstallSupport {
    /// The package's top folder (Tests/SMTPDTablesTests/Install/ is three levels below it).
    static let packageRoot: String = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    static func file(_ relative: String) -> String { packageRoot + "/" + relative }

    static func read(_ relative: String) throws -> String {
        try String(contentsOfFile: file(relative), encoding: .utf8)
    }

    static let mandoc = TestSupport.system("mandoc")
    static let make = TestSupport.system("make")
    static let bash = TestSupport.system("bash")
    static let isRoot = getuid() == 0

    /// The man pages under man/, as (relative path, program or topic).
    static let manPages = ["man/makemap.8", "man/newaliases.8", "man/smtpd-tables.8", "man/smtpd-tables.5"]

    /// A page rendered as plain text (mandoc -Tascii, overstrike removed), for searching what a reader sees.
    static func rendered(_ page: String) throws -> String {
        let result = try TestSupport.run(mandoc!, ["-Tascii", "-Owidth=200", file(page)])
        #expect(result.status == 0, "mandoc -Tascii \(page): \(result.stderr)")
        var out = ""
        for c in result.stdout {
            // Bold is "X\bX", underline "_\bX": drop the character before each backspace.
            if c == "\u{8}" { if !out.isEmpty { out.removeLast() } } else { out.append(c) }
        }
        return out
    }

    /// True when `token` (an option such as `-s` or `--service`) occurs in `text` as a word of its own.
    static func mentions(_ text: String, _ token: String) -> Bool {
        var search = text[...]
        while let range = search.range(of: token) {
            let before = range.lowerBound == text.startIndex ? " " : text[text.index(before: range.lowerBound)]
            let after = range.upperBound == text.endIndex ? " " : text[range.upperBound]
            let startsWord = !(before.isLetter || before.isNumber || before == "-")
            let endsWord = !(after.isLetter || after.isNumber || after == "-")
            if startsWord && endsWord { return true }
            search = text[range.upperBound...]
        }
        return false
    }

    /// The option names in an OPTIONS section of swift-argument-parser's --help (`-s`, `--service`, ...).
    static func helpOptions(_ help: String) -> [String] {
        var options: [String] = []
        var inOptions = false
        for line in help.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasSuffix(":") && !line.hasPrefix(" ") { inOptions = line == "OPTIONS:"; continue }
            guard inOptions, line.hasPrefix("  -") else { continue }
            for word in line.dropFirst(2).split(separator: " ", omittingEmptySubsequences: false) {
                if word.hasPrefix("-") {
                    options.append(String(word.hasSuffix(",") ? word.dropLast() : word))
                } else if !word.hasPrefix("<") {
                    break
                }
            }
        }
        return options
    }

    /// The option letters of a getopt string in a front end's source (`spec: "b:C:d:ho:O:t:UV"`).
    static func getoptLetters(source relative: String) throws -> [Character] {
        let text = try read(relative)
        guard let start = text.range(of: "spec: \"") else { return [] }
        let spec = text[start.upperBound...].prefix { $0 != "\"" }
        return spec.filter { $0 != ":" && $0 != "+" }
    }
}
