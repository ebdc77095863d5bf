/// Host names and domain parts as smtpd checks them: one implementation for addresses, relay hosts and the
/// config reader.

/// res_hnok(3) as glibc has it (Debian's smtpd uses it): dot-separated labels of 1 to 63 letters, digits, `-` and
/// `_`, the name not starting with `-`, at most 253 bytes (254 with a final dot, which is allowed). OpenBSD's
/// libc also wants letters or digits at both ends of every label.
func isHostName<C: Collection>(_ s: C) -> Bool where C.Element == UInt8 {
    let b = Array(s)
    guard !b.isEmpty, b.count <= 253 || (b.count == 254 && b.last == UInt8(ascii: ".")) else { return false }
    if b == [UInt8(ascii: ".")] { return true }
    if b[0] == UInt8(ascii: "-") { return false }
    var labels = b.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
    if labels.count > 1, labels.last?.isEmpty == true { labels.removeLast() }
    for label in labels {
        guard !label.isEmpty, label.count <= 63 else { return false }
        guard label.allSatisfy({ isASCIIAlnum($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") })
        else { return false }
    }
    return true
}

/// upstream util.c `valid_domainpart`: `[IPv6:addr]` / `[addr]` literals, else a host name as res_hnok(3)
/// accepts it, under 256 bytes and without a final dot.
func isValidDomainPart<C: Collection>(_ s: C) -> Bool where C.Element == UInt8 {
    let b = Array(s)
    if b.first == UInt8(ascii: "[") {
        var inner = b[1...]
        if hasPrefixIgnoringCase(b[...], "[ipv6:") { inner = b[6...] }
        guard inner.count < 256, let close = inner.firstIndex(of: UInt8(ascii: "]")),
              close == inner.endIndex - 1 else { return false }
        let text = String(lossyBytes: inner[inner.startIndex..<close])
        return SocketAddress(text) != nil && !text.contains("%") && !text.contains("[")
    }
    guard !b.isEmpty, b.count < 256, b.last != UInt8(ascii: ".") else { return false }
    return isHostName(b)
}
