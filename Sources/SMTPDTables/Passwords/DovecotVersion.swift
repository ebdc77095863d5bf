/// The Dovecot release whose passwd-file passdb is reproduced (for the password file smtpd and Dovecot
/// share). 2.3 and 2.4 read the same lines; 2.4 refuses weak password schemes unless
/// `auth_allow_weak_schemes = yes`, and has a new configuration syntax (DovecotConfig).
public enum DovecotVersion: String, Sendable, CaseIterable, Comparable, CustomStringConvertible {
    case v2_3 = "2.3"
    case v2_4 = "2.4"

    public var description: String { rawValue }

    public static func < (a: DovecotVersion, b: DovecotVersion) -> Bool { a.rawValue < b.rawValue }

    /// `2.3`, `2.4`, or a release string such as `2.3.19.1 (9b53102964)` or `2.4.1-4 (7d8c0e5759)`.
    public init?(_ text: String) {
        let release = text.prefix { $0 != " " }
        let parts = release.split(separator: ".", maxSplits: 2)
        guard parts.count >= 2, let v = DovecotVersion(rawValue: "\(parts[0]).\(parts[1].prefix { $0.isNumber })")
        else { return nil }
        self = v
    }

    /// The version `dovecot --version` prints, when Dovecot is installed.
    public static func installed() -> DovecotVersion? {
        guard let dovecot = SMTPDVersion.findProgram("dovecot"),
              let out = SMTPDVersion.runCapturingOutput(dovecot, ["--version"]) else { return nil }
        return DovecotVersion(String(decoding: out.prefix { $0 != 0x0A }, as: UTF8.self))
    }

    /// `option` if given, else the installed Dovecot's, else 2.4; with where it came from, for messages.
    public static func select(option: DovecotVersion?) -> (version: DovecotVersion, origin: String) {
        if let option { return (option, "--dovecot-version") }
        if let v = installed() { return (v, "installed dovecot") }
        return (.v2_4, "newest; no dovecot installed")
    }

    /// The passwd-file passdb's scheme for a password field without a `{SCHEME}` prefix when the configuration
    /// names none: CRYPT on 2.3 (`args` without `scheme=`), PLAIN on 2.4 (`passdb_default_password_scheme`'s
    /// default; seen with `doveadm auth test` on 2.4.1: a bare bcrypt hash is refused, clear text accepted).
    public var defaultPasswordScheme: String { self >= .v2_4 ? "PLAIN" : "CRYPT" }

    /// Whether this release refuses `weakSchemes` by default.
    public var refusesWeakSchemes: Bool { self >= .v2_4 }

    /// The schemes Dovecot 2.4 refuses by default ("Weak password scheme 'X' used and refused"), as seen with
    /// `doveadm auth test` on 2.4.1; a CRYPT field not starting with `$` counts as DES-CRYPT (see DovecotPasswords).
    public static let weakSchemes: Set<String> = [
        "DES-CRYPT", "MD5-CRYPT", "MD5", "SMD5", "PLAIN-MD5", "PLAIN-MD4", "LDAP-MD5", "LANMAN", "NTLM", "RPA",
    ]
}
