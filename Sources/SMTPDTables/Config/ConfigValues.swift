/// Small value checks of parse.y: delays, sizes, host names, ports, and the kind of a file table.
enum ConfigValues {
    /// parse.y `delaytonum`: digits then one unit of s, m, h or d; nil when invalid.
    static func delay(_ s: String) -> Int? {
        let b = Array(s.utf8)
        guard b.count >= 2, let unit = b.last else { return nil }
        let factor: Int
        switch unit {
        case UInt8(ascii: "s"): factor = 1
        case UInt8(ascii: "m"): factor = 60
        case UInt8(ascii: "h"): factor = 3600
        case UInt8(ascii: "d"): factor = 86400
        default: return nil
        }
        let digits = b.dropLast()
        // strtonum accepts an optional sign and leading spaces; the range check rejects 0 and negatives.
        guard let n = Int(trimmingBlanks(String(decoding: digits, as: UTF8.self)[...])),
              n >= 1, n <= Int(Int32.max) / factor
        else { return nil }
        return n * factor
    }

    /// scan_scaled(3): a number with an optional fraction and one unit of B K M G T P E; nil when invalid.
    static func scaled(_ s: String) -> Int64? {
        var b = Array(s.utf8)
        guard !b.isEmpty else { return nil }
        var scale: Int64 = 1
        if let last = b.last, !(last >= 48 && last <= 57) {
            switch last | 0x20 {
            case UInt8(ascii: "b"): scale = 1
            case UInt8(ascii: "k"): scale = 1 << 10
            case UInt8(ascii: "m"): scale = 1 << 20
            case UInt8(ascii: "g"): scale = 1 << 30
            case UInt8(ascii: "t"): scale = 1 << 40
            case UInt8(ascii: "p"): scale = 1 << 50
            case UInt8(ascii: "e"): scale = 1 << 60
            default: return nil
            }
            b.removeLast()
        }
        let text = String(decoding: b, as: UTF8.self)
        guard !text.isEmpty, text.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "." || $0 == "-" || $0 == "+") }),
              let v = Double(text), v >= 0
        else { return nil }
        let r = v * Double(scale)
        guard r < 9.2e18 else { return nil }
        return Int64(r)
    }

    /// res_hnok(3) as glibc has it (see `isHostName`).
    static func isHostName(_ s: String) -> Bool { SMTPDTables.isHostName(Array(s.utf8)) }

    /// A TCP service name known to this machine (getservbyname(3)).
    static func isServiceName(_ s: String) -> Bool {
        if let bytes = try? ConfigSource.read(path: "/etc/services") {
            for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
                let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
                guard fields.count >= 2, !fields[0].hasPrefix("#"), fields[1].hasSuffix("/tcp") else { continue }
                if fields[0] == s { return true }
                for alias in fields.dropFirst(2) {
                    if alias.hasPrefix("#") { break }
                    if alias == s { return true }
                }
            }
        }
        return false
    }

    /// The keys of `mta limit` (limit.c `limit_mta_set`).
    static let mtaLimits: Set<String> = [
        "max-conn-per-host", "max-conn-per-route", "max-conn-per-source", "max-conn-per-connector",
        "max-conn-per-relay", "max-conn-per-domain", "conn-delay-host", "conn-delay-route", "conn-delay-source",
        "conn-delay-connector", "conn-delay-relay", "conn-delay-domain", "reconn-delay-route", "session-mail-max",
        "session-transaction-delay", "session-keepalive", "max-failures-per-session", "task-hiwat", "task-lowat",
        "task-release",
    ]

    /// The kind smtpd gives a file table when its configuration is read (`table_config` loads it through
    /// util.c `parse_table_line`), from the library's own table reader and line parser; nil when the file
    /// cannot be read or does not parse.
    static func fileTableKind(path: String) -> TableKind? {
        guard var bytes = try? SystemFile.readRegular(path) else { return nil }
        return try? TableLineParser.parse(&bytes, path: path).kind
    }

    /// Foundation's `trimmingCharacters(in: .whitespaces)` in the standard library: trims tabs and Unicode
    /// space separators (category Zs), not line ends.
    static func trimmingBlanks(_ s: Substring) -> Substring {
        func isBlank(_ u: Unicode.Scalar) -> Bool { u == "\t" || u.properties.generalCategory == .spaceSeparator }
        let scalars = s.unicodeScalars
        guard let start = scalars.firstIndex(where: { !isBlank($0) }),
              let last = scalars.lastIndex(where: { !isBlank($0) })
        else { return "" }
        return Substring(scalars[start...last])
    }
}
