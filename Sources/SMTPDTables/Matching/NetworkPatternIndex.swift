/// Answers "which netaddr entries contain this address" without testing every entry: one hash per address
/// family and prefix length, over the entries' networks, probed with the query masked to each prefix length
/// present. (Equal-text matches, the first rule of `table_netaddr_match`, come from the table's key hash.)
struct NetworkPatternIndex {
    private struct Network: Hashable {
        var family: NetworkAddress.Family
        var prefixLength: Int
        var bytes: [UInt8]
    }

    private var networks: [Network: [Int32]] = [:]
    private var prefixLengths: [NetworkAddress.Family: [Int]] = [:]

    init(entries: [(key: ArraySlice<UInt8>, payload: Int32)]) {
        var lengths: [NetworkAddress.Family: Set<Int>] = [:]
        for (key, payload) in entries {
            guard let net = NetworkAddress.parse(key) else { continue }
            let bits = min(net.prefixLength, net.bytes.count * 8)
            let n = Network(family: net.family, prefixLength: bits, bytes: NetworkAddress.masked(net.bytes, bits))
            networks[n, default: []].append(payload)
            lengths[net.family, default: []].insert(bits)
        }
        prefixLengths = lengths.mapValues { $0.sorted() }
    }

    /// Calls `body` with the payload of every entry whose network holds `query`.
    func forEachMatch(query: NetworkAddress, _ body: (Int32) -> Void) {
        guard let lengths = prefixLengths[query.family] else { return }
        for bits in lengths {
            let n = Network(family: query.family, prefixLength: bits, bytes: NetworkAddress.masked(query.bytes, bits))
            if let payloads = networks[n] { for p in payloads { body(p) } }
        }
    }
}
