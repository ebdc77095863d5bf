/// One loaded version of a table, whatever its backend: one byte buffer holding every key (folded) and value,
/// the entries as spans of it, a hash index of the keys, and pattern indexes built on first use.
///
/// A snapshot never changes once loaded (the pattern indexes are built once, under a lock, by the first lookup
/// that needs them), so it is shared freely between threads; a `Table` swaps in a new snapshot on reload.
///
/// A repeated key keeps its last value (smtpd's dict_set). Where several entries match a pattern query, the
/// one reported is the first one smtpd's walk meets: for a file table (a tree ordered by key) the smallest key
/// in byte order, for a db table the first in the database's own order (`MatchOrder`).
public final class TableSnapshot: Sendable {
    /// Which of several matching entries a pattern service reports.
    enum MatchOrder {
        /// The smallest key in byte order (smtpd's walk of a file table's sorted dictionary).
        case smallestKey
        /// The first entry in `entries` order (smtpd's cursor walk of a db table, kept as loaded).
        case entryOrder
    }

    private let storedKind: TableKind
    let storage: [UInt8]
    let entrySpans: [EntrySpan]
    private let exact: KeyIndex
    let delimiter: UInt8
    let matchOrder: MatchOrder
    /// Whether some key holds an ASCII capital (possible only in db files written by other tools than makemap).
    /// The pattern indexes assume folded keys, so pattern services then walk every entry with smtpd's
    /// case-insensitive match functions instead; exact services never find such a key (the query is folded),
    /// exactly as smtpd's `DB->get` of the folded key does not.
    let hasUnfoldedKeys: Bool
    /// Whether values are the rest of passwd lines (`PasswdTable`), answered per service as table-passwd does.
    let passwdLines: Bool

    init(kind: TableKind, storage: [UInt8], entries: [EntrySpan], delimiter: UInt8 = UInt8(ascii: "+"),
         matchOrder: MatchOrder = .smallestKey, hasUnfoldedKeys: Bool = false, passwdLines: Bool = false) {
        self.passwdLines = passwdLines
        self.storedKind = kind
        self.storage = storage
        self.entrySpans = entries
        self.delimiter = delimiter
        self.matchOrder = matchOrder
        self.hasUnfoldedKeys = hasUnfoldedKeys
        exact = storage.withUnsafeBytes { KeyIndex(entries: entries, storage: $0) }
    }

    /// Builds a snapshot from entries already split into key and value (inline tables; see
    /// `Table.init(entries:kind:name:subaddressDelimiter:)`).
    convenience init(byteEntries: [(key: [UInt8], value: [UInt8]?)], kind preset: TableKind?, options: TableOptions) {
        let kind = preset ?? (byteEntries.first.map { $0.value == nil ? .list : .mapping } ?? .mapping)
        var storage: [UInt8] = []
        var spans: [EntrySpan] = []
        for (key, value) in byteEntries where key.count <= TableLineParser.maxKeyLength
            && (value == nil) == (kind == .list) && storage.count + key.count + (value?.count ?? 0) < Int(Int32.max) {
            var span = EntrySpan(keyStart: UInt32(storage.count), keyLength: UInt32(key.count), valueStart: 0,
                                 valueLength: -1, line: 0)
            storage += key.asciiLowercased()
            if let value {
                span.valueStart = UInt32(storage.count)
                span.valueLength = Int32(value.count)
                storage += value
            }
            spans.append(span)
        }
        self.init(kind: kind, storage: storage, entries: spans, delimiter: options.subaddressDelimiter)
    }

    /// Finds the entry for `key` as `service` would (default: exact key); nil when nothing matches. Throws when
    /// the key is over smtpd's 1023-byte limit.
    public func lookup(bytes key: [UInt8], service: TableService = .string) throws(TableError) -> TableMatch? {
        if passwdLines { try PasswdTable.checkService(service) }
        guard let i = try checkedFind(key, service: service) else { return nil }
        return passwdLines ? try PasswdTable.answer(match(i), service: service) : match(i)
    }

    /// Whether anything matches, without building a result (smtpd's `table_match`).
    public func contains(bytes key: [UInt8], service: TableService = .string) throws(TableError) -> Bool {
        if passwdLines { try PasswdTable.checkService(service) }
        return try checkedFind(key, service: service) != nil
    }

    /// Every entry in force (the last of each key), in file order.
    public var entries: [TableMatch] { liveEntries.map(match) }

    /// The raw form of `entries` for fast tools: (key, value) byte slices in file order.
    public func forEachEntry(_ body: (ArraySlice<UInt8>, ArraySlice<UInt8>?) throws -> Void) rethrows {
        for i in liveEntries { try body(key(i), value(i)) }
    }

    static func checkKeyLength(_ key: [UInt8]) throws(TableError) {
        guard key.count <= TableLineParser.maxKeyLength else {
            throw TableError(.keyTooLong, "lookup key too long (\(key.count) bytes, smtpd allows 1023)")
        }
    }

    private func checkedFind(_ key: [UInt8], service: TableService) throws(TableError) -> Int32? {
        try Self.checkKeyLength(key)
        // Most queries are already lower case: fold (and copy) only those that are not.
        let folded = key.contains(where: { ($0 &- 0x41) < 26 }) ? key.asciiLowercased() : key
        return find(folded, service: service)
    }

    func match(_ i: Int32) -> TableMatch {
        let line = Int(entrySpans[Int(i)].line)
        return TableMatch(keySlice: key(i), valueSlice: value(i), line: line > 0 ? line : nil)
    }

    /// The entries that are in force: the last of each key, in file order.
    var liveEntries: [Int32] {
        live.get {
            var live = exact.entryNumbers
            live.sort()
            return live
        }
    }
    private let live = BuiltOnce<[Int32]>()

    /// List or mapping (db: tables are mappings; `makemap -t set` values are `<set>`).
    public var kind: TableKind { storedKind }

    /// The number of distinct keys.
    public var count: Int { exact.count }

    @inline(__always)
    func key(_ i: Int32) -> ArraySlice<UInt8> {
        let e = entrySpans[Int(i)]
        return storage[Int(e.keyStart)..<Int(e.keyStart + e.keyLength)]
    }

    @inline(__always)
    func value(_ i: Int32) -> ArraySlice<UInt8>? {
        let e = entrySpans[Int(i)]
        guard e.valueLength >= 0 else { return nil }
        return storage[Int(e.valueStart)..<(Int(e.valueStart) + Int(e.valueLength))]
    }

    private func spans(of list: [Int32]) -> [(start: Int, length: Int, payload: Int32)] {
        list.map { (Int(entrySpans[Int($0)].keyStart), Int(entrySpans[Int($0)].keyLength), $0) }
    }

    private let domainIndexes = BuiltOnce<DomainPatternIndex>()
    private let mailIndexes = BuiltOnce<MailAddressPatternIndex>()
    private let netIndexes = BuiltOnce<NetworkPatternIndex>()
    private let regexList = BuiltOnce<[(RegexPattern, Int32)]>()

    private var domainIndex: DomainPatternIndex {
        domainIndexes.get { storage.withUnsafeBytes { DomainPatternIndex(patterns: spans(of: liveEntries), storage: $0) } }
    }
    private var mailIndex: MailAddressPatternIndex {
        mailIndexes.get {
            storage.withUnsafeBytes { MailAddressPatternIndex(entries: spans(of: liveEntries), storage: $0, delimiter: delimiter) }
        }
    }
    private var netIndex: NetworkPatternIndex { netIndexes.get { NetworkPatternIndex(entries: liveEntries.map { (key($0), $0) }) } }
    private var regexes: [(RegexPattern, Int32)] {
        regexList.get { liveEntries.map { (RegexPattern(pattern: Array(key($0))), $0) } }
    }

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
            storage.withUnsafeBytes { s in entrySpans.withUnsafeBufferPointer { exact.find(q, entries: $0, storage: s) } }
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

/// A value built by the first caller that needs it, once, whichever thread that is.
final class BuiltOnce<Value: Sendable>: Sendable {
    private let value = Locked<Value?>(nil)

    func get(_ build: () -> Value) -> Value {
        value.withLock { stored in
            if let stored { return stored }
            let made = build()
            stored = made
            return made
        }
    }
}
