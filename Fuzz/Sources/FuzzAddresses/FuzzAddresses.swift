import SMTPDTables

/// Mail addresses, network addresses and socket addresses (upstream to.c `text_to_mailaddr`,
/// `text_to_netaddr`, table.c `parse_sockaddr`) on any text.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAddresses(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    if let m = MailAddress(text) {
        check(m.user.utf8.count < 256 && m.domain.utf8.count < 256, "mail address part too long")
        _ = m.description
    }
    if let n = NetworkAddress(text) {
        let width = n.family == .inet ? 4 : 16
        check(n.bytes.count == width, "address of the wrong width")
        // glibc's inet_net_pton can return a negative IPv4 length (an overflowing "/bits"), which smtpd, and
        // so the library, reads as /0; anything else stays within the family's width.
        check(n.prefixLength <= width * 8 && (n.prefixLength >= 0 || n.family == .inet), "prefix length out of range")
        check(n.contains(n), "a network does not contain itself")
        let again = NetworkAddress(n.description)
        check(again != nil || n.prefixLength < 0, "the description of a network does not parse: \(n.description)")
    }
    if let s = SocketAddress(text) {
        check(s.bytes.count == (s.family == .inet ? 4 : 16), "address of the wrong width")
        check(SocketAddress(s.description) != nil, "the description of an address does not parse")
    }
    return 0
}
