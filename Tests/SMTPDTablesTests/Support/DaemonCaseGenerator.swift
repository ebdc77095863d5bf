import Foundation

/// A mail setup generated over the table grammar, for the differential tests against the real daemons: an
/// aliases table, a virtual-users table with catch-alls, a domains table, a userbase with `.forward` homes and
/// `:include:` files, and the recipients to send. Lines vary over what releases read differently or what is
/// easy to get wrong: separators (`a b`, `a:b`, `a : b`, `a:: b`, tabs), blank and comment lines, trailing
/// blanks and CRs, key and value case, `+tag` keys and recipients, lists, `error:` values, includes, filters
/// written `|cmd` and `| cmd`, chains, loops, unknown users.
struct DaemonCaseGenerator {
    /// One generated setup, its files relative to the scratch folder (`@S@` stands for its path).
    struct Setup {
        var files: [String: String] = [:]
        /// `.forward` files: home folder name -> content.
        var forwards: [String: String] = [:]
        var recipients: [String] = []
        /// smtpd.conf lines before the listener (`srs key ...`).
        var settings: [String] = []
        /// Options appended to the `local` action (`user nobody`).
        var localActionOptions = ""
        /// The `MAIL FROM` address of every transaction (empty for `<>`).
        var mailFrom = ""
        /// Userbase users besides `users` and `forwardUsers` (home under the scratch folder).
        var extraUsers: [String] = []
        /// A uid other than the default 1234, by user (0: root's powers).
        var uids: [String: UInt32] = [:]
    }

    /// Users of the userbase (uid 1234, home under the scratch folder). `opensmtpd` is there because alias
    /// filters run as smtpd's own user, looked up in the action's userbase.
    static let users = ["u1", "u2", "u3", "u4", "opensmtpd"]
    static let forwardUsers = ["f1", "f2", "f3"]
    static let separators = [" ", "\t", ":", ": ", " : ", ":: ", "::", "  ", " \t", ":\t", " :"]

    var rng: SplitMix64
    /// Whether tables get a key twice in other case (makemap refuses it; a file: table keeps the first).
    var duplicateKeys: Bool

    init(seed: UInt64, duplicateKeys: Bool = true) {
        rng = SplitMix64(seed: seed)
        self.duplicateKeys = duplicateKeys
    }

    mutating func pick<T>(_ xs: [T]) -> T { xs[Int(rng.next() % UInt64(xs.count))] }
    mutating func chance(_ percent: UInt64) -> Bool { rng.next() % 100 < percent }

    mutating func casing(_ s: String) -> String {
        switch rng.next() % 5 {
        case 0: return s.uppercased()
        case 1: return s.prefix(1).uppercased() + s.dropFirst()
        default: return s
        }
    }

    /// One target of an alias, virtual or forward value.
    mutating func target(aliasKeys: [String]) -> String {
        switch rng.next() % 16 {
        case 0, 1, 2: return casing(pick(Self.users.dropLast()))
        case 3: return pick(Self.users.dropLast()) + "+" + pick(["t", "box", "x-y"])
        case 4: return pick(["nosuch", "ghost"])
        case 5, 6: return pick(aliasKeys)
        case 7: return pick(["error:550 5.1.1 gone away", "error:451 4.3.0 try later", "error:552 full"])
        case 8: return ":include:@S@/inc\(rng.next() % 3)"
        case 9: return pick(Self.users.dropLast()) + "@localhost"
        case 10: return pick(["v1", "v2", "any"]) + "@example.org"
        case 11: return pick(Self.forwardUsers)
        case 12: return pick(["|@S@/deliver.sh a", "| @S@/deliver.sh b", "|\"@S@/deliver.sh\" c", "|"])
        case 13: return "x@relay.test"
        case 14: return pick(["root", "postmaster", "mailer-daemon"])
        default: return casing(pick(aliasKeys))
        }
    }

    mutating func value(aliasKeys: [String]) -> String {
        let n = 1 + Int(rng.next() % 3)
        var parts: [String] = []
        for _ in 0..<n { parts.append(target(aliasKeys: aliasKeys)) }
        // The same element twice, in other case.
        // (Not a filter: a command in other case is another command, which the log would not see fail.)
        if chance(10), let first = parts.first, !first.hasPrefix("|") { parts.append(first.uppercased()) }
        return parts.joined(separator: pick([", ", ",", " , "]))
    }

    /// A table line: key, separator, value, and sometimes trailing blanks or a trailing CR.
    mutating func line(_ key: String, _ value: String) -> String {
        var l = key + pick(Self.separators) + value
        if chance(10) { l += pick([" ", "\t", "  "]) }
        if chance(5) { l += "\r" }
        return l
    }

    /// Noise between entries: blank lines, comments, indented comments.
    mutating func noise() -> String? {
        switch rng.next() % 12 {
        case 0: return ""
        case 1: return "# a comment"
        case 2: return "   # indented comment"
        case 3: return "\t"
        default: return nil
        }
    }

    mutating func setup() -> Setup {
        var s = Setup()
        let keys = (0..<14).map { "a\($0)" } + ["root", "postmaster", "mailer-daemon", "sales", "info"]
        var aliases: [String] = []
        var written: [String] = []
        for key in keys {
            if let n = noise() { aliases.append(n) }
            var k = casing(key)
            if chance(12) { k += "+" + pick(["t", "box"]) }
            written.append(k)
            aliases.append(line(k, value(aliasKeys: keys)))
        }
        // The same key twice in other case (file: tables keep the first).
        let again = line(pick(keys).uppercased(), value(aliasKeys: keys))
        if duplicateKeys { aliases.append(again) }
        s.files["aliases"] = aliases.joined(separator: "\n") + "\n"

        var vusers: [String] = []
        let vkeys = ["v1", "v2", "v3", "sales", "Info"]
        for d in ["example.org", "example.net"] {
            for k in vkeys where chance(70) {
                if let n = noise() { vusers.append(n) }
                vusers.append(line(casing(k) + "@" + d, value(aliasKeys: keys)))
            }
        }
        if chance(80) { vusers.append(line("@example.org", pick(["u1", "u2", "v1@example.net", "a1"]))) }
        if chance(50) { vusers.append(line("@example.net", value(aliasKeys: keys))) }
        if chance(40) { vusers.append(line("v9", pick(["u3", "u4"]))) }
        s.files["vusers"] = vusers.joined(separator: "\n") + "\n"

        s.files["vdomains"] = ["example.org", pick(["example.net", "Example.NET", "example.net  "]), "# not a domain",
                               "*.wild.test"].joined(separator: "\n") + "\n"

        for i in 0..<3 {
            var inc: [String] = []
            for _ in 0..<(1 + rng.next() % 3) {
                if let n = noise() { inc.append(n) }
                inc.append(target(aliasKeys: keys).replacingOccurrences(of: ":include:", with: "x"))
            }
            s.files["inc\(i)"] = inc.joined(separator: "\n") + "\n"
        }
        for u in Self.forwardUsers {
            var fwd: [String] = []
            for _ in 0..<(1 + rng.next() % 3) {
                if let n = noise() { fwd.append(n) }
                fwd.append(chance(30) ? u : target(aliasKeys: keys))
            }
            s.forwards[u] = fwd.joined(separator: "\n") + "\n"
        }

        var rcpts: [String] = []
        for k in written + keys {
            rcpts.append(casing(k) + "@localhost")
            if chance(30) { rcpts.append(k + "+" + pick(["t", "box", ""]) + "@localhost") }
        }
        for u in Self.users.dropLast() + Self.forwardUsers + ["nosuch"] {
            rcpts.append(u + "@localhost")
            if chance(40) { rcpts.append(u + "+tag@localhost") }
        }
        for d in ["example.org", "example.net", "Example.Org", "a.wild.test"] {
            for k in vkeys + ["nobody", "v9", "u1"] { rcpts.append(casing(k) + "@" + d) }
            rcpts.append("v1+tag@" + d)
        }
        rcpts += ["x@relay.test", "x@elsewhere.test", "u1@[127.0.0.1]", "a1", "u2"]
        var seen = Set<String>()
        s.recipients = rcpts.filter { seen.insert($0.lowercased()).inserted }
        return s
    }
}
