/// The records of a loaded table, whatever its backend: one byte buffer holding every key (folded) and value,
/// the entries as spans of it, a hash index of the keys, and pattern indexes built on first use.
///
/// A repeated key keeps its last value (smtpd's dict_set). Where several entries match a pattern query, the
/// one reported is the first one smtpd's walk meets: for a file table (a tree ordered by key) the smallest key
/// in byte order, for a db table the first in the database's own order (`MatchOrder`).
final class TableRecords {
    /// Which of several matching entries a pattern service reports.
    enum MatchOrder {
        /// The smallest key in byte order (smtpd's walk of a file table's sorted dictionary).
        case smallestKey
        /// The first entry in `entries` order (smtpd's cursor walk of a db table, kept as loaded).
        case entryOrder
    }

    let kind: TableKind
    let storage: [UInt8]
    let entries: [EntrySpan]
    private let exact: KeyIndex
    let delimiter: UInt8
    let matchOrder: MatchOrder
    /// Whether some key holds an ASCII capital (possible only in db files written by other tools than makemap).
    /// The pattern indexes assume folded keys, so pattern services then walk every entry with smtpd's
    /// case-insensitive match functions instead; exact services never find such a key (the query is folded),
    /// exactly as smtpd's `DB->get` of the folded key does not.
    let hasUnfoldedKeys: Bool

    init(kind: TableKind, storage: [UInt8], entries: [EntrySpan], delimiter: UInt8 = UInt8(ascii: "+"),
         matchOrder: MatchOrder = .smallestKey, hasUnfoldedKeys: Bool = false) {
        self.kind = kind
        self.storage = storage
        self.entries = entries
        self.delimiter = delimiter
        self.matchOrder = matchOrder
        self.hasUnfoldedKeys = hasUnfoldedKeys
        exact = storage.withUnsafeBytes { KeyIndex(entries: entries, storage: $0) }
    }

    /// The entries that are in force: the last of each key, in file order.
    private(set) lazy var liveEntries: [Int32] = {
        var live = exact.entryNumbers
        live.sort()
        return live
    }()

    var count: Int { exact.count }

    @inline(__always)
    func key(_ i: Int32) -> ArraySlice<UInt8> {
        let e = entries[Int(i)]
        return storage[Int(e.keyStart)..<Int(e.keyStart + e.keyLength)]
    }

    @inline(__always)
    func value(_ i: Int32) -> ArraySlice<UInt8>? {
        let e = entries[Int(i)]
        guard e.valueLength >= 0 else { return nil }
        return storage[Int(e.valueStart)..<(Int(e.valueStart) + Int(e.valueLength))]
    }

    private func spans(of list: [Int32]) -> [(start: Int, length: Int, payload: Int32)] {
        list.map { (Int(entries[Int($0)].keyStart), Int(entries[Int($0)].keyLength), $0) }
    }

    private lazy var domainIndex: DomainPatternIndex = storage.withUnsafeBytes {
        DomainPatternIndex(patterns: spans(of: liveEntries), storage: $0)
    }
    private lazy var mailIndex: MailAddressPatternIndex = storage.withUnsafeBytes {
        MailAddressPatternIndex(entries: spans(of: liveEntries), storage: $0, delimiter: delimiter)
    }
    private lazy var netIndex = NetworkPatternIndex(entries: liveEntries.map { (key($0), $0) })
    private lazy var regexes: [(RegexPattern, Int32)] = liveEntries.map { (RegexPattern(pattern: Array(key($0))), $0) }

    /// The entry found for `query` (folded) by `service`, or nil.
    func find(_ query: [UInt8], service: TableService) -> Int32? {
        if hasUnfoldedKeys, service.isPattern { return scan(query, service: service) }
        switch service {
        case .domain:
            return smallest { body in
                query.withUnsafeBytes { q in storage.withUnsafeBytes { domainIndex.forEachMatch(host: q, storage: $0, body) } }
            }
        case .mailaddr:
            guard let q = MailAddressBytes(query) else { return nil }
            return smallest { body in
                storage.withUnsafeBytes { s in
                    mailIndex.forEachCandidate(query: q, storage: s) { p in
                        if let e = MailAddressBytes(key(p)), q.matches(pattern: e, delimiter: delimiter) { body(p) }
                    }
                }
            }
        case .netaddr:
            return smallest { body in
                if let p = exactFind(query) { body(p) }
                if let q = NetworkAddress.parse(query[...]) { netIndex.forEachMatch(query: q, body) }
            }
        case .regex:
            return smallest { body in
                for (regex, p) in regexes where regex.matches(query[...]) { body(p) }
            }
        default:
            return exactFind(query)
        }
    }

    @inline(__always)
    func exactFind(_ query: [UInt8]) -> Int32? {
        query.withUnsafeBytes { q in
            storage.withUnsafeBytes { s in entries.withUnsafeBufferPointer { exact.find(q, entries: $0, storage: s) } }
        }
    }

    /// The reference answer: smtpd's walk over every entry with the service's match function (for tests and
    /// for checking the indexes).
    func scan(_ query: [UInt8], service: TableService) -> Int32? {
        smallest { body in
            for p in liveEntries {
                let k = key(p)
                let hit: Bool
                switch service {
                case .domain:
                    hit = query.withUnsafeBytes { q in k.withUnsafeBytes { hostnameMatches(q, pattern: $0) } }
                case .mailaddr:
                    if let q = MailAddressBytes(query), let e = MailAddressBytes(k) {
                        hit = q.matches(pattern: e, delimiter: delimiter)
                    } else { hit = false }
                case .netaddr:
                    hit = netaddrMatches(query: query[...], entry: k)
                case .regex:
                    hit = RegexPattern(pattern: Array(k)).matches(query[...])
                default:
                    hit = k.elementsEqual(query)
                }
                if hit { body(p) }
            }
        }
    }

    private func smallest(_ producer: ((Int32) -> Void) -> Void) -> Int32? {
        var best: Int32?
        producer { p in
            if let b = best {
                if p == b { return }
                if matchOrder == .entryOrder {
                    if p < b { best = p }
                    return
                }
                let less = key(p).withUnsafeBytes { a in key(b).withUnsafeBytes { lexicographicallyPrecedes(a, $0) } }
                if less { best = p }
            } else {
                best = p
            }
        }
        return best
    }
}
