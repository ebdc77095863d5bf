#if canImport(Glibc)
import Glibc
#endif

/// An IPv4 or IPv6 network: an address and a prefix length, as a netaddr table entry holds it.
///
/// Parsed like upstream to.c `text_to_netaddr`: an optional `IPv6:` prefix, then IPv4 through the C
/// library's inet_net_pton(3) (so classful forms such as `10` or `10.1` mean 10.0.0.0/8 and 10.1.0.0/16, as
/// in smtpd), else IPv6 with optional `[...]` and `/bits` (128 when absent).
public struct NetworkAddress: Hashable, Sendable, CustomStringConvertible {
    /// IPv4 (`inet`) or IPv6 (`inet6`).
    public enum Family: String, Sendable { case inet, inet6 }

    /// IPv4 or IPv6.
    public var family: Family
    /// 4 or 16 address bytes in network order.
    public var bytes: [UInt8]
    /// The prefix length (0...32 or 0...128).
    public var prefixLength: Int

    /// Parses `text` as smtpd does; nil when smtpd would not accept it.
    public init?(_ text: String) {
        guard let parsed = NetworkAddress.parse(Array(text.utf8)[...]) else { return nil }
        self = parsed
    }

    init(family: Family, bytes: [UInt8], prefixLength: Int) {
        self.family = family
        self.bytes = bytes
        self.prefixLength = prefixLength
    }

    /// `address/prefix`, the address in its usual text form.
    public var description: String {
        switch family {
        case .inet:
            return bytes.map(String.init).joined(separator: ".") + "/\(prefixLength)"
        case .inet6:
            var addr = in6_addr()
            withUnsafeMutableBytes(of: &addr) { $0.copyBytes(from: bytes) }
            var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            _ = inet_ntop(AF_INET6, &addr, &buffer, socklen_t(buffer.count))
            let text = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            return "\(text)/\(prefixLength)"
        }
    }

    /// Whether `address` falls in this network (same family only; the other side's own prefix is ignored,
    /// as in upstream table.c `table_netaddr_match`).
    public func contains(_ address: NetworkAddress) -> Bool {
        guard family == address.family else { return false }
        return NetworkAddress.masked(address.bytes, prefixLength) == NetworkAddress.masked(bytes, prefixLength)
    }

    static func masked(_ bytes: [UInt8], _ bits: Int) -> [UInt8] {
        var out = bytes
        for i in 0..<out.count {
            let keep = bits - i * 8
            if keep >= 8 { continue }
            out[i] = keep <= 0 ? 0 : out[i] & UInt8(truncatingIfNeeded: 0xFF00 >> keep)
        }
        return out
    }

    static func parse(_ input: ArraySlice<UInt8>) -> NetworkAddress? {
        var s = input
        if hasPrefixIgnoringCase(s, "ipv6:") { s = s.dropFirst(5) }
        if s.contains(0) { return nil }
        // IPv4: glibc's inet_net_pton, exactly what smtpd calls.
        var v4 = in_addr()
        let bits4: Int32 = (Array(s) + [0]).withUnsafeBufferPointer { p in
            p.withMemoryRebound(to: CChar.self) { inet_net_pton(AF_INET, $0.baseAddress, &v4, 4) }
        }
        if bits4 != -1 {
            // glibc sums the "/bits" digits in an int without an overflow check before its `bits > 32` test:
            // "1.2.3.4/33333333333" comes back as a negative length, which smtpd's mask loop turns into /0
            // (every address), and "/4294967304" wraps to /8. smtpd uses what glibc returns, and so do we;
            // `smtpd-tables check` warns about such entries (`prefixLengthAsWritten`).
            let b = withUnsafeBytes(of: v4.s_addr) { Array($0) }
            return NetworkAddress(family: .inet, bytes: b, prefixLength: Int(bits4))
        }
        var text: ArraySlice<UInt8>
        if s.first != UInt8(ascii: "[") {
            guard s.count < 1025 else { return nil }     // NI_MAXHOST
            text = s
        } else {
            var rest = s.dropFirst()
            if hasPrefixIgnoringCase(rest, "ipv6:") { rest = rest.dropFirst(5) }
            guard rest.count < 1025, rest.last == UInt8(ascii: "]") else { return nil }
            text = rest.dropLast()
        }
        // glibc's inet_net_pton has no AF_INET6 (EAFNOSUPPORT): smtpd's own fallback splits "/bits" and uses
        // inet_pton, with a 49-byte limit on the text.
        guard text.count < 50 else { return nil }
        var bits = 128
        if let slash = text.firstIndex(of: UInt8(ascii: "/")) {
            guard let n = strtonum(text[(slash + 1)...], in: 0...128) else { return nil }
            bits = Int(n)
            text = text[text.startIndex..<slash]
        }
        var v6 = in6_addr()
        let ok: Int32 = (Array(text) + [0]).withUnsafeBufferPointer { p in
            p.withMemoryRebound(to: CChar.self) { inet_pton(AF_INET6, $0.baseAddress, &v6) }
        }
        guard ok == 1 else { return nil }
        return NetworkAddress(family: .inet6, bytes: withUnsafeBytes(of: v6) { Array($0) }, prefixLength: bits)
    }
}

extension NetworkAddress {
    /// The prefix length written after `/` in an IPv4 entry, when it is not what smtpd's parser reads
    /// (outside 0...32, so glibc's inet_net_pton wrapped it): nil for every ordinary entry.
    static func overflowingPrefix(_ text: ArraySlice<UInt8>) -> String? {
        guard let slash = text.firstIndex(of: UInt8(ascii: "/")), let net = parse(text), net.family == .inet,
              strtonum(text[(slash + 1)...], in: 0...32) == nil else { return nil }
        return String(lossyBytes: text[(slash + 1)...])
    }
}

func hasPrefixIgnoringCase(_ s: ArraySlice<UInt8>, _ prefix: StaticString) -> Bool {
    let p = UnsafeRawBufferPointer(start: prefix.utf8Start, count: prefix.utf8CodeUnitCount)
    guard s.count >= p.count else { return false }
    return asciiCaseEqual(s.prefix(p.count), p)
}

/// upstream table.c `table_netaddr_match`: equal text (ignoring case), else the query address in the entry's
/// network, same family.
func netaddrMatches(query: ArraySlice<UInt8>, entry: ArraySlice<UInt8>) -> Bool {
    if asciiCaseEqual(query, entry) { return true }
    guard let q = NetworkAddress.parse(query), let e = NetworkAddress.parse(entry) else { return false }
    return e.contains(q)
}
