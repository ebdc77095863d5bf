import Foundation
import Testing
@testable import SMTPDTables

/// `verify`'s Dovecot verdict against the real `doveadm auth test`, through Dovecot 2.3 (this machine) and 2.4
/// (the trixie root): a private instance per release with one passwd-file passdb over a generated seed-style shared
/// passwd file, tried with generated logins; once with the seed setup's `BLF-CRYPT` default scheme, once with none
/// named (the release's own default: CRYPT on 2.3, PLAIN on 2.4). Every login's
/// accept or refuse must be what `DovecotPasswords.entry(forLogin:in:)` and `verify(..., version:)` predict.
@Suite("Dovecot verdicts against doveadm auth test", .serialized)
struct DovecotDaemonTests {
    static let releases = DovecotRelease.available.map(\.suite)

    /// The seed: SMTPD_TABLES_SEED when set (to replay a failure), else a new one, printed.
    static let seed: UInt64 = {
        if let text = ProcessInfo.processInfo.environment["SMTPD_TABLES_SEED"], let s = UInt64(text) { return s }
        return UInt64.random(in: 1...UInt64(UInt32.max))
    }()

    @Test("accept/refuse as verify predicts", .enabled(if: !releases.isEmpty, "needs root and Dovecot (machine or trixie root)"),
          .disabled(if: TestSupport.underSanitizer, "process-level; the plain run covers it"),
          .timeLimit(.minutes(5)), arguments: releases, ["BLF-CRYPT", "(none)"])
    func sameVerdicts(_ suite: String, _ schemeArgument: String) throws {
        let scheme = schemeArgument == "(none)" ? nil : schemeArgument
        let release = try #require(DovecotRelease.named(suite))
        print("DovecotDaemonTests: seed \(Self.seed) (SMTPD_TABLES_SEED=\(Self.seed) to replay)")
        var generator = DovecotCaseGenerator(seed: Self.seed)
        let corpus = try generator.corpus()
        try release.withScratch { dir in
            let passwd = try TestSupport.write(corpus.lines.joined(separator: "\n") + "\n", to: "passwd", in: dir)
            let conf = try TestSupport.write(release.privateConfig(passwdFile: passwd, scheme: scheme, scratch: dir),
                                             to: "dovecot.conf", in: dir)
            let logins = corpus.logins.map { (user: $0.user, password: $0.password) }
            let (statuses, log) = try release.authTest(conf: conf, logins: logins, scratch: dir)
            let weak = Self.weakSchemeUsers(in: log)

            var differences: [String] = []
            var accepted = 0, weakRefused = 0
            for (i, login) in corpus.logins.enumerated() {
                let ours: PasswordVerdict = DovecotPasswords.entry(forLogin: login.user, in: corpus.lines)
                    .map { DovecotPasswords.verify(password: Array(login.password.utf8), entry: $0,
                                                   defaultScheme: scheme, version: release.version) } ?? .rejected
                let status = statuses[i]
                let theirs: PasswordVerdict
                switch status {
                case 0: theirs = .accepted
                case 75, 77: theirs = weak[login.user.lowercased()].map { .weakScheme($0) } ?? .rejected
                default:
                    differences.append("\(login.what): doveadm exit status \(status)")
                    continue
                }
                if theirs == .accepted { accepted += 1 }
                if case .weakScheme = theirs { weakRefused += 1 }
                if theirs != ours { differences.append("\(login.what): Dovecot \(theirs), we \(ours) (exit \(status))") }
            }
            let n = corpus.logins.count
            print("dovecot \(release.version): \(n - differences.count) of \(n) agree (\(release), default scheme "
                + "\(scheme ?? "not named"); \(corpus.lines.count) "
                + "passwd lines, \(accepted) accepted, \(weakRefused) refused as weak; seed \(Self.seed))")
            #expect(differences.isEmpty, "\(release), scheme \(schemeArgument), seed \(Self.seed):\n\(differences.joined(separator: "\n"))")
            // The corpus must reach both verdicts, and at 2.4 the weak-scheme refusal.
            #expect(accepted > 0 && accepted < n)
            #expect((weakRefused > 0) == release.version.refusesWeakSchemes, "\(weakRefused) weak refusals")
        }
    }

    /// The users whose password field Dovecot refused as a weak scheme, and the scheme it named, from its log
    /// (2.4: `auth(USER,sasl:plain): Error: passwd-file: Invalid password in passdb: Weak password scheme 'X' used
    /// and refused`; the 2.3 form `passwd-file(USER): ...` is read too).
    static func weakSchemeUsers(in log: String) -> [String: String] {
        var out: [String: String] = [:]
        for line in log.split(separator: "\n") {
            guard let w = line.range(of: "Weak password scheme '") else { continue }
            let scheme = line[w.upperBound...].prefix { $0 != "'" }
            var user: Substring?
            for opener in ["auth(", "passwd-file("] {
                if let o = line.range(of: opener) {
                    user = line[o.upperBound...].prefix { $0 != "," && $0 != ")" }
                    break
                }
            }
            if let user { out[String(user)] = String(scheme) }
        }
        return out
    }

    @Test("the weak-scheme log reader")
    func weakLogReader() {
        let log = """
            Dec 03 09:05:08 auth(mike,sasl:plain): Error: passwd-file: Invalid password in passdb: Weak password scheme 'MD5-CRYPT' used and refused
            Dec 03 09:05:05 auth(gina,sasl:plain): Error: passwd-file: Invalid password in passdb: Password is not blowfish password
            Dec 03 09:05:09 auth: Error: passwd-file(max@example.org): Invalid password in passdb: Weak password scheme 'DES-CRYPT' used and refused
            """
        #expect(Self.weakSchemeUsers(in: log) == ["mike": "MD5-CRYPT", "max@example.org": "DES-CRYPT"])
    }
}

/// Seed-style shared passwd files and logins for the Dovecot differential: every hash form (bcrypt `$2b$`, `$2y$`,
/// `$2a$`, sha512-crypt, sha256-crypt, md5-crypt, DES, yescrypt) bare and under `{SCHEME}` prefixes (right and
/// wrong ones, upper and lower case), every line form (passwd-file trailing fields, blanks after the colon, CRLF,
/// user names with capitals, duplicates, empty password fields), and logins as written, folded, in capitals, with
/// the right password, the password in other case and a wrong one.
struct DovecotCaseGenerator {
    var rng: SplitMix64

    init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    struct Login {
        var user: String
        var password: String
        /// For messages: which line and which password, never the password itself.
        var what: String
    }

    enum Hash: CaseIterable {
        case bcrypt2b, bcrypt2y, bcrypt2a, sha512, sha256, md5, des, yescrypt
        case blfPrefix, blfLowerPrefix, sha512Prefix, sha256Prefix, plainPrefix, md5Prefix, cryptDES, cryptYescrypt
        case blfOverSHA512, sha512OverBcrypt, md5OverBcrypt, desOverSHA512, cryptPlain, cryptBSDi, plainBare
        case emptyField, noField
    }

    enum Form: CaseIterable {
        case bare, trailingFields, fullFields, blankAfterColon, tabAfterColon, trailingBlank, crlf, capitals, duplicate
    }

    mutating func password() -> String {
        let letters = Array("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        var p = ""
        for _ in 0..<Int.random(in: 6...12, using: &rng) { p.append(letters.randomElement(using: &rng)!) }
        if Bool.random(using: &rng) { p.insert(" ", at: p.index(p.startIndex, offsetBy: Int.random(in: 1..<p.count, using: &rng))) }
        // At least one letter in each case, so that the other-case password differs.
        return "Q" + p + "z"
    }

    mutating func userName(_ i: Int) -> String {
        let names = ["alice", "bob", "carol", "dave", "erin", "frank", "gina", "hank", "ivy", "jon", "kim", "lee"]
        let base = names.randomElement(using: &rng)! + String(i)
        return Bool.random(using: &rng) ? base + "@example.org" : base
    }

    func crypted(_ password: String, setting: String) throws -> String {
        let out = try #require(CryptLibrary.crypt(Array(password.utf8), setting: Array(setting.utf8)),
                               "crypt(3) refused \(setting.prefix(3))")
        return String(decoding: out, as: UTF8.self)
    }

    /// The password field for `hash` and `password`.
    mutating func field(_ hash: Hash, _ password: String) throws -> String {
        func bcrypt() throws -> String { try PasswordHasher.hash(password, scheme: .bcrypt, rounds: 4) }
        func sha512() throws -> String { try PasswordHasher.hash(password, scheme: .sha512, rounds: 1000) }
        func md5() throws -> String {
            try crypted(password, setting: try #require(CryptLibrary.gensalt(prefix: "$1$", count: 0)))
        }
        func des() throws -> String {
            let alphabet = Array("./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
            return try crypted(password, setting: String([alphabet.randomElement(using: &rng)!, alphabet.randomElement(using: &rng)!]))
        }
        func yescrypt() throws -> String { try PasswordHasher.hash(password, scheme: .yescrypt, rounds: 1) }
        switch hash {
        case .bcrypt2b: return try bcrypt()
        case .bcrypt2y: return "$2y$" + (try bcrypt()).dropFirst(4)
        case .bcrypt2a: return "$2a$" + (try bcrypt()).dropFirst(4)
        case .sha512: return try sha512()
        case .sha256: return try PasswordHasher.hash(password, scheme: .sha256, rounds: 1000)
        case .md5: return try md5()
        case .des: return try des()
        case .yescrypt: return try yescrypt()
        case .blfPrefix: return "{BLF-CRYPT}" + (try bcrypt())
        case .blfLowerPrefix: return "{blf-crypt}" + (try bcrypt())
        case .sha512Prefix: return "{SHA512-CRYPT}" + (try sha512())
        case .sha256Prefix: return "{SHA256-CRYPT}" + (try PasswordHasher.hash(password, scheme: .sha256, rounds: 1000))
        case .plainPrefix: return "{PLAIN}" + password
        case .md5Prefix: return "{MD5-CRYPT}" + (try md5())
        case .cryptDES: return "{CRYPT}" + (try des())
        case .cryptYescrypt: return "{CRYPT}" + (try yescrypt())
        case .blfOverSHA512: return "{BLF-CRYPT}" + (try sha512())
        case .sha512OverBcrypt: return "{SHA512-CRYPT}" + (try bcrypt())
        case .md5OverBcrypt: return "{MD5-CRYPT}" + (try bcrypt())
        case .desOverSHA512: return "{DES-CRYPT}" + (try sha512())
        case .cryptPlain: return "{CRYPT}" + password
        case .cryptBSDi: return "{CRYPT}" + (try crypted(password, setting: "_J9..abcd"))
        case .plainBare: return password
        case .emptyField: return ""
        case .noField: return ""
        }
    }

    /// The passwd file's lines and the logins to try.
    mutating func corpus() throws -> (lines: [String], logins: [Login]) {
        // Every hash form and every line form at least once, then random pairs.
        var pairs: [(Hash, Form)] = Hash.allCases.map { ($0, Form.allCases.randomElement(using: &rng)!) }
        pairs += Form.allCases.map { (Hash.allCases.randomElement(using: &rng)!, $0) }
        for _ in 0..<8 { pairs.append((Hash.allCases.randomElement(using: &rng)!, Form.allCases.randomElement(using: &rng)!)) }
        pairs.shuffle(using: &rng)

        var lines: [String] = ["# shared passwd file for smtpd and Dovecot"]
        var logins: [Login] = []
        for (i, (hash, form)) in pairs.enumerated() {
            let pw = password()
            var user = userName(i)
            let f = try field(hash, pw)
            let lineNumber = lines.count + 1
            switch form {
            case .bare: lines.append(hash == .noField ? user : "\(user):\(f)")
            case .trailingFields: lines.append("\(user):\(f)::::::")
            case .fullFields: lines.append("\(user):\(f):1000:1000::/home/\(user)::userdb_quota_rule=*:storage=1G")
            case .blankAfterColon: lines.append("\(user): \(f)")
            case .tabAfterColon: lines.append("\(user):\t\(f)")
            case .trailingBlank: lines.append("\(user):\(f) ")
            case .crlf: lines.append("\(user):\(f)\r")
            case .capitals:
                user = user.split(separator: "@").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined(separator: "@")
                lines.append("\(user):\(f)")
            case .duplicate:
                lines.append("\(user):\(f)")
                lines.append("\(user):{PLAIN}\(password())")   // Dovecot keeps the first ("exists more than once")
            }
            let what = "line \(lineNumber) (\(hash), \(form))"
            var tries: [(String, String, String)] = [
                (user, pw, "as written, right password"),
                (user, swapCase(pw), "as written, password in other case"),
                (user, "wrong" + pw, "as written, wrong password"),
            ]
            if user.lowercased() != user { tries.append((user.lowercased(), pw, "folded, right password")) }
            if Bool.random(using: &rng) { tries.append((user.uppercased(), pw, "in capitals, right password")) }
            if hash == .emptyField || hash == .noField { tries.append((user, "", "as written, empty password")) }
            logins += tries.map { Login(user: $0.0, password: $0.1, what: "\(what), login \($0.2)") }
        }
        logins.append(Login(user: "nobody@example.org", password: "whatever", what: "unknown user"))
        logins.shuffle(using: &rng)
        return (lines, logins)
    }

    func swapCase(_ s: String) -> String {
        String(s.map { $0.isUppercase ? Character($0.lowercased()) : Character($0.uppercased()) })
    }
}
