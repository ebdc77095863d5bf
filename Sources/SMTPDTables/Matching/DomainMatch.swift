/// smtpd's domain pattern test (upstream util.c `hostname_match`), over bytes.
///
/// Case-insensitive; a run of `*` skips the host up to the first occurrence of the next pattern character,
/// with no backtracking: `*.example.org` matches `a.example.org` but neither `a.b.example.org` nor
/// `example.org`; a lone `*` matches every non-empty host; `foo*` matches `foox` but not `foo`.
func hostnameMatches(_ host: UnsafeRawBufferPointer, pattern: UnsafeRawBufferPointer) -> Bool {
    let hn = host.count, pn = pattern.count
    var h = 0, p = 0
    while p < pn && h < hn {
        if pattern[p] == UInt8(ascii: "*") {
            while p < pn && pattern[p] == UInt8(ascii: "*") { p += 1 }
            // A trailing star takes the rest of the host. (C scans for the pattern's NUL here; a byte
            // sentinel of 0 would stop at a NUL inside the host, which the index does not.)
            guard p < pn else { h = hn; break }
            let next = asciiLower(pattern[p])
            while h < hn && asciiLower(host[h]) != next { h += 1 }
            continue
        }
        if asciiLower(pattern[p]) != asciiLower(host[h]) { return false }
        p += 1
        h += 1
    }
    return h == hn && p == pn
}

/// Answers "which patterns match this host" without testing every pattern.
///
/// Patterns fall in four buckets: no `*` (a hash of the folded pattern), `*` followed by a literal with no
/// further `*` (one hash per first literal byte: the host matches exactly when its tail from the first
/// occurrence of that byte equals the literal), all stars (every non-empty host), and the rest, tested one by
/// one with `hostnameMatches` (rare in real tables: `a*b`, `foo*`). Patterns and hosts must be folded.
struct DomainPatternIndex {
    private var exact: ByteSpanIndex
    private var suffixes: [(first: UInt8, index: ByteSpanIndex)] = []
    private var everything: [Int32] = []
    private var others: [(start: Int, length: Int, payload: Int32)] = []

    /// Builds over `patterns`: (start, length, payload) spans of `storage`.
    init(patterns: [(start: Int, length: Int, payload: Int32)], storage: UnsafeRawBufferPointer) {
        exact = ByteSpanIndex(expectedCount: patterns.count, unique: false)
        var suffixBuckets: [UInt8: ByteSpanIndex] = [:]
        for (start, length, payload) in patterns {
            let star = UInt8(ascii: "*")
            var stars = 0
            while stars < length, storage[start + stars] == star { stars += 1 }
            var laterStar = false
            var i = start + stars
            while i < start + length {
                if storage[i] == star { laterStar = true; break }
                i += 1
            }
            if stars == 0 && !laterStar {
                exact.insert(start: start, length: length, payload: payload, storage: storage)
            } else if stars == length {
                everything.append(payload)
            } else if !laterStar {
                let first = storage[start + stars]
                suffixBuckets[first, default: ByteSpanIndex(expectedCount: 4, unique: false)]
                    .insert(start: start + stars, length: length - stars, payload: payload, storage: storage)
            } else {
                others.append((start, length, payload))
            }
        }
        suffixes = suffixBuckets.map { (first: $0.key, index: $0.value) }.sorted { $0.first < $1.first }
    }

    /// Calls `body` with the payload of every pattern that matches `host` (folded), in no particular order.
    func forEachMatch(host: UnsafeRawBufferPointer, storage: UnsafeRawBufferPointer, _ body: (Int32) -> Void) {
        exact.forEach(matching: host, storage: storage, body)
        guard host.count > 0 else { return }
        for payload in everything { body(payload) }
        for (first, index) in suffixes {
            guard let at = host.firstIndex(of: first) else { continue }
            index.forEach(matching: UnsafeRawBufferPointer(rebasing: host[at...]), storage: storage, body)
        }
        for (start, length, payload) in others {
            let pattern = UnsafeRawBufferPointer(rebasing: storage[start..<(start + length)])
            if hostnameMatches(host, pattern: pattern) { body(payload) }
        }
    }
}
