/// A relay destination as `relay host` and relayhost tables give it: `[scheme://][label@]host[:port]`.
///
/// Read like upstream to.c `text_to_relayhost`: schemes smtp (opportunistic TLS, port 25), smtp+tls (STARTTLS
/// required), smtp+notls, lmtp (port required), smtps (465); no scheme means smtp; an unknown `xxx://` is
/// refused; a label (credentials name) only with smtp+tls or smtps; the host is a valid domain or `[address]`.
public struct RelayHost: Hashable, Sendable {
    /// How smtpd talks to the relay; the raw value is the URL scheme as written.
    public enum Scheme: String, Sendable, CaseIterable {
        case smtp, smtpTLS = "smtp+tls", smtpNoTLS = "smtp+notls", lmtp, smtps
    }

    /// The scheme (`smtp` when none was written).
    public var scheme: Scheme
    /// The credentials label before `@` (a key of the action's `auth` table), if any.
    public var authLabel: String?
    /// The host name, or the address in brackets.
    public var host: String
    /// The port: the one written, else the scheme's default.
    public var port: Int

    /// Parses `text` as smtpd does; throws `.invalidValue` when smtpd would refuse it.
    public init(_ text: String) throws(TableError) {
        let s = Array(text.utf8)
        guard s.count < 1024 else { throw TableError(.invalidValue, "relay host too long") }
        var rest = s[...]
        var found: Scheme?
        for scheme in Scheme.allCases {
            let prefix = Array((scheme.rawValue + "://").utf8)
            if rest.count >= prefix.count, asciiCaseEqual(rest.prefix(prefix.count), prefix) {
                found = scheme
                rest = rest.dropFirst(prefix.count)
                break
            }
        }
        if found == nil, text.contains("://") {
            throw TableError(.invalidValue, "unknown relay scheme in '\(text)'")
        }
        scheme = found ?? .smtp
        switch scheme {
        case .smtp, .smtpTLS, .smtpNoTLS: port = 25
        case .lmtp: port = 0
        case .smtps: port = 465
        }
        if let at = rest.firstIndex(of: UInt8(ascii: "@")) {
            authLabel = String(lossyBytes: rest[rest.startIndex..<at])
            rest = rest[(at + 1)...]
        }
        var hostEnd = rest.startIndex
        if rest.first == UInt8(ascii: "[") {
            guard let close = rest.firstIndex(of: UInt8(ascii: "]")) else {
                throw TableError(.invalidValue, "missing ']' in relay host '\(text)'")
            }
            hostEnd = close + 1
        } else {
            while hostEnd < rest.endIndex, isASCIIAlnum(rest[hostEnd]) || rest[hostEnd] == UInt8(ascii: "_")
                    || rest[hostEnd] == UInt8(ascii: ".") || rest[hostEnd] == UInt8(ascii: "-") {
                hostEnd += 1
            }
        }
        let hostBytes = rest[rest.startIndex..<hostEnd]
        // smtpd keeps the name in a HOST_NAME_MAX+1 buffer: 64 bytes at most on Linux (glibc), where the
        // Debian build we match runs.
        guard hostBytes.count <= hostNameMax else {
            throw TableError(.invalidValue, "relay host name too long (\(hostNameMax) bytes at most)")
        }
        host = String(lossyBytes: hostBytes)
        if hostEnd < rest.endIndex, rest[hostEnd] == UInt8(ascii: ":") {
            guard let n = strtonum(rest[(hostEnd + 1)...], in: 1...65535) else {
                throw TableError(.invalidValue, "invalid port in relay host '\(text)'")
            }
            port = Int(n)
        }
        guard isValidDomainPart(hostBytes) else {
            throw TableError(.invalidValue, "invalid relay host name '\(host)'")
        }
        if scheme == .lmtp && port == 0 { throw TableError(.invalidValue, "lmtp relay needs a port") }
        if let label = authLabel, !label.isEmpty, scheme != .smtpTLS && scheme != .smtps {
            throw TableError(.invalidValue, "an auth label needs smtp+tls:// or smtps://")
        }
        if authLabel?.isEmpty == true { authLabel = nil }
    }
}

/// HOST_NAME_MAX on Linux (glibc); OpenBSD's is 255.
let hostNameMax = 64

