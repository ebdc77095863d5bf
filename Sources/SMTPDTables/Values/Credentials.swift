/// A `credentials` table value as smtpd reads it (table.c, `K_CREDENTIALS`): a user name and a password, for a
/// listener's `auth <table>` the crypt(3) hash smtpd checks passwords against.
///
/// The value is `user:password`, split at the FIRST colon, so everything after it, including any further colons
/// such as Dovecot's trailing `:uid:gid::home::` fields, is the password. A value with no colon is the password
/// alone, and the key is the user. So a Dovecot passwd-file line `user:HASH:uid:gid::home::` read as a file table
/// (key `user`, value `HASH:uid:gid::home::`) makes smtpd take HASH as the user name and `uid:gid::home::` as the
/// hash: no password can match (`problems` says so).
public struct Credentials: Hashable, Sendable {
    /// The user name: the value's bytes before its first colon, or the key when the value has no colon.
    public var usernameBytes: [UInt8]
    /// The password: the value's bytes after its first colon, or the whole value when it has no colon.
    public var passwordBytes: [UInt8]
    /// Whether the value had the `user:password` form (a colon) rather than the bare password form.
    public var hadUsername: Bool

    /// `usernameBytes` as text (invalid UTF-8 replaced).
    public var username: String { String(lossyBytes: usernameBytes) }
    /// `passwordBytes` as text (invalid UTF-8 replaced).
    public var password: String { String(lossyBytes: passwordBytes) }

    /// smtpd's `LINE_MAX` on glibc: values this long or longer are refused.
    public static let lineMax = 2048

    /// Whether a table value looks like a password or a hash: a crypt(3) hash (`$...`), a `{SCHEME}` password,
    /// or a `user:password` pair (a colon inside one word). Messages about such values never quote them.
    public static func looksSecret(_ value: ArraySlice<UInt8>) -> Bool {
        guard let first = value.first else { return false }
        if first == UInt8(ascii: "$") || first == UInt8(ascii: "{") { return true }
        let word = !value.contains { $0 == 0x20 || $0 == 0x09 || $0 == UInt8(ascii: ",") }
        return word && value.dropFirst().contains(UInt8(ascii: ":"))
    }

    /// Credentials as given.
    public init(username: String, password: String, hadUsername: Bool = true) {
        usernameBytes = Array(username.utf8)
        passwordBytes = Array(password.utf8)
        self.hadUsername = hadUsername
    }

    /// Reads a credentials value found under `key` with table.c's rules. Throws `TableError(.invalidValue)` where
    /// smtpd's lookup fails: a value shorter than 3 bytes or of `lineMax` bytes or more, a colon first or last, a
    /// user name that does not fit. The message never quotes the value.
    public init(key: [UInt8], value: [UInt8]) throws(TableError) {
        if value.count < 3 {
            throw TableError(.invalidValue, "credentials value is shorter than 3 characters")
        }
        if value.count >= Credentials.lineMax {
            throw TableError(.invalidValue, "credentials value is too long for smtpd")
        }
        guard let colon = value.firstIndex(of: UInt8(ascii: ":")) else {
            if key.count >= Credentials.lineMax {
                throw TableError(.invalidValue, "credentials key is too long for smtpd")
            }
            usernameBytes = key
            passwordBytes = value
            hadUsername = false
            return
        }
        if colon == value.startIndex || colon == value.index(before: value.endIndex) {
            throw TableError(.invalidValue, "credentials value starts or ends with ':'")
        }
        usernameBytes = Array(value[..<colon])
        passwordBytes = Array(value[value.index(after: colon)...])
        hadUsername = true
    }

    /// `init(key:value:)` for text.
    public init(key: String, value: String) throws(TableError) {
        try self.init(key: Array(key.utf8), value: Array(value.utf8))
    }
}
