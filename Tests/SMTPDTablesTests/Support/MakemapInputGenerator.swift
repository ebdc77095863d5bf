/// makemap sources over the grammar's edges, for the differential tests against Debian's makemaps: comments
/// (first, inside a line, escaped `\#`), `\` continuation, colon runs (`a : b`, `a:: b`), CRLF, trailing blanks,
/// `[` keys, `#` in keys, include-like values, tabs, empty values, duplicate keys (in other case), long keys.
/// Keys stay within smtpd's 1023-byte limit, whole lines too (`-t set` keys are whole lines): ours refuses
/// longer keys on purpose, where Debian's makemaps store keys smtpd can never look up. No line holds a NUL byte.
struct MakemapInputGenerator {
    /// A named source.
    struct Input: Sendable, CustomStringConvertible {
        var name: String
        var bytes: [UInt8]
        /// The source with its control characters spelt out, for failure messages.
        var description: String {
            var s = "\(name): \""
            for b in bytes {
                switch b {
                case 0x0A: s += "\\n"
                case 0x0D: s += "\\r"
                case 0x09: s += "\\t"
                case 0x5C: s += "\\\\"
                case 0x20..<0x7F: s.unicodeScalars.append(Unicode.Scalar(b))
                default: s += "\\x" + String(b, radix: 16)
                }
            }
            return s + "\""
        }
    }

    /// Written by hand: one edge at a time, the cases users meet first.
    static let fixed: [Input] = [
        ("trailing comment", "f: g # note\nh: i\n"),
        ("escaped hash", "f: a\\#b\nk\\#x: v\n"),
        ("hash in key", "a#b c\nd e\n"),
        ("continuation", "a: b, \\\n  c\nd: e\n"),
        ("continuation at the end", "a: b \\\n"),
        ("continuation then comment", "a: b \\\n# c\nd: e\n"),
        ("continuation then blank", "a: b \\\n\nd: e\n"),
        ("space colon space", "a : b\n"),
        ("double colon space", "a:: b\n"),
        ("double colon", "a::b\n"),
        ("colon run", "a :: : b\n"),
        ("CRLF", "a: b\r\nc d\r\n"),
        ("trailing blanks", "a: b  \nc\td\t\n"),
        ("bracket key", "[::1] localhost\n[10.0.0.1]:mx\n"),
        ("unclosed bracket", "[::1 localhost\n"),
        ("include values", "list: :include:/etc/mail/list\nother include:/etc/mail/other\n"),
        ("empty value", "a:\nb c\n"),
        ("key only", "alone\n"),
        ("duplicate", "Root: a\nROOT: b\n"),
        ("comment lines", "# head\n  # indented\n#\n# @list\na b\n"),
        ("no final newline", "a b\nc d"),
        ("leading colon", ":x y\n"),
        ("tabs", "a\t\tb\tc\n\tindented\tvalue\n"),
        ("backslash pairs", "a: b\\\\c\nd: e\\\\\n"),
        ("long key", String(repeating: "k", count: 1019) + " v\n" + String(repeating: "L", count: 700) + ": w\n"),
        ("longest key alone", String(repeating: "K", count: 1023) + "\n"),
        ("empty file", ""),
        ("only comments", "# one\n# two\n"),
    ].map { Input(name: $0.0, bytes: Array($0.1.utf8)) }

    static let keys = ["alice", "Bob", "root", "MAILER-DAEMON", "[::1]", "[10.0.0.1]", "[::1]:x", "[open", "a#b",
                       "a\\#b", "k\\", "@example.org", "Carol@Example.ORG", "x.example.com", "*.example.net",
                       "10.0.0.0/8", "user+tag", ":lead", "u_1.x-y", "ÉTÉ"]
    static let separators = [" ", "\t", ":", ": ", " : ", ":: ", "::", "\t:\t", ":\t", ": :", "  ", " :: ", ":  "]
    static let values = ["bob", "bob, carol", "bob,carol@example.org", "/var/mail/bob", "|/usr/bin/vacation bob",
                         "\"|/usr/bin/x, y\"", ":include:/etc/mail/list", "include:/etc/mail/list",
                         "error:550 no such user", ":error:450 later", "b@[127.0.0.1]", "a#b", "x # note",
                         "x \\# y", "x\\#y", "tab\tsep", "a, , b", "a,", "user@bad_domain",
                         "$2b$10$abcdefghijklmnopqrstuv", "smtp+tls://relay.example.org:587", "", ":", "::x",
                         "localhost", "| cmd", "Alice, alice"]
    static let trails = ["", "", "", "", " ", "\t", "\r", "  \r", " \\", "\\", " # c", "#c", "\\\\", " \\#", "\t# note"]
    static let comments = ["# comment", "#", "  # indented", "# @list", "#@list", "\t#x \\", "# end \\"]
    static let blanks = ["", " ", "\t", "  \t"]
    static let continued = ["  more", "more, dave", "", "# c", "x: y", "\\", "\tend"]
    static let leads = ["", "", "", " ", "\t", "  "]

    var random: SplitMix64

    init(seed: UInt64) { random = SplitMix64(seed: seed) }

    mutating func pick<T>(_ options: [T]) -> T { options[Int(random.next() % UInt64(options.count))] }
    mutating func chance(_ percent: UInt64) -> Bool { random.next() % 100 < percent }

    /// `count` generated sources of 1 to 8 lines.
    mutating func generate(count: Int) -> [Input] {
        (0..<count).map { i in Input(name: "generated \(i)", bytes: Array(source().utf8)) }
    }

    mutating func key() -> String {
        if chance(4) {
            let letters = Array("abcdefghijklmnopqrstuvwxyzABC")
            return String((0..<pick([200, 900])).map { _ in pick(letters) })
        }
        return pick(Self.keys)
    }

    mutating func source() -> String {
        var lines: [String] = []
        var usedKeys: [String] = []
        for _ in 0..<(1 + Int(random.next() % 8)) {
            switch random.next() % 20 {
            case 0, 1: lines.append(pick(Self.comments))
            case 2: lines.append(pick(Self.blanks))
            case 3: lines.append(pick(Self.leads) + key() + pick(Self.trails))  // a key alone
            case 4 where !usedKeys.isEmpty:  // the same key again, in another case
                let k = pick(usedKeys)
                lines.append((chance(50) ? k.uppercased() : k) + pick(Self.separators) + pick(Self.values))
            case 5, 6:  // continued onto the next line
                let k = key()
                usedKeys.append(k)
                lines.append(pick(Self.leads) + k + pick(Self.separators) + pick(Self.values) + pick([" \\", "\\", ",\\"]))
                lines.append(pick(Self.continued))
            default:
                let k = key()
                usedKeys.append(k)
                lines.append(pick(Self.leads) + k + pick(Self.separators) + pick(Self.values) + pick(Self.trails))
            }
        }
        let crlf = chance(15)
        var text = lines.joined(separator: crlf ? "\r\n" : "\n")
        if !chance(15) { text += crlf ? "\r\n" : "\n" }
        return text
    }
}
