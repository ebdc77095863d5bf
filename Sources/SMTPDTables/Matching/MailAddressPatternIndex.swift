/// Answers "which mailaddr entries match this address" without testing every entry.
///
/// Entries are sorted by their shape (upstream `mailaddr_match`): `@` matches everything; `@domain` goes to a
/// domain pattern index; `user` (or `user@`) to a hash on the user; `user@domain` with a plain domain is found
/// by hashing `user@domain` itself (the query's user with and without its `+tag`); `user@pattern` by a hash on
/// the user, then the domain test. Entries with a tag in their user part match the query's whole user, the
/// others its user cut at the delimiter. Every candidate is confirmed with the reference test by the caller.
struct MailAddressPatternIndex {
    private let delimiter: UInt8
    private var catchAll: [Int32] = []
    private var domainOnly: DomainPatternIndex
    private var userOnly: ByteSpanIndex           // key: user part (tagged and untagged alike)
    private var composite: ByteSpanIndex          // key: the entry text "user@domain"
    private var userWithPattern: ByteSpanIndex    // key: user part, domain has a '*'

    init(entries: [(start: Int, length: Int, payload: Int32)], storage: UnsafeRawBufferPointer, delimiter: UInt8) {
        self.delimiter = delimiter
        var domains: [(start: Int, length: Int, payload: Int32)] = []
        userOnly = ByteSpanIndex(expectedCount: 16, unique: false)
        composite = ByteSpanIndex(expectedCount: entries.count, unique: false)
        userWithPattern = ByteSpanIndex(expectedCount: 16, unique: false)
        for (start, length, payload) in entries {
            let text = UnsafeRawBufferPointer(rebasing: storage[start..<(start + length)])
            guard length < 2048 else { continue }
            let at = text.lastIndex(of: UInt8(ascii: "@"))
            let userLength = at ?? length
            let domainStart = at.map { $0 + 1 } ?? length
            let domainLength = length - domainStart
            guard userLength < 256, domainLength < 256 else { continue }     // never matches in smtpd
            if userLength == 0 && domainLength == 0 {
                catchAll.append(payload)
            } else if userLength == 0 {
                domains.append((start + domainStart, domainLength, payload))
            } else if domainLength == 0 {
                userOnly.insert(start: start, length: userLength, payload: payload, storage: storage)
            } else if text[domainStart...].contains(UInt8(ascii: "*")) {
                userWithPattern.insert(start: start, length: userLength, payload: payload, storage: storage)
            } else {
                composite.insert(start: start, length: length, payload: payload, storage: storage)
            }
        }
        domainOnly = DomainPatternIndex(patterns: domains, storage: storage)
    }

    /// Calls `body` with every candidate payload for the folded query address (a superset of the matches).
    func forEachCandidate(query: MailAddressBytes, storage: UnsafeRawBufferPointer, _ body: (Int32) -> Void) {
        for p in catchAll { body(p) }
        query.domain.withUnsafeBytes { domainOnly.forEachMatch(host: $0, storage: storage, body) }
        var users = [query.user]
        if let cut = query.user.firstIndex(of: delimiter) { users.append(query.user[query.user.startIndex..<cut]) }
        for user in users {
            user.withUnsafeBytes { u in
                userOnly.forEach(matching: u, storage: storage, body)
                userWithPattern.forEach(matching: u, storage: storage, body)
            }
            let text = Array(user) + [UInt8(ascii: "@")] + Array(query.domain)
            text.withUnsafeBytes { composite.forEach(matching: $0, storage: storage, body) }
        }
    }
}
