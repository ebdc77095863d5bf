/// Makes and checks crypt(3) password hashes, as `smtpctl encrypt` and smtpd's `crypt_checkpass` do.
///
/// Salts come from the system's entropy source (`crypt_gensalt_rn` with no caller bytes); hashing uses
/// `crypt_rn` with a private buffer, so every function here is thread-safe. No error message ever
/// contains a password or a hash.
public enum PasswordHasher {
    /// A new hash of `password` with `scheme` and `rounds` (nil: the scheme's `defaultRounds`).
    ///
    /// Throws `TableError` kind `.usage` for a cost outside `scheme.roundsRange`, `.invalidValue` for a
    /// password that crypt(3) cannot take (one with a NUL byte).
    public static func hash(_ password: [UInt8], scheme: PasswordScheme = .bcrypt, rounds: Int? = nil)
        throws(TableError) -> String
    {
        let cost = rounds ?? scheme.defaultRounds
        guard scheme.roundsRange.contains(cost) else {
            throw TableError(.usage, "\(scheme.rawValue): rounds must be between \(scheme.roundsRange.lowerBound) and \(scheme.roundsRange.upperBound)")
        }
        if password.contains(0) {
            throw TableError(.invalidValue, "a password cannot contain a NUL byte")
        }
        guard let setting = CryptLibrary.gensalt(prefix: scheme.prefix, count: UInt(cost)) else {
            throw TableError(.usage, "\(scheme.rawValue): this system's crypt(3) cannot make such hashes")
        }
        guard let out = CryptLibrary.crypt(password, setting: Array(setting.utf8)),
              out.starts(with: Array(scheme.prefix.utf8))
        else {
            throw TableError(.usage, "\(scheme.rawValue): crypt(3) failed")
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `hash(_:scheme:rounds:)` for a password given as text (its UTF-8 bytes are hashed).
    public static func hash(_ password: String, scheme: PasswordScheme = .bcrypt, rounds: Int? = nil)
        throws(TableError) -> String
    {
        try hash(Array(password.utf8), scheme: scheme, rounds: rounds)
    }

    /// Whether `password` matches `hash`, exactly as smtpd's `crypt_checkpass(3)` decides: crypt(3) of the
    /// password with the whole `hash` as the setting must give `hash` back (compared in constant time);
    /// an empty hash matches only the empty password; a setting crypt(3) refuses matches nothing.
    public static func verify(_ password: [UInt8], against hash: [UInt8]) -> Bool {
        if hash.isEmpty { return password.isEmpty }
        guard let out = CryptLibrary.crypt(password, setting: hash) else { return false }
        return constantTimeEquals(out, hash)
    }

    /// `verify(_:against:)` for text.
    public static func verify(_ password: String, against hash: String) -> Bool {
        verify(Array(password.utf8), against: Array(hash.utf8))
    }

    /// Compares two byte strings in time that depends only on their lengths, never on their contents.
    static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var diff = UInt(bitPattern: a.count ^ b.count)
        let n = Swift.max(a.count, b.count)
        var i = 0
        while i < n {
            let x: UInt8 = i < a.count ? a[i] : 0
            let y: UInt8 = i < b.count ? b[i] : 0
            diff |= UInt(x ^ y)
            i += 1
        }
        return diff == 0
    }
}
