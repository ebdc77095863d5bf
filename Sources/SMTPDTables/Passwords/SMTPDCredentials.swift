/// A `credentials` table value as smtpd reads it (table.c, `K_CREDENTIALS`), and whether smtpd's
/// `auth <table>` would accept a password with it (lka.c: `crypt_checkpass` on the stored text).
///
/// The value is `user:password`, split at the FIRST colon, or, when it has no colon, the whole value is
/// the password and the lookup key is the user. For listener authentication smtpd looks the user up by
/// key and hands everything after that first colon to crypt(3). So a Dovecot passwd-file line
/// `user:HASH:uid:gid::home::` read as a file table (key `user`, value `HASH:uid:gid::home::`) makes
/// smtpd take HASH as a user name and `uid:gid::home::` as the "hash": no password can match.
public struct SMTPDCredentials: Sendable, Equatable {
    /// The user name smtpd takes from the value, or the key when the value has no colon.
    public var username: [UInt8]
    /// The text smtpd hands to crypt(3) as the stored hash.
    public var storedHash: [UInt8]
    /// Whether the value had the `user:password` form (a colon) rather than the bare password form.
    public var hadUsername: Bool

    /// smtpd's `LINE_MAX` on glibc: values this long or longer are refused.
    public static let lineMax = 2048

    /// Parses `value`, looked up under `key`, with table.c's rules. Throws `TableError(.invalidValue)`
    /// where smtpd's lookup fails: a value shorter than 3 bytes or of `LINE_MAX` bytes or more, a colon
    /// first or last, a user name that does not fit. The message never quotes the value.
    public init(key: [UInt8], value: [UInt8]) throws(TableError) {
        if value.count < 3 {
            throw TableError(.invalidValue, "credentials value is shorter than 3 characters")
        }
        if value.count >= SMTPDCredentials.lineMax {
            throw TableError(.invalidValue, "credentials value is too long for smtpd")
        }
        guard let colon = value.firstIndex(of: UInt8(ascii: ":")) else {
            if key.count >= SMTPDCredentials.lineMax {
                throw TableError(.invalidValue, "credentials key is too long for smtpd")
            }
            username = key
            storedHash = value
            hadUsername = false
            return
        }
        if colon == value.startIndex || colon == value.index(before: value.endIndex) {
            throw TableError(.invalidValue, "credentials value starts or ends with ':'")
        }
        username = Array(value[..<colon])
        storedHash = Array(value[value.index(after: colon)...])
        hadUsername = true
    }

    /// `init(key:value:)` for text.
    public init(key: String, value: String) throws(TableError) {
        try self.init(key: Array(key.utf8), value: Array(value.utf8))
    }

    /// Whether smtpd would let `password` in: `crypt_checkpass(password, storedHash)`.
    public func accepts(password: [UInt8]) -> Bool {
        PasswordHasher.verify(password, against: storedHash)
    }

    /// `accepts(password:)` for text.
    public func accepts(password: String) -> Bool { accepts(password: Array(password.utf8)) }

    /// The analysis of the text smtpd checks passwords against.
    public var analysis: HashAnalysis { HashAnalysis(storedHash) }

    /// What will go wrong with this value in smtpd's `auth <table>`, in words, for `check`.
    /// Empty when smtpd can check passwords against it. No message quotes the value.
    /// Weakness is not a problem here: see `analysis.isWeak` and `analysis.notes`.
    public var problems: [String] {
        var out: [String] = []
        let a = analysis
        if hadUsername, storedHash.contains(UInt8(ascii: ":")) || username.first == UInt8(ascii: "$")
            || username.first == UInt8(ascii: "{")
        {
            out.append("the value has extra ':' fields (Dovecot passwd-file style): smtpd splits it at the first ':' "
                + "and checks passwords against the rest, which is not a hash; no password will match")
            return out
        }
        if let scheme = a.dovecotScheme {
            out.append("the hash has a {\(scheme)} prefix: crypt(3) cannot use it, so smtpd refuses every password "
                + "(remove the prefix and give Dovecot a default scheme instead)")
            return out
        }
        switch a.format {
        case .plainText:
            out.append("this is not a crypt(3) hash (clear text?): smtpd compares crypt(3) output, so no password will match")
        case .empty:
            out.append("no password is set")
        case .locked:
            out.append("the account is locked: no password will match")
        case .unknown:
            out.append("unknown hash format: " + a.notes.joined(separator: "; "))
        default:
            if !a.cryptCanVerify {
                out.append("this system's crypt(3) cannot check \(a.format.rawValue) hashes")
            }
        }
        return out
    }
}

extension Credentials {
    /// Whether smtpd would let `password` in with these credentials: `crypt_checkpass(password, self.password)`.
    public func accepts(password candidate: String) -> Bool {
        PasswordHasher.verify(Array(candidate.utf8), against: Array(password.utf8))
    }
}
