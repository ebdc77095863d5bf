import Testing
@testable import SMTPDTables

/// The indexed lookups (`TableSnapshot.find`) against the reference walk smtpd does (`Table.scanReference`):
/// random tables and random keys, many of them near misses built from the table's own entries.
@Suite("Foundation: pattern indexes agree with the reference walk")
struct IndexPropertyTests {
    /// Builds tables and keys from one seeded generator.
    struct Generator {
        var rng: SplitMix64
        /// Whether catch-all patterns (`*`, `@`, `/0`) may appear: they would make every key a hit.
        var catchAll = true

        mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &rng) }
        mutating func chance(_ percent: Int) -> Bool { int(0...99) < percent }
        mutating func pick<T>(_ items: [T]) -> T { items[int(0...(items.count - 1))] }

        static let labels = ["a", "b", "ab", "ba", "ex", "example", "org", "com", "x-y", "mail", "Ab", "EXAMPLE", "o"]

        mutating func domain(labels count: ClosedRange<Int> = 1...4) -> String {
            (0..<int(count)).map { _ in pick(Self.labels) }.joined(separator: ".")
        }

        /// Domain patterns of every shape smtpd meets: exact, `*.suffix`, lone `*`, `foo*`, `a*b`, `*x*`.
        mutating func domainPattern() -> String {
            switch int(0...11) {
            case 0...3: return domain()
            case 4, 5: return "*." + domain()
            case 6: return catchAll ? pick(["*", "**"]) : domain()
            case 7: return pick(Self.labels) + "*"
            case 8: return pick(Self.labels) + "*" + domain(labels: 1...2)
            case 9: return "*" + domain()                         // no dot after the star
            case 10: return "*" + pick(Self.labels) + "*"
            default: return domain(labels: 1...2) + ".*"
            }
        }

        static let users = ["alice", "bob", "Al", "root", "a.b", "x"]
        static let tags = ["tag", "t", "", "x+y"]

        mutating func user(delimiter: Character) -> String {
            var u = pick(Self.users)
            if chance(30) { u += String(delimiter) + pick(Self.tags) }
            return u
        }

        /// Mail address entries: `user`, `@domain`, `user@domain`, `@`, with tags and wildcard domains.
        mutating func mailPattern(delimiter: Character) -> String {
            switch int(0...12) {
            case 0: return catchAll ? "@" : "@" + domain()
            case 1: return user(delimiter: delimiter)
            case 2: return user(delimiter: delimiter) + "@"
            case 3, 4: return "@" + domainPattern()
            case 5: return user(delimiter: delimiter) + "@" + domainPattern()
            case 6: return pick([catchAll ? "" : "x", "a@b@" + domain(), "@@" + domain()])
            default: return user(delimiter: delimiter) + "@" + domain()
            }
        }

        /// A key near `pattern`: stars replaced by labels (or nothing), a byte dropped or added, case changed.
        mutating func nearMiss(of pattern: String) -> String {
            var s = pattern
            if chance(70) {
                var out = ""
                for c in s {
                    if c == "*" {
                        out += pick(["", "a", "a.b", "ex.", ".", "example.org", "x"])
                    } else {
                        out.append(c)
                    }
                }
                s = out
            }
            switch int(0...9) {
            case 0 where !s.isEmpty: s.removeFirst()
            case 1 where !s.isEmpty: s.removeLast()
            case 2: s = pick(["x.", "a", ".", "*"]) + s
            case 3: s += pick([".", "a", ".org", "*"])
            case 4: s = s.uppercased()
            case 5: s = pick(["a", "b+t", "ALICE", "alice+tag", "bob-x"]) + "@" + s
            default: break
            }
            return s
        }

        mutating func ipv4() -> [UInt8] { [pick([10, 192, 172, 0, 224, 128, 127]), UInt8(int(0...3)), UInt8(int(0...3)), UInt8(int(0...255))] }

        mutating func ipv4Text(_ b: [UInt8]) -> String { b.map(String.init).joined(separator: ".") }

        mutating func ipv6() -> [UInt16] {
            [0x2001, 0xdb8, UInt16(int(0...2)), 0, 0, 0, UInt16(int(0...1)), UInt16(int(0...0xffff))]
        }

        func ipv6Text(_ w: [UInt16]) -> String {
            w.map { String($0, radix: 16) }.joined(separator: ":")
        }

        /// netaddr entries: IPv4 with random prefixes and classful forms, IPv6 plain, `[...]`, `IPv6:`, texts.
        mutating func netPattern() -> String {
            switch int(0...9) {
            case 0: return ipv4Text(ipv4())
            case 1, 2: return ipv4Text(ipv4()) + "/\(int((catchAll ? 0 : 8)...32))"
            case 3:
                let b = ipv4()
                return b.prefix(int(1...3)).map(String.init).joined(separator: ".")      // classful: 10, 10.1
            case 4: return ipv6Text(ipv6())
            case 5, 6: return ipv6Text(ipv6()) + "/\(pick([catchAll ? 0 : 8, 16, 32, 48, 64, 96, 112, 120, 127, 128, int(8...128)]))"
            case 7: return "[" + ipv6Text(ipv6()) + (chance(50) ? "/\(int(0...128))" : "") + "]"
            case 8:
                let text = ipv6Text(ipv6()) + (chance(50) ? "/\(int(0...128))" : "")
                return pick(["IPv6:" + text, "ipv6:" + text, "[IPv6:" + text + "]"])
            default: return pick(["localhost", "LOCALHOST", "::1", "unix", "10.0.0.0/33", "1.2.3.4/x"])
            }
        }

        /// A query address near `pattern`.
        mutating func netNearMiss(of pattern: String) -> String {
            var base = pattern
            if chance(20) { return pattern.uppercased() }
            if let slash = base.firstIndex(of: "/") { base = String(base[..<slash]) }
            base = base.replacingOccurrences(of: "[", with: "").replacingOccurrences(of: "]", with: "")
            if chance(15) { return base }
            if let v4 = NetworkAddress(base), v4.family == .inet {
                // Random host bits, one random bit flipped now and then.
                var b = v4.bytes
                for i in 0..<4 where i * 8 >= v4.prefixLength - int(0...8) { b[i] = UInt8(int(0...255)) }
                if chance(30) { b[int(0...3)] ^= UInt8(1 << int(0...7)) }
                let text = ipv4Text(b)
                return pick([text, text, "IPv6:" + text, text + "/\(int(0...32))"])
            }
            if let v6 = NetworkAddress(base), v6.family == .inet6 {
                var w = stride(from: 0, to: 16, by: 2).map { UInt16(v6.bytes[$0]) << 8 | UInt16(v6.bytes[$0 + 1]) }
                w[int(4...7)] = UInt16(int(0...0xffff))
                if chance(30) { w[int(0...7)] ^= UInt16(1 << int(0...15)) }
                let text = ipv6Text(w)
                return pick([text, "[" + text + "]", "IPv6:" + text, "[IPv6:" + text + "]", text + "/64"])
            }
            return pick(["10.1.2.3", "::1", "localhost", "2001:db8::1", "10", "10.1"])
        }
    }

    private func check(_ table: Table, _ key: String, _ service: TableService, _ source: String,
                       mismatches: inout Int) throws {
        let bytes = Array(key.utf8)
        let indexed = try table.lookup(bytes: bytes, service: service)
        let reference = table.scanReference(bytes, service: service)
        if indexed?.keyBytes != reference?.keyBytes {
            mismatches += 1
            if mismatches <= 5 {
                Issue.record("""
                    \(service) lookup of '\(key)': index \(indexed?.key ?? "nil"), reference \(reference?.key ?? "nil")
                    table:
                    \(source)
                    """)
            }
        }
    }

    @Test func domainMailaddrNetaddr() throws {
        var g = Generator(rng: SplitMix64(seed: 0x5EED_0F_7AB1E5))
        var cases: [TableService: Int] = [:], hits: [TableService: Int] = [:], mismatches = 0
        for round in 0..<240 {
            g.catchAll = round % 8 < 2
            let delimiter: Character = round % 5 == 4 ? "-" : "+"
            let size = g.int(1...40)
            var patterns: [(TableService, String)] = []
            for _ in 0..<size {
                switch round % 3 {
                case 0: patterns.append((.domain, g.domainPattern()))
                case 1: patterns.append((.mailaddr, g.mailPattern(delimiter: delimiter)))
                default: patterns.append((.netaddr, g.netPattern()))
                }
                // Duplicates, in other case.
                if g.chance(10), let last = patterns.last { patterns.append((last.0, last.1.uppercased())) }
            }
            // netaddr tables are mostly lists: in a mapping an IPv6 key must be bracketed, as the key ends at ':'.
            let asList = round % 3 == 2 && round % 2 == 0
            let source = ((asList ? ["# @list"] : []) + patterns.enumerated().map { n, p in
                asList ? p.1 : p.1.isEmpty ? ":v\(n)" : "\(p.1) v\(n)"
            }).joined(separator: "\n")
            let table = try Fixture.table(source, delimiter: delimiter)
            let service = patterns[0].0
            for _ in 0..<60 {
                let key: String
                let base = g.pick(patterns).1
                switch service {
                case .domain: key = g.chance(80) ? g.nearMiss(of: base) : g.domain(labels: 0...4)
                case .mailaddr:
                    key = g.chance(80) ? g.nearMiss(of: base)
                        : g.user(delimiter: delimiter) + "@" + g.domain(labels: 0...3)
                default: key = g.netNearMiss(of: base)
                }
                try check(table, key, service, source, mismatches: &mismatches)
                if table.scanReference(Array(key.utf8), service: service) != nil { hits[service, default: 0] += 1 }
                cases[service, default: 0] += 1
            }
        }
        #expect(mismatches == 0)
        // The generator must exercise both outcomes, or the test proves nothing.
        for service in [TableService.domain, .mailaddr, .netaddr] {
            let n = cases[service] ?? 0, h = hits[service] ?? 0
            #expect(n >= 4_000, "\(service): \(n) cases")
            #expect(h > n / 5 && h < n * 4 / 5, "\(service): \(h) hits in \(n) cases")
        }
    }
}
