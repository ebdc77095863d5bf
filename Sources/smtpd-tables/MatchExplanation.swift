import SMTPDTables

/// `query --explain`: why a pattern entry matched the key, in words. The match itself is the library's;
/// this only describes it.
enum MatchExplanation {
    static func why(service: TableService, entry: String, key: String, delimiter: Character) -> String? {
        switch service {
        case .domain: return domain(entry, key)
        case .netaddr:
            if entry.lowercased() == key.lowercased() { return "'\(key)' equals the entry (case-insensitive)" }
            return "'\(key)' is an address inside the network '\(entry)' (same family)"
        case .mailaddr: return mailaddr(entry, key, delimiter: delimiter)
        case .regex:
            let insensitive = entry.hasPrefix("(?i)")
            return "the POSIX extended regex '\(insensitive ? String(entry.dropFirst(4)) : entry)' matches '\(key)'"
                + (insensitive ? " (case-insensitive: (?i))" : "") + "; the first entry that matches answers"
        default: return nil
        }
    }

    /// What each `*` of a domain pattern stood for: the host up to the next pattern character, no backtracking.
    static func domain(_ pattern: String, _ host: String) -> String {
        let p = Array(pattern.lowercased()), h = Array(host.lowercased())
        if p == h { return "'\(host)' equals the entry (case-insensitive)" }
        if p == ["*"] { return "the entry '*' matches every domain" }
        var spans: [String] = []
        var i = 0, j = 0
        while i < p.count {
            if p[i] == "*" {
                if i + 1 == p.count { spans.append(String(h[min(j, h.count)...])); j = h.count; break }
                var k = j
                while k < h.count, h[k] != p[i + 1] { k += 1 }
                spans.append(String(h[min(j, h.count)..<k]))
                j = k
            } else {
                j += 1
            }
            i += 1
        }
        let described = spans.map { "'\($0)'" }.joined(separator: ", ")
        return "the entry '\(pattern)' matches '\(host)' with '*' standing for \(described) (a '*' skips up to the "
            + "next character of the pattern, without backtracking: '*.example.org' matches one label only)"
    }

    static func mailaddr(_ entry: String, _ key: String, delimiter: Character) -> String {
        let tagNote: String
        let keyUser = key.split(separator: "@", maxSplits: 1).first.map(String.init) ?? key
        let entryUser = entry.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? entry
        if keyUser.contains(delimiter), !entryUser.contains(delimiter), !entryUser.isEmpty {
            tagNote = "; the key's '\(delimiter)tag' is ignored because the entry has none"
        } else {
            tagNote = ""
        }
        if entry == "@" { return "the entry '@' matches every address" }
        if entry.hasPrefix("@") {
            return "the entry '\(entry)' matches any user at a domain matching '\(entry.dropFirst())'"
        }
        if !entry.contains("@") { return "the entry '\(entry)' matches that user part at any domain" + tagNote }
        return "the entry '\(entry)' matches its user part (case-insensitive) at a domain matching its domain part" + tagNote
    }
}
