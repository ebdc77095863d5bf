#if canImport(Glibc)
import Glibc
#endif

/// A small deterministic generator (SplitMix64): the same seed gives the same tables on every machine.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A number in 0..<bound (bound > 0), without modulo bias worth caring about here.
    public mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
}

/// The kinds of table the benchmarks use, each generated at any size.
public enum FixtureKind: String, CaseIterable, Sendable {
    /// `name: targets` aliases(5) lines: local users, addresses, lists, pipes, files, error: entries.
    case aliases
    /// Virtual users: `user@domain: target` lines plus one `@domain` catch-all per 20 users.
    case vusers
    /// Virtual domains (a list): plain host names and `*.zone` wildcards, about 3 to 1.
    case vdomains
    /// Networks (a list): IPv4 hosts and /16../24 networks, IPv6 /48../64 networks.
    case netaddr

    /// The lookup service the pattern benchmarks use on this kind.
    public var patternService: String {
        switch self {
        case .aliases: return "alias"
        case .vusers: return "mailaddr"
        case .vdomains: return "domain"
        case .netaddr: return "netaddr"
        }
    }
}

/// One generated table: its text, and queries that hit it (about 80%) or miss it.
public struct Fixture: Sendable {
    public var kind: FixtureKind
    public var count: Int
    /// The file's bytes.
    public var text: [UInt8]
    /// Keys that exist in the table, as written (for exact lookups), shuffled.
    public var exactKeys: [[UInt8]]
    /// Queries for the kind's pattern service (hits and misses), shuffled.
    public var patternQueries: [[UInt8]]
}

private let syllables = ["ka", "lo", "mi", "ne", "ru", "ta", "vo", "zi", "an", "el", "is", "or", "ub", "sh", "ch", "th"]
private let tlds = ["org", "com", "net", "de", "fr", "io"]

extension SplitMix64 {
    mutating func word(_ parts: Int) -> String {
        var s = ""
        for _ in 0..<parts { s += syllables[below(syllables.count)] }
        return s
    }
}

private func base36(_ n: Int) -> String { String(n, radix: 36) }

public enum TableFixtures {
    /// Generates `kind` with `count` entries (seeded by kind and count, so each file is always the same).
    /// - Parameter queries: how many queries of each sort to produce.
    public static func make(_ kind: FixtureKind, count: Int, queries: Int = 100_000) -> Fixture {
        var rng = SplitMix64(seed: 0x5EED_0000 ^ UInt64(count) &* 31 ^ UInt64(FixtureKind.allCases.firstIndex(of: kind) ?? 0))
        var out: [UInt8] = []
        out.reserveCapacity(count * 40)
        var keys: [[UInt8]] = []
        keys.reserveCapacity(count)
        var patternQueries: [[UInt8]] = []
        func line(_ s: String) { out.append(contentsOf: s.utf8); out.append(0x0A) }

        switch kind {
        case .aliases:
            line("# generated aliases table, \(count) entries")
            for i in 0..<count {
                let name = rng.word(2) + "." + rng.word(2) + base36(i)
                let value: String
                switch rng.below(100) {
                case 0..<65: value = rng.word(3) + base36(rng.below(5000))
                case 65..<80: value = rng.word(2) + "@" + rng.word(2) + base36(rng.below(500)) + "." + tlds[rng.below(tlds.count)]
                case 80..<90: value = rng.word(2) + ", " + rng.word(3) + "@example.org, " + rng.word(2)
                case 90..<95: value = "\"|/usr/bin/procmail -a " + base36(i) + "\""
                case 95..<98: value = "/var/mail/archive/" + base36(i)
                default: value = "error:550 5.1.1 no such user"
                }
                line(name + ": " + value)
                keys.append(Array(name.utf8))
            }
            patternQueries = keys
        case .vusers:
            line("# generated virtual users, \(count) entries with @domain catch-alls")
            let domains = max(1, count / 20)
            var names: [String] = []
            for d in 0..<domains { names.append(rng.word(2) + base36(d) + "." + tlds[rng.below(tlds.count)]) }
            var written = 0
            var d = 0
            while written < count {
                let domain = names[d % domains]
                if d < domains {
                    line("@" + domain + ": catchall" + base36(d))
                    keys.append(Array(("@" + domain).utf8))
                    written += 1
                }
                for _ in 0..<19 where written < count {
                    let user = rng.word(2) + base36(written)
                    line(user + "@" + domain + ": " + rng.word(3))
                    keys.append(Array((user + "@" + domain).utf8))
                    written += 1
                }
                d += 1
            }
            for _ in 0..<queries {
                let domain = names[rng.below(domains)]
                switch rng.below(10) {
                case 0..<5:   // an existing user, sometimes with a +tag
                    var k = keys[rng.below(keys.count)]
                    if k.first == UInt8(ascii: "@") { k = Array((rng.word(2) + String(decoding: k, as: UTF8.self)).utf8) }
                    if rng.below(4) == 0, let at = k.firstIndex(of: UInt8(ascii: "@")) { k.insert(contentsOf: "+tag".utf8, at: at) }
                    patternQueries.append(k)
                case 5..<8:   // an unknown user of a known domain: the catch-all
                    patternQueries.append(Array((rng.word(3) + "@" + domain).utf8))
                default:      // an unknown domain
                    patternQueries.append(Array((rng.word(2) + "@" + rng.word(3) + ".example").utf8))
                }
            }
        case .vdomains:
            line("# @list")
            for i in 0..<count {
                let zone = rng.word(2) + base36(i) + "." + tlds[rng.below(tlds.count)]
                let entry = rng.below(4) == 0 ? "*." + zone : "mail." + zone
                line(entry)
                keys.append(Array(entry.utf8))
            }
            for _ in 0..<queries {
                let k = keys[rng.below(keys.count)]
                let text = String(decoding: k, as: UTF8.self)
                switch rng.below(10) {
                case 0..<8:   // a hit: the name itself, or a host under a wildcard
                    patternQueries.append(Array((text.hasPrefix("*.") ? "mx" + rng.word(1) + text.dropFirst(1) : Substring(text)).utf8))
                default:      // a miss: one level too deep, or unknown
                    patternQueries.append(Array(("a.b" + text.dropFirst(1)).utf8))
                }
            }
        case .netaddr:
            line("# @list")
            var networks: [(v6: Bool, bytes: [UInt8], bits: Int)] = []
            for i in 0..<count {
                let entry: String
                switch rng.below(10) {
                case 0..<3:   // an IPv4 host
                    let b = [UInt8(10 + (i >> 24) % 50), UInt8((i >> 16) & 255), UInt8((i >> 8) & 255), UInt8(i & 255)]
                    entry = b.map(String.init).joined(separator: ".")
                    networks.append((false, b, 32))
                case 3..<7:   // an IPv4 /24 or /16
                    let bits = rng.below(4) == 0 ? 16 : 24
                    let b = [UInt8(100 + rng.below(100)), UInt8(rng.below(256)), bits == 24 ? UInt8(rng.below(256)) : 0, 0]
                    entry = b.map(String.init).joined(separator: ".") + "/\(bits)"
                    networks.append((false, b, bits))
                default:      // an IPv6 /48 or /64
                    let bits = rng.below(2) == 0 ? 48 : 64
                    let g = (0..<4).map { _ in UInt16(truncatingIfNeeded: rng.next()) }
                    let groups = bits == 48 ? [0x2001, 0x0db8, g[0]] : [0x2001, 0x0db8, g[0], g[1]]
                    entry = groups.map { String($0, radix: 16) }.joined(separator: ":") + "::/\(bits)"
                    var b = [UInt8](repeating: 0, count: 16)
                    for (j, v) in groups.enumerated() { b[2 * j] = UInt8(v >> 8); b[2 * j + 1] = UInt8(v & 255) }
                    networks.append((true, b, bits))
                }
                line(entry)
                keys.append(Array(entry.utf8))
            }
            for _ in 0..<queries {
                let n = networks[rng.below(networks.count)]
                let miss = rng.below(10) >= 8
                var b = n.bytes
                if miss {
                    b[0] = n.v6 ? 0x3f : 250   // outside every generated network
                } else {
                    for j in (n.bits / 8)..<b.count { b[j] = UInt8(rng.below(256)) }
                }
                if n.v6 {
                    let groups = stride(from: 0, to: 16, by: 2).map { String(UInt16(b[$0]) << 8 | UInt16(b[$0 + 1]), radix: 16) }
                    patternQueries.append(Array(groups.joined(separator: ":").utf8))
                } else {
                    patternQueries.append(Array(b.map(String.init).joined(separator: ".").utf8))
                }
            }
        }
        keys.shuffle(using: &rng)
        if keys.count > queries { keys.removeLast(keys.count - queries) }
        patternQueries.shuffle(using: &rng)
        if patternQueries.count > queries { patternQueries.removeLast(patternQueries.count - queries) }
        return Fixture(kind: kind, count: count, text: out, exactKeys: keys, patternQueries: patternQueries)
    }

    /// Writes `bytes` to `path` (replacing it).
    public static func write(_ bytes: [UInt8], to path: String) throws {
        guard let f = fopen(path, "wb") else { throw FixtureError(path: path, message: String(cString: strerror(errno))) }
        defer { fclose(f) }
        let n = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
        guard n == bytes.count else { throw FixtureError(path: path, message: "short write") }
    }

    /// Keys one per line (the query files of compare.sh and the libdb reader).
    public static func lines(_ keys: [[UInt8]]) -> [UInt8] {
        var out: [UInt8] = []
        for k in keys { out += k; out.append(0x0A) }
        return out
    }

    /// A fresh temporary directory.
    public static func temporaryDirectory() throws -> String {
        var template = Array("/tmp/smtpd-tables-bench.XXXXXX".utf8CString)
        guard let p = mkdtemp(&template) else { throw FixtureError(path: "/tmp", message: "mkdtemp failed") }
        return String(cString: p)
    }
}

public struct FixtureError: Error, CustomStringConvertible {
    public var path: String
    public var message: String
    public var description: String { "\(path): \(message)" }
}
