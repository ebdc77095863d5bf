/// What smtpd's `auth <table>` makes of a credentials value (lka.c: `crypt_checkpass` on the stored text), for
/// `verify` and `check`.
extension Credentials {
    /// Whether smtpd would let `password` in: `crypt_checkpass(password, passwordBytes)`.
    public func accepts(password: [UInt8]) -> Bool {
        PasswordHasher.verify(password, against: passwordBytes)
    }

    /// `accepts(password:)` for text.
    public func accepts(password: String) -> Bool { accepts(password: Array(password.utf8)) }

    /// The analysis of the text smtpd checks passwords against.
    public var analysis: HashAnalysis { HashAnalysis(passwordBytes) }

    /// What will go wrong with this value in smtpd's `auth <table>`, in words, for `check`.
    /// Empty when smtpd can check passwords against it. No message quotes the value.
    /// Weakness is not a problem here: see `analysis.isWeak` and `analysis.notes`.
    public var problems: [String] {
        var out: [String] = []
        let a = analysis
        if hadUsername, passwordBytes.contains(UInt8(ascii: ":")) || usernameBytes.first == UInt8(ascii: "$")
            || usernameBytes.first == UInt8(ascii: "{")
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
