/// smtpd's Sender Rewriting Scheme keys (`srs key`, `srs key backup`, `srs ttl`). The secrets are kept as
/// bytes and never printed.
public struct SRSKeys: Sendable, Equatable, CustomStringConvertible {
    public var key: [UInt8]?
    public var backupKey: [UInt8]?
    /// How many days an SRS address stays valid (`srs ttl`, in whole days; smtpd's default is the queue's
    /// 4-day expiry).
    public var ttlDays = 4

    public init(key: [UInt8]? = nil, backupKey: [UInt8]? = nil, ttlDays: Int = 4) {
        self.key = key
        self.backupKey = backupKey
        self.ttlDays = ttlDays
    }

    public var description: String {
        "SRSKeys(key: \(key == nil ? "none" : "set"), backup: \(backupKey == nil ? "none" : "set"), ttl: \(ttlDays)d)"
    }
}

/// SRS as smtpd writes and reads it (upstream srs.c): `SRS0=HHHH=TT=domain=user@forwarder` for a sender
/// rewritten once, `SRS1=HHHH=first-forwarder==HHHH=TT=domain=user@forwarder` for one rewritten again, HHHH
/// the first four characters of the URL-safe base64 of SHA-1(key, the rest of the address), TT the day
/// number modulo 1024 in base 32.
public enum SRS {
    static let base32 = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".utf8)

    /// The day number modulo 1024, as smtpd stamps addresses.
    static func timestamp(now: Int64) -> UInt16 { UInt16((now / 86400) % 1024) }

    /// `srs_encode`: the address smtpd puts in `MAIL FROM` when it forwards mail from `sender` to a recipient
    /// at `forwarderDomain`. Returns `sender` unchanged where smtpd does.
    public static func encode(sender: String, forwarderDomain: String, key: [UInt8], now: Int64) -> String {
        let bytes = Array(sender.utf8)
        if hasPrefix(bytes, "SRS0=") || hasPrefix(bytes, "SRS1=") {
            let rest = Array(bytes.dropFirst(5))
            guard let m = MailAddressBytes(rest) else { return sender }
            var tmp: [UInt8]
            if hasPrefix(bytes, "SRS0=") {
                tmp = Array(m.domain) + Array("==".utf8) + Array(m.user) + [UInt8(ascii: "@")] + Array(forwarderDomain.utf8)
            } else {
                // An SRS1 address keeps the first forwarder's part, without the previous hop's hash.
                let full = Array(m.user) + [UInt8(ascii: "@")] + Array(forwarderDomain.utf8)
                guard full.count >= 5, [UInt8(ascii: "="), UInt8(ascii: "+"), UInt8(ascii: "-")].contains(full[4])
                else { return sender }
                tmp = Array(full.dropFirst(5))
            }
            return "SRS1=" + hash(key, tmp) + "=" + String(decoding: tmp, as: UTF8.self)
        }
        guard let m = MailAddressBytes(bytes) else { return sender }
        let t = timestamp(now: now)
        var tmp = [base32[Int((t >> 5) & 0x1f)], base32[Int(t & 0x1f)], UInt8(ascii: "=")]
        tmp += Array(m.domain) + [UInt8(ascii: "=")] + Array(m.user) + [UInt8(ascii: "@")] + Array(forwarderDomain.utf8)
        return "SRS0=" + hash(key, tmp) + "=" + String(decoding: tmp, as: UTF8.self)
    }

    /// `srs_decode`: the address an SRS recipient stands for (for SRS1, the SRS0 address at the previous
    /// forwarder), or nil when the hash matches neither key or the timestamp is outside the ttl.
    public static func decode(_ address: [UInt8], keys: SRSKeys, now: Int64) -> [UInt8]? {
        guard let key = keys.key else { return nil }
        if hasPrefix(address, "SRS0=") { return decodeSRS0(Array(address.dropFirst(5)), key, keys, now) }
        if hasPrefix(address, "SRS1=") { return decodeSRS1(Array(address.dropFirst(5)), key, keys, now) }
        return nil
    }

    /// Whether `user` starts as smtpd tries to decode (`SRS0=` or `SRS1=`, any case).
    static func looksEncoded(_ user: [UInt8]) -> Bool { hasPrefix(user, "SRS0=") || hasPrefix(user, "SRS1=") }

    private static func decodeSRS0(_ rcpt: [UInt8], _ key: [UInt8], _ keys: SRSKeys, _ now: Int64) -> [UInt8]? {
        guard rcpt.count >= 5, hashMatches(rcpt, key, keys.backupKey) else { return nil }
        let rest = Array(rcpt.dropFirst(5))
        guard rest.count >= 3, let stamp = decodeTimestamp(rest[0], rest[1]), fresh(stamp, now, keys.ttlDays),
              let m = MailAddressBytes(Array(rest.dropFirst(3))),
              let eq = m.user.firstIndex(of: UInt8(ascii: "=")) else { return nil }
        let dest = Array(m.user[(eq + 1)...]) + [UInt8(ascii: "@")] + Array(m.user[..<eq])
        return dest.count < 2048 ? dest : nil
    }

    private static func decodeSRS1(_ rcpt: [UInt8], _ key: [UInt8], _ keys: SRSKeys, _ now: Int64) -> [UInt8]? {
        guard rcpt.count >= 5, hashMatches(rcpt, key, keys.backupKey),
              let m = MailAddressBytes(Array(rcpt.dropFirst(5))),
              let eq = m.user.firstIndex(of: UInt8(ascii: "=")) else { return nil }
        let p = Array(m.user[(eq + 1)...])
        let dest = Array("SRS0".utf8) + p + [UInt8(ascii: "@")] + Array(m.user[..<eq])
        guard dest.count < 2048 else { return nil }
        // The SRS0 part's own hash cannot be checked here; its timestamp can.
        guard p.count >= 6 else { return nil }
        let t = Array(p.dropFirst(6))
        guard t.count >= 3, [UInt8(ascii: "="), UInt8(ascii: "+"), UInt8(ascii: "-")].contains(t[2]),
              let stamp = decodeTimestamp(t[0], t[1]), fresh(stamp, now, keys.ttlDays) else { return nil }
        return dest
    }

    /// strncmp(md, rcpt, 4): the first four characters of the hash of everything after `HHHH=`.
    private static func hashMatches(_ rcpt: [UInt8], _ key: [UInt8], _ backup: [UInt8]?) -> Bool {
        let signed = Array(rcpt.dropFirst(5))
        let given = Array(rcpt.prefix(4))
        if Array(hash(key, signed).utf8) == given { return true }
        if let backup, Array(hash(backup, signed).utf8) == given { return true }
        return false
    }

    private static func decodeTimestamp(_ a: UInt8, _ b: UInt8) -> UInt16? {
        guard let hi = base32.firstIndex(of: a), let lo = base32.firstIndex(of: b) else { return nil }
        return UInt16(hi << 5 | lo)
    }

    /// srs.c `timestamp_check_range`: at most `ttl` days old, or one day ahead, modulo 1024.
    private static func fresh(_ stamp: UInt16, _ now: Int64, _ ttl: Int) -> Bool {
        let today = Int(timestamp(now: now)), t = Int(stamp)
        if today == t { return true }
        let older: Bool
        if today > ttl { older = t <= today && t >= today - ttl } else { older = t <= today || t >= 1024 - (ttl - today) }
        let newer: Bool
        if today + 1 < 1024 { newer = t >= today && t <= today + 1 } else { newer = t >= today || t <= (today + 1) % 1024 }
        return older || newer
    }

    /// The first four characters of base64 (`-` and `_` for `+` and `/`) of SHA-1(key || value).
    static func hash(_ key: [UInt8], _ value: [UInt8]) -> String {
        let digest = SHA1.digest(key + value)
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        // Four base64 characters are the first 24 bits.
        let bits = UInt32(digest[0]) << 16 | UInt32(digest[1]) << 8 | UInt32(digest[2])
        let chars = (0..<4).map { alphabet[Int((bits >> (18 - 6 * UInt32($0))) & 0x3f)] }
        return String(decoding: chars, as: UTF8.self)
    }

    /// strncasecmp(bytes, prefix, n) == 0.
    private static func hasPrefix(_ bytes: [UInt8], _ prefix: String) -> Bool {
        let p = Array(prefix.utf8)
        return bytes.count >= p.count && asciiCaseEqual(bytes.prefix(p.count), p)
    }
}

/// SHA-1 (FIPS 180-4), for SRS's hashes only: smtpd signs SRS addresses with it.
enum SHA1 {
    static func digest(_ message: [UInt8]) -> [UInt8] {
        var h: [UInt32] = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0]
        var m = message
        let bitLength = UInt64(message.count) * 8
        m.append(0x80)
        while m.count % 64 != 56 { m.append(0) }
        for i in (0..<8).reversed() { m.append(UInt8(truncatingIfNeeded: bitLength >> (UInt64(i) * 8))) }
        var w = [UInt32](repeating: 0, count: 80)
        for chunk in stride(from: 0, to: m.count, by: 64) {
            for i in 0..<16 {
                let j = chunk + 4 * i
                w[i] = UInt32(m[j]) << 24 | UInt32(m[j + 1]) << 16 | UInt32(m[j + 2]) << 8 | UInt32(m[j + 3])
            }
            for i in 16..<80 { w[i] = rotl(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1) }
            var a = h[0], b = h[1], c = h[2], d = h[3], e = h[4]
            for i in 0..<80 {
                let f: UInt32, k: UInt32
                switch i {
                case 0..<20: f = (b & c) | (~b & d); k = 0x5A827999
                case 20..<40: f = b ^ c ^ d; k = 0x6ED9EBA1
                case 40..<60: f = (b & c) | (b & d) | (c & d); k = 0x8F1BBCDC
                default: f = b ^ c ^ d; k = 0xCA62C1D6
                }
                let t = rotl(a, 5) &+ f &+ e &+ k &+ w[i]
                e = d; d = c; c = rotl(b, 30); b = a; a = t
            }
            h[0] &+= a; h[1] &+= b; h[2] &+= c; h[3] &+= d; h[4] &+= e
        }
        return h.flatMap { v in (0..<4).map { UInt8(truncatingIfNeeded: v >> (24 - 8 * UInt32($0))) } }
    }

    private static func rotl(_ x: UInt32, _ n: UInt32) -> UInt32 { x << n | x >> (32 - n) }
}
