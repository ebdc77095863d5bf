/// What a stored password looks like: its method, cost, and whether it is weak, for the `check` command.
///
/// The analysis reads only the shape of the text and asks libcrypt (`crypt_checksalt(3)`) whether it can
/// hash with it; it never needs the password. Notes never quote the hash.
public struct HashAnalysis: Sendable, Equatable {
    /// The storage format.
    public enum Format: String, Sendable {
        case bcrypt = "bcrypt"
        case sha512Crypt = "sha512-crypt"
        case sha256Crypt = "sha256-crypt"
        case yescrypt = "yescrypt"
        case gostYescrypt = "gost-yescrypt"
        case scrypt = "scrypt"
        case md5Crypt = "md5-crypt"
        case sunMD5Crypt = "sun-md5-crypt"
        case ntHash = "nthash"
        case bsdiCrypt = "bsdi-crypt"
        case desCrypt = "des-crypt"
        /// A Dovecot-only scheme (`{SSHA512}`, `{ARGON2ID}`, ...) that crypt(3) knows nothing of.
        case dovecot = "dovecot"
        /// Clear text: a `{PLAIN}`-style prefix, or text that is no hash at all.
        case plainText = "plain text"
        /// `*` or `!...`: an account locked on purpose.
        case locked = "locked"
        /// No password at all.
        case empty = "empty"
        /// Starts like a crypt(3) hash (`$...`) but is no method known here, or is malformed.
        case unknown = "unknown"
    }

    /// The storage format, after any `{SCHEME}` prefix.
    public var format: Format
    /// The name in a Dovecot `{SCHEME}` prefix, upper-cased (`BLF-CRYPT`), when there is one.
    public var dovecotScheme: String?
    /// The work factor as written: bcrypt's log2 cost, sha-crypt's rounds (5000 when not written),
    /// yescrypt's cost (1...11, the `crypt_gensalt` count that gives these parameters).
    public var cost: Int?
    /// Whether an attacker with the hash would find the password cheaply: bcrypt cost below 10,
    /// sha-crypt below 5000 rounds, md5-crypt, DES and kin, fast unsalted Dovecot digests, clear text,
    /// an empty password.
    public var isWeak: Bool
    /// Whether this system's crypt(3) can check a password against the text after any `{SCHEME}` prefix.
    public var cryptCanVerify: Bool
    /// Why the hash is weak or odd, in words, without quoting it.
    public var notes: [String]

    /// Analyses `stored`, the password field as written in a table or passwd file.
    public init(_ stored: [UInt8]) {
        format = .unknown
        dovecotScheme = nil
        cost = nil
        isWeak = false
        cryptCanVerify = false
        notes = []
        var body = stored[...]
        if let (name, rest) = HashAnalysis.splitSchemePrefix(stored) {
            dovecotScheme = name
            body = rest
            let baseName = name.split(separator: ".", maxSplits: 1).first.map(String.init) ?? name
            if HashAnalysis.dovecotPlainSchemes.contains(baseName) {
                format = .plainText
                isWeak = true
                notes.append("{\(name)} stores the password in clear text")
                return
            }
            if !HashAnalysis.dovecotCryptSchemes.contains(baseName) {
                format = .dovecot
                if HashAnalysis.dovecotFastSchemes.contains(baseName) {
                    isWeak = true
                    notes.append("{\(name)} is a fast digest, cheap to brute-force")
                } else if !HashAnalysis.dovecotSlowSchemes.contains(baseName) {
                    notes.append("{\(name)} is not a Dovecot scheme known here")
                }
                notes.append("crypt(3) cannot check {\(name)} hashes")
                return
            }
            if baseName != name {
                notes.append("{\(name)}: an encoding suffix on a crypt scheme")
            }
        }
        analyseCrypt(Array(body))
        if let scheme = dovecotScheme, let expected = HashAnalysis.dovecotExpectedFormat[scheme],
           !expected.contains(format) {
            notes.append("Dovecot's {\(scheme)} does not check \(format.rawValue) hashes")
        }
    }

    /// `init(_:)` for text.
    public init(_ stored: String) { self.init(Array(stored.utf8)) }

    /// Splits `{NAME}rest` into the upper-cased NAME and rest, as Dovecot's `password_get_scheme` does.
    static func splitSchemePrefix(_ text: [UInt8]) -> (String, ArraySlice<UInt8>)? {
        guard text.first == UInt8(ascii: "{"), let close = text.firstIndex(of: UInt8(ascii: "}")) else { return nil }
        let name = String(decoding: text[1..<close], as: UTF8.self).uppercased()
        return (name, text[(close + 1)...])
    }

    static let dovecotPlainSchemes: Set<String> = ["PLAIN", "CLEAR", "CLEARTEXT", "PLAIN-TRUNC"]
    static let dovecotCryptSchemes: Set<String> = [
        "CRYPT", "DES-CRYPT", "MD5-CRYPT", "BLF-CRYPT", "SHA256-CRYPT", "SHA512-CRYPT",
    ]
    static let dovecotFastSchemes: Set<String> = [
        "SHA", "SHA1", "SHA256", "SHA512", "SSHA", "SSHA256", "SSHA512", "MD5", "PLAIN-MD5", "LDAP-MD5",
        "SMD5", "PLAIN-MD4", "CRAM-MD5", "HMAC-MD5", "DIGEST-MD5", "LANMAN", "NTLM", "RPA", "OTP", "SKEY",
    ]
    static let dovecotSlowSchemes: Set<String> = ["ARGON2I", "ARGON2ID", "PBKDF2", "SCRAM-SHA-1", "SCRAM-SHA-256"]
    /// The hashes a Dovecot crypt scheme accepts (Dovecot 2.3: BLF-CRYPT insists on `$2`, MD5-CRYPT uses
    /// its own md5-crypt; the others hand the hash to crypt(3), whatever its method).
    static let dovecotExpectedFormat: [String: Set<Format>] = [
        "BLF-CRYPT": [.bcrypt],
        "MD5-CRYPT": [.md5Crypt],
    ]

    private static let cryptAlphabet: Set<UInt8> = Set(Array("./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8))

    private static func isCrypt64(_ bytes: some Collection<UInt8>) -> Bool {
        bytes.allSatisfy { cryptAlphabet.contains($0) }
    }

    private mutating func weak(_ note: String) {
        isWeak = true
        notes.append(note)
    }

    private mutating func analyseCrypt(_ hash: [UInt8]) {
        let status = hash.isEmpty ? .invalid : CryptLibrary.checkSalt(hash)
        cryptCanVerify = status != .invalid
        let text = String(decoding: hash, as: UTF8.self)
        let fields = hash.split(separator: UInt8(ascii: "$"), omittingEmptySubsequences: false).map { Array($0) }
        func starts(_ p: String) -> Bool { text.hasPrefix(p) }

        if hash.isEmpty {
            format = .empty
            weak("no password is set")
        } else if hash.first == UInt8(ascii: "*") || hash.first == UInt8(ascii: "!") {
            format = .locked
            notes.append("the account is locked (no password can match)")
        } else if starts("$2a$") || starts("$2b$") || starts("$2y$") || starts("$2x$") {
            // $2b$NN$ + 22 salt + 31 hash characters
            guard fields.count == 4, fields[2].count == 2, fields[2].allSatisfy({ (0x30...0x39).contains($0) }),
                  fields[3].count == 53, HashAnalysis.isCrypt64(fields[3]),
                  let c = Int(String(decoding: fields[2], as: UTF8.self))
            else { return malformed("bcrypt") }
            format = .bcrypt
            cost = c
            if c < 10 { weak("bcrypt cost \(c) is below 10") }
            if starts("$2x$") { weak("$2x$ is the bcrypt variant with the 8-bit character bug") }
        } else if starts("$6$") || starts("$5$") {
            let isSHA512 = starts("$6$")
            let name = isSHA512 ? "sha512-crypt" : "sha256-crypt"
            var rounds = 5000
            var rest = fields.dropFirst(2)
            if let first = rest.first, first.starts(with: Array("rounds=".utf8)) {
                guard let r = Int(String(decoding: first.dropFirst(7), as: UTF8.self)), r > 0 else {
                    return malformed(name)
                }
                rounds = r
                rest = rest.dropFirst()
            }
            guard rest.count == 2, let salt = rest.first, let digest = rest.last,
                  salt.count <= 16, digest.count == (isSHA512 ? 86 : 43), HashAnalysis.isCrypt64(digest)
            else { return malformed(name) }
            format = isSHA512 ? .sha512Crypt : .sha256Crypt
            cost = rounds
            if rounds < 5000 { weak("\(name) with \(rounds) rounds is below 5000") }
        } else if starts("$y$") || starts("$gy$") {
            let gost = starts("$gy$")
            let name = gost ? "gost-yescrypt" : "yescrypt"
            guard fields.count == 5, fields[4].count == 43, HashAnalysis.isCrypt64(fields[4]) else {
                return malformed(name)
            }
            format = gost ? .gostYescrypt : .yescrypt
            cost = HashAnalysis.yescryptCosts[String(decoding: fields[2], as: UTF8.self)]
        } else if starts("$7$") {
            format = .scrypt
        } else if starts("$1$") {
            guard fields.count == 4, fields[2].count <= 8, fields[3].count == 22 else { return malformed("md5-crypt") }
            format = .md5Crypt
            weak("md5-crypt is obsolete and cheap to brute-force")
        } else if starts("$md5") {
            format = .sunMD5Crypt
            weak("Sun md5-crypt is obsolete and cheap to brute-force")
        } else if starts("$3$$") {
            format = .ntHash
            weak("NT hashes are unsalted MD4, cheap to brute-force")
        } else if hash.first == UInt8(ascii: "$") {
            format = .unknown
            notes.append("not a crypt(3) method known here")
        } else if hash.count == 20, hash.first == UInt8(ascii: "_"), HashAnalysis.isCrypt64(hash.dropFirst()) {
            format = .bsdiCrypt
            weak("BSDi extended DES is obsolete and cheap to brute-force")
        } else if hash.count == 13, HashAnalysis.isCrypt64(hash) {
            format = .desCrypt
            weak("traditional DES crypt uses only 8 characters of the password and is cheap to brute-force")
        } else {
            format = .plainText
            cryptCanVerify = false
            weak("this looks like clear text, not a hash")
        }
        if status == .legacy, !isWeak {
            weak("libcrypt calls this method legacy")
        }
    }

    private mutating func malformed(_ name: String) {
        format = .unknown
        notes.append("starts like \(name) but is malformed")
    }

    /// yescrypt's parameter field for each `crypt_gensalt` cost 1...11 on this system.
    static let yescryptCosts: [String: Int] = {
        var table: [String: Int] = [:]
        for count in 1...11 {
            guard let setting = CryptLibrary.gensalt(prefix: "$y$", count: UInt(count)) else { continue }
            let parts = setting.split(separator: "$", omittingEmptySubsequences: false)
            if parts.count >= 3 { table[String(parts[2])] = count }
        }
        return table
    }()
}
