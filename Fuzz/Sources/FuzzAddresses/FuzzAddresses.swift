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
    // SRS decoding of any recipient, with a key, a backup key and the two ends of the ttl; an address that
    // decodes is one smtpd's text_to_mailaddr reads, and its own encoding decodes back to it.
    let bytes = Array(text.utf8)
    let keys = SRSKeys(key: Array("k".utf8), backupKey: Array("b".utf8), ttlDays: bytes.count % 2 == 0 ? 1 : 1023)
    for now: Int64 in [0, 1_780_000_000] {
        if let decoded = SRS.decode(bytes, keys: keys, now: now) {
            check(decoded.count < 2048, "decoded SRS address too long")
        }
    }
    // (Printable ASCII: what a client can send in RCPT TO.)
    if bytes.allSatisfy({ $0 > 0x20 && $0 < 0x7f }), let m = MailAddress(text), !m.domain.isEmpty, !m.user.isEmpty,
       !m.user.contains("@") {
        let encoded = SRS.encode(sender: text, forwarderDomain: "f.test", key: keys.key!, now: 1_780_000_000)
        if encoded.hasPrefix("SRS0="), let back = SRS.decode(Array(encoded.utf8), keys: keys, now: 1_780_000_000) {
            check(String(decoding: back, as: UTF8.self) == "\(m.user)@\(m.domain)" || m.domain.contains("="),
                  "SRS0 does not decode back to its sender")
        }
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
