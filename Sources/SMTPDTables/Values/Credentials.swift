/// A user name and a password (for listener tables: a crypt(3) hash), as smtpd reads a credentials value.
///
/// upstream table.c K_CREDENTIALS: `user:password` splits at the first colon, so everything after it, including
/// any further colons such as Dovecot's trailing `::::::` fields, is the password; a value with no colon is
/// the password alone and the key is the user.
public struct Credentials: Hashable, Sendable {
    public var username: String
    public var password: String

    public init(username: String, password: String) {
        self.username = username
        self.password = password
    }

    /// Reads a credentials value found under `key`; throws when smtpd would refuse it.
    public init(key: String, value: String) throws(TableError) {
        let v = Array(value.utf8)
        guard v.count >= 3 else { throw TableError(.invalidValue, "credentials value too short (3 bytes at least)") }
        guard v.count < 2048 else { throw TableError(.invalidValue, "credentials value too long (2047 bytes at most)") }
        guard let colon = v.firstIndex(of: UInt8(ascii: ":")) else {
            username = key
            password = value
            return
        }
        guard colon != 0, colon != v.count - 1 else {
            throw TableError(.invalidValue, "credentials value has an empty user or password")
        }
        username = String(lossyBytes: v[..<colon])
        password = String(lossyBytes: v[(colon + 1)...])
    }
}
