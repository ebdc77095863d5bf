/// "Did you mean": the valid word nearest a mistyped one, for unknown services and subcommands.
enum Suggestion {
    /// The candidate nearest `word` (case-insensitive edit distance, ties to the earlier candidate), when it
    /// is near enough to be a typo: at most 2 edits, and fewer than half the word's length.
    static func nearest(_ word: String, among candidates: [String]) -> String? {
        let typed = Array(word.lowercased().utf8)
        var best: (String, Int)?
        for candidate in candidates {
            let d = distance(typed, Array(candidate.lowercased().utf8))
            if d < (best?.1 ?? Int.max) { best = (candidate, d) }
        }
        guard let (candidate, d) = best, d > 0, d <= 2, d * 2 < max(typed.count, 2) else { return nil }
        return candidate
    }

    /// `unknown WHAT 'word'; did you mean 'x'? (valid: a, b, c)`
    static func unknown(_ what: String, _ word: String, among candidates: [String]) -> String {
        var text = "unknown \(what) '\(word)'"
        if let near = nearest(word, among: candidates) { text += "; did you mean '\(near)'?" }
        return text + " (valid: \(candidates.joined(separator: ", ")))"
    }

    /// Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours
    /// (`alais` is one swap from `alias`).
    static func distance(_ a: [UInt8], _ b: [UInt8]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var table = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { table[i][0] = i }
        for j in 0...b.count { table[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                var d = min(table[i - 1][j] + 1, table[i][j - 1] + 1, table[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { d = min(d, table[i - 2][j - 2] + 1) }
                table[i][j] = d
            }
        }
        return table[a.count][b.count]
    }
}
