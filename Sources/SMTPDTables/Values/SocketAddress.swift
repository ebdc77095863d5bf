#if canImport(Glibc)
import Glibc
#endif

/// A single IP address, as the source and addrname services read it (upstream table.c `parse_sockaddr`):
/// IPv4 dotted quad, else IPv6 with optional `[`, `IPv6:` prefix, `]` and `%scope`.
public struct SocketAddress: Hashable, Sendable, CustomStringConvertible {
    /// IPv4 or IPv6.
    public var family: NetworkAddress.Family
    /// 4 or 16 address bytes in network order.
    public var bytes: [UInt8]
    /// The IPv6 scope (`%scope`, an interface index), 0 when none.
    public var scopeID: UInt32

    /// Parses `text` as smtpd does; nil when smtpd would not accept it.
    public init?(_ text: String) {
        let s = Array(text.utf8)
        guard !s.contains(0) else { return nil }
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            family = .inet
            bytes = withUnsafeBytes(of: v4.s_addr) { Array($0) }
            scopeID = 0
            return
        }
        var rest = s[...]
        if rest.first == UInt8(ascii: "[") { rest = rest.dropFirst() }
        if hasPrefixIgnoringCase(rest, "ipv6:") { rest = rest.dropFirst(5) }
        guard rest.count < 1025 else { return nil }
        if let close = rest.firstIndex(of: UInt8(ascii: "]")) { rest = rest[rest.startIndex..<close] }
        var scope: ArraySlice<UInt8>?
        if let pct = rest.firstIndex(of: UInt8(ascii: "%")) {
            scope = rest[(pct + 1)...]
            rest = rest[rest.startIndex..<pct]
        }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, String(lossyBytes: rest), &v6) == 1 else { return nil }
        family = .inet6
        bytes = withUnsafeBytes(of: v6) { Array($0) }
        scopeID = 0
        if let scope {
            let linkLocal = bytes[0] == 0xFE && (bytes[1] & 0xC0) == 0x80
            let multicastLocal = bytes[0] == 0xFF && ((bytes[1] & 0x0F) == 0x02 || (bytes[1] & 0x0F) == 0x01)
            if linkLocal || multicastLocal {
                let index = if_nametoindex(String(lossyBytes: scope))
                if index != 0 { scopeID = index; return }
            }
            guard let n = strtonum(scope, in: 0...Int64(UInt32.max)) else { return nil }
            scopeID = UInt32(n)
        }
    }

    /// The address in its usual text form, without a scope (`192.0.2.1`, `2001:db8::1`).
    public var description: String {
        NetworkAddress(family: family, bytes: bytes, prefixLength: family == .inet ? 32 : 128)
            .description.split(separator: "/").first.map(String.init) ?? ""
    }
}
