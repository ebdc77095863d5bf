/// A crypt(3) method that `PasswordHasher` can make new hashes with.
///
/// These are the methods both smtpd (through crypt(3)) and Dovecot (`{CRYPT}` and friends) can check.
/// md5-crypt (`$1$`) and DES are only ever verified, never produced.
public enum PasswordScheme: String, CaseIterable, Sendable {
    /// bcrypt, `$2b$NN$`: Dovecot's BLF-CRYPT. The default, as in the seed setup (`scheme=blf-crypt`).
    case bcrypt
    /// sha512-crypt, `$6$[rounds=N$]`: Dovecot's SHA512-CRYPT.
    case sha512
    /// sha256-crypt, `$5$[rounds=N$]`: Dovecot's SHA256-CRYPT.
    case sha256
    /// yescrypt, `$y$`: Debian's default for /etc/shadow; Dovecot checks it only as `{CRYPT}`.
    case yescrypt

    /// The crypt(3) prefix that selects the method.
    public var prefix: String {
        switch self {
        case .bcrypt: return "$2b$"
        case .sha512: return "$6$"
        case .sha256: return "$5$"
        case .yescrypt: return "$y$"
        }
    }

    /// The cost used when none is given: bcrypt 10 (log2 rounds), sha-crypt 5000 rounds, yescrypt 5.
    public var defaultRounds: Int {
        switch self {
        case .bcrypt: return 10
        case .sha512, .sha256: return 5000
        case .yescrypt: return 5
        }
    }

    /// The costs libcrypt accepts for this method (`--rounds`): bcrypt 4...31, sha-crypt
    /// 1000...999999999, yescrypt 1...11.
    public var roundsRange: ClosedRange<Int> {
        switch self {
        case .bcrypt: return 4...31
        case .sha512, .sha256: return 1000...999_999_999
        case .yescrypt: return 1...11
        }
    }

    /// The name Dovecot gives a hash of this method in a `{SCHEME}` prefix (for the tests that check our hashes
    /// with doveadm; nothing in the library writes the prefix).
    var dovecotName: String {
        switch self {
        case .bcrypt: return "BLF-CRYPT"
        case .sha512: return "SHA512-CRYPT"
        case .sha256: return "SHA256-CRYPT"
        case .yescrypt: return "CRYPT"
        }
    }
}
