/// A mail address as smtpd holds it: a user part and a domain part, either of which may be empty.
///
/// Parsed like upstream to.c `text_to_mailaddr`: split at the last `@`; `user` alone, `@domain`, `user@domain`
/// and `@` (both empty: the catch-all of a mailaddr table) are all valid.
public struct MailAddress: Hashable, Sendable, CustomStringConvertible {
    /// The part before the last `@` (empty for `@domain`).
    public var user: String
    /// The part after the last `@` (empty when there is none).
    public var domain: String

    /// An address from its parts, taken as given.
    public init(user: String, domain: String) {
        self.user = user
        self.domain = domain
    }

    /// Parses `text` as smtpd does; nil when a part is too long (255 bytes each, 2047 in all).
    public init?(_ text: String) {
        guard let parts = MailAddressBytes(Array(text.utf8)) else { return nil }
        user = String(lossyBytes: parts.user)
        domain = String(lossyBytes: parts.domain)
    }

    /// `user@domain`.
    public var description: String { "\(user)@\(domain)" }
}

/// The byte form used on lookup paths.
struct MailAddressBytes {
    var user: ArraySlice<UInt8>
    var domain: ArraySlice<UInt8>

    init(user: ArraySlice<UInt8>, domain: ArraySlice<UInt8>) {
        self.user = user
        self.domain = domain
    }

    init?(_ text: [UInt8]) { self.init(text[...]) }

    init?(_ text: ArraySlice<UInt8>) {
        // Limits of smtpd's buffers: LINE_MAX for the text, 256 bytes with the NUL for each part.
        guard text.count < 2048 else { return nil }
        if let at = text.lastIndex(of: UInt8(ascii: "@")) {
            user = text[text.startIndex..<at]
            domain = text[(at + 1)...]
        } else {
            user = text
            domain = []
        }
        guard user.count < 256, domain.count < 256 else { return nil }
    }

    /// upstream util.c `mailaddr_match`: does the query address `self` match the table entry `pattern`?
    func matches(pattern: MailAddressBytes, delimiter: UInt8) -> Bool {
        if pattern.user.isEmpty && pattern.domain.isEmpty { return true }
        if !pattern.domain.isEmpty {
            let ok = domain.withUnsafeBytes { h in
                pattern.domain.withUnsafeBytes { p in hostnameMatches(h, pattern: p) }
            }
            if !ok { return false }
        }
        if !pattern.user.isEmpty {
            var queryUser = user
            // An entry with a tag must be matched whole; otherwise the query's tag is ignored.
            if !pattern.user.contains(delimiter), let cut = queryUser.firstIndex(of: delimiter) {
                queryUser = queryUser[queryUser.startIndex..<cut]
            }
            if !asciiCaseEqual(queryUser, pattern.user) { return false }
        }
        return true
    }
}
