/// One line of a Dovecot passwd-file: `user:password:uid:gid:(gecos):home:(shell):extra_fields`.
///
/// Parsed as Dovecot 2.3's db-passwd-file does: the line is split at every `:` (empty fields kept),
/// the first field is the user, the second the password field; missing fields are nil.
public struct DovecotPasswdEntry: Sendable, Equatable {
    /// The user name (first field).
    public var user: String
    /// The password field as written, `{SCHEME}` prefix included; nil when the line has only a user.
    public var password: String?
    /// The uid field as written, if present.
    public var uid: String?
    /// The gid field as written, if present.
    public var gid: String?
    /// The gecos field (unused by Dovecot), if present.
    public var gecos: String?
    /// The home directory field, if present.
    public var home: String?
    /// The shell field (unused by Dovecot), if present.
    public var shell: String?
    /// Everything after the shell field, re-joined with `:` (space-separated `key=value` pairs).
    public var extraFields: String?

    /// Parses one line. Returns nil for the lines Dovecot skips: empty, starting with `#` or `:`.
    public init?(line: String) {
        var text = Substring(line)
        if text.hasSuffix("\n") { text = text.dropLast() }
        if text.hasSuffix("\r") { text = text.dropLast() }
        guard let first = text.first, first != "#", first != ":" else { return nil }
        let fields = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        func field(_ i: Int) -> String? { i < fields.count ? fields[i] : nil }
        user = fields[0]
        password = field(1)
        uid = field(2)
        gid = field(3)
        gecos = field(4)
        home = field(5)
        shell = field(6)
        extraFields = fields.count > 7 ? fields[7...].joined(separator: ":") : nil
    }
}

/// The result of checking a password the way a password database would.
public enum PasswordVerdict: Sendable, Equatable {
    case accepted
    case rejected
    /// The scheme (named here, upper-cased) is one this package does not check; no guess is made.
    case unsupportedScheme(String)
    /// Refused whatever the password, because the scheme (named here) is weak: Dovecot 2.4's default.
    case weakScheme(String)
}

/// How Dovecot's passdb decides on a passwd-file password field (Dovecot 2.3 `password_get_scheme`
/// and the crypt schemes), for the crypt family and clear text only.
public enum DovecotPasswords {
    /// The scheme Dovecot uses for `field` and the stored text it checks against: an explicit
    /// `{SCHEME}` prefix wins; a bare `$1$` hash is MD5-CRYPT; the libpam-pwdfile `password[13]`
    /// form is CRYPT and `password[34]` PLAIN-MD5; anything else uses `defaultScheme` (the passdb's
    /// `scheme=` argument; Dovecot's own default is CRYPT). Scheme names are upper-cased.
    public static func scheme(of field: String, defaultScheme: String = "CRYPT") -> (scheme: String, stored: String) {
        let bytes = Array(field.utf8)
        if let (name, rest) = HashAnalysis.splitSchemePrefix(bytes) {
            return (name, String(decoding: rest, as: UTF8.self))
        }
        if field.hasPrefix("$1$") { return ("MD5-CRYPT", field) }
        let n = bytes.count
        if n > 4, bytes[0] != UInt8(ascii: "{"), bytes[0] != UInt8(ascii: "$"),
           bytes[n - 1] == UInt8(ascii: "]"), bytes[n - 4] == UInt8(ascii: "[")
        {
            let tag = String(decoding: bytes[(n - 3)..<(n - 1)], as: UTF8.self)
            let stored = String(decoding: bytes[..<(n - 4)], as: UTF8.self)
            switch tag {
            case "34": return ("PLAIN-MD5", stored)
            case "56": return ("DIGEST-MD5", stored)
            default: return ("CRYPT", stored)
            }
        }
        return (defaultScheme.uppercased(), field)
    }

    /// Whether Dovecot would accept `password` for a user whose passwd-file password field is `field`,
    /// with `defaultScheme` as the passdb's default scheme (nil: `version.defaultPasswordScheme`, the one a
    /// configuration that names none gets).
    ///
    /// CRYPT, DES-CRYPT, SHA256-CRYPT and SHA512-CRYPT hand the stored hash to crypt(3), whatever its
    /// method; BLF-CRYPT accepts only `$2...` hashes; MD5-CRYPT only `$1$` ones; PLAIN, CLEAR and
    /// CLEARTEXT compare the text (in constant time). Every other scheme is `.unsupportedScheme`.
    /// An empty stored hash never matches a crypt scheme.
    public static func verify(password: [UInt8], field: String, defaultScheme: String? = nil,
                              version: DovecotVersion = .v2_3) -> PasswordVerdict {
        let (scheme, stored) = self.scheme(of: field, defaultScheme: defaultScheme ?? version.defaultPasswordScheme)
        let storedBytes = Array(stored.utf8)
        if version.refusesWeakSchemes, let weak = weakScheme(scheme, stored: storedBytes) { return .weakScheme(weak) }
        switch scheme {
        case "PLAIN", "CLEAR", "CLEARTEXT":
            return PasswordHasher.constantTimeEquals(password, storedBytes) ? .accepted : .rejected
        case "CRYPT", "DES-CRYPT", "SHA256-CRYPT", "SHA512-CRYPT", "BLF-CRYPT", "MD5-CRYPT":
            if storedBytes.isEmpty { return .rejected }
            if scheme == "BLF-CRYPT", !stored.hasPrefix("$2") { return .rejected }
            if scheme == "MD5-CRYPT", !stored.hasPrefix("$1$") { return .rejected }
            return PasswordHasher.verify(password, against: storedBytes) ? .accepted : .rejected
        default:
            return .unsupportedScheme(scheme)
        }
    }

    /// `verify(password:field:defaultScheme:version:)` for a text password.
    public static func verify(password: String, field: String, defaultScheme: String? = nil,
                              version: DovecotVersion = .v2_3) -> PasswordVerdict {
        verify(password: Array(password.utf8), field: field, defaultScheme: defaultScheme, version: version)
    }

    /// Whether Dovecot would accept `password` for `entry`. A line with only a user has an empty password field,
    /// as in Dovecot 2.3 and 2.4: under a PLAIN default scheme it takes the empty password (`doveadm auth test`).
    public static func verify(password: [UInt8], entry: DovecotPasswdEntry, defaultScheme: String? = nil,
                              version: DovecotVersion = .v2_3) -> PasswordVerdict {
        verify(password: password, field: entry.password ?? "", defaultScheme: defaultScheme, version: version)
    }

    /// The weak scheme (DovecotVersion.weakSchemes) a field's scheme and hash amount to, as Dovecot 2.4.1 decides
    /// (seen with `doveadm auth test`): DES-CRYPT always, whatever the hash; CRYPT with a `$1$` hash is MD5-CRYPT,
    /// and with any other text of two characters or more that does not start with `$` (a DES hash, BSDi's `_...`,
    /// a DES hash with a blank after it, clear text, `!locked`) DES-CRYPT; CRYPT with a `$...` hash or a single
    /// character is not weak.
    static func weakScheme(_ scheme: String, stored: [UInt8]) -> String? {
        var effective = scheme
        if scheme == "CRYPT" {
            if stored.starts(with: Array("$1$".utf8)) { effective = "MD5-CRYPT" }
            else if stored.first != UInt8(ascii: "$"), stored.count >= 2 { effective = "DES-CRYPT" }
            else { return nil }
        }
        return DovecotVersion.weakSchemes.contains(effective) ? effective : nil
    }

    /// The entry Dovecot's passwd-file passdb finds for a login: the login is folded to lower case first
    /// (the default `auth_username_format = %Lu`) and compared with each line's user as written, so a user
    /// written with capitals never logs in. The first matching line wins.
    public static func entry(forLogin login: String, inFile path: String) throws(TableError) -> DovecotPasswdEntry? {
        let text = String(decoding: try SystemFile.readRegular(path, what: "passwd file"), as: UTF8.self)
        return entry(forLogin: login, in: text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init))
    }

    /// `entry(forLogin:inFile:)` over lines already read.
    public static func entry(forLogin login: String, in lines: [String]) -> DovecotPasswdEntry? {
        let wanted = login.lowercased()
        for line in lines {
            if let e = DovecotPasswdEntry(line: line), e.user == wanted { return e }
        }
        return nil
    }
}
