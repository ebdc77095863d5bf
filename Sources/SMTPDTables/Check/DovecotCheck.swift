/// `check --dovecot-conf`: what a Dovecot configuration and the passwd files of its passwd-file passdbs do at a
/// Dovecot release, above all for a file shared with smtpd's `auth <table>`: user names with capitals (Dovecot
/// folds the login, not the file; smtpd folds both), blanks after the first `:` (part of Dovecot's password field;
/// smtpd skips them), hashes the passdb's scheme cannot check, weak schemes 2.4 refuses, empty password fields (a
/// PLAIN scheme lets anyone in with an empty password), duplicate users (Dovecot
/// keeps the first line, smtpd the last), and a configuration in the other release's syntax. Never quotes a
/// password or a hash.
///
/// `{SCHEME}` prefixes and Dovecot's trailing `::::::` fields in a file smtpd also reads are `SetupChecker`'s
/// findings (`credentials-unusable`); here a prefix is a note when smtpd does not read the file.
public struct DovecotCheck {
    /// The Dovecot configuration.
    public let dovecot: DovecotConfig
    /// The release whose behaviour is reproduced.
    public let version: DovecotVersion
    /// The smtpd configuration, to tell which passwd files smtpd's listeners also use.
    public let smtpd: SMTPDConfig?

    /// A check of `dovecot` at `version`; `smtpd` (nil: none) tells which passwd files smtpd's listeners also read.
    public init(dovecot: DovecotConfig, version: DovecotVersion, smtpd: SMTPDConfig?) {
        self.dovecot = dovecot
        self.version = version
        self.smtpd = smtpd
    }

    /// Every finding, in the order of the configuration and the files.
    public func run() -> [Finding] {
        var findings: [Finding] = []
        let main = dovecot.files.first
        switch (version, dovecot.syntax) {
        case (.v2_4, .v2_3):
            let place = dovecot.firstSetting ?? DovecotConfig.Place(file: main ?? "dovecot.conf", line: 1)
            findings.append(Finding(.error, "dovecot-config-syntax", file: place.file, line: place.line,
                "this is a Dovecot 2.3 configuration: it does not start on 2.4 (the first setting must be "
                    + "dovecot_config_version = 2.4.1; passdb sections are `passdb passwd-file { passwd_file_path = "
                    + "FILE  default_password_scheme = SCHEME }`)"))
        case (.v2_3, .v2_4):
            let place = dovecot.firstSetting ?? DovecotConfig.Place(file: main ?? "dovecot.conf", line: 1)
            findings.append(Finding(.error, "dovecot-config-syntax", file: place.file, line: place.line,
                "this is a Dovecot 2.4 configuration: 2.3 does not start with it (unknown setting "
                    + "dovecot_config_version)"))
        default: break
        }
        for place in dovecot.otherSyntax where dovecot.syntax == version {
            findings.append(Finding(.error, "dovecot-config-syntax", file: place.file, line: place.line,
                dovecot.syntax == .v2_4
                    ? "2.3 syntax in a 2.4 configuration (2.4 names the passdb and sets passwd_file_path)"
                    : "2.4 syntax in a 2.3 configuration (2.3 uses driver = passwd-file and args = FILE)"))
        }
        let shared = sharedTables()
        for passdb in dovecot.passwdFilePassdbs {
            check(passdb, sharedWith: shared[SystemFile.canonical(passdb.path)], into: &findings)
        }
        return findings
    }

    /// smtpd's listener `auth` tables read from text files, by canonical path.
    func sharedTables() -> [String: String] {
        guard let smtpd else { return [:] }
        let checker = SetupChecker(config: smtpd, resolverOptions: nil)
        var out: [String: String] = [:]
        for use in checker.uses() where use.kind == .credentials {
            guard let declaration = smtpd.tables.first(where: { $0.name == use.table }), let path = declaration.path,
                  declaration.backend == .file || declaration.backend == .other(PasswdTable.backend.name)
            else { continue }
            out[SystemFile.canonical(path)] = use.table
        }
        return out
    }

    private func check(_ passdb: DovecotConfig.PasswdFilePassdb, sharedWith table: String?, into findings: inout [Finding]) {
        let path = passdb.path
        if path.contains("%") {
            findings.append(Finding(.note, "dovecot-passwd-per-user", file: passdb.pathPlace.file, line: passdb.pathPlace.line,
                "the passwd-file path has variables (\(path)): its files are not checked"))
            return
        }
        let bytes: [UInt8]
        do { bytes = try SystemFile.readRegular(path, what: "passwd file") } catch {
            findings.append(Finding(.error, "dovecot-passwd-unreadable", file: passdb.pathPlace.file,
                                    line: passdb.pathPlace.line, "passwd-file passdb: \(error.message)"))
            return
        }
        if let format = passdb.usernameFormat, format != "%u" {
            findings.append(Finding(.note, "dovecot-username-format", file: passdb.pathPlace.file, line: passdb.pathPlace.line,
                "the passdb compares the file's names with username_format=\(format) of the login, not the login itself"
                    + (table != nil ? " (smtpd looks up the whole login)" : "")))
        }
        let scheme = passdb.defaultScheme ?? version.defaultPasswordScheme
        let schemeOrigin = passdb.schemePlace.map { "\(scheme) (\($0))" }
            ?? "\(scheme) (none named: Dovecot \(version)'s default)"
        var firstLine: [String: Int] = [:]
        var number = 0
        for raw in bytes.split(separator: 0x0A, omittingEmptySubsequences: false) {
            number += 1
            guard let entry = DovecotPasswdEntry(line: String(decoding: raw, as: UTF8.self)) else { continue }
            let user = entry.user
            func report(_ severity: Finding.Severity, _ code: String, _ message: String) {
                findings.append(Finding(severity, code, file: path, line: number, table: table, "\(user): " + message))
            }
            if let first = firstLine[user] {
                if table != nil {
                    report(.warning, "dovecot-duplicate-user",
                           "also at line \(first): Dovecot uses the first line and smtpd the last, so they may accept different passwords")
                }
                continue
            }
            firstLine[user] = number
            if dovecot.foldsLogins, user != user.lowercased() {
                report(.error, "dovecot-user-case",
                       "Dovecot folds the login to lower case and compares it with the name as written, so this user "
                           + "never logs in to Dovecot" + (table != nil ? "; smtpd folds both and lets it in" : "")
                           + "; write the name in lower case")
            }
            // A line with only a user, or an empty field, is an empty password field for Dovecot.
            let field = entry.password ?? ""
            if field.first == " " || field.first == "\t" {
                report(.error, "dovecot-blank-password-field",
                       "a blank after the ':' is part of Dovecot's password field, so Dovecot refuses every password"
                           + (table != nil ? " (smtpd skips the blank and accepts the password)" : ""))
                continue
            }
            if field.last == " " || field.last == "\t" {
                report(.error, "dovecot-blank-password-field",
                       "a blank at the end of the password field is part of it for Dovecot, so Dovecot refuses every password")
                continue
            }
            let (effective, stored) = DovecotPasswords.scheme(of: field, defaultScheme: scheme)
            let storedBytes = Array(stored.utf8)
            if stored.isEmpty {
                // The verdict Dovecot gives the empty password (proven by doveadm), not a second list of schemes.
                if DovecotPasswords.verify(password: [], field: field, defaultScheme: scheme, version: version) == .accepted {
                    let origin = field.isEmpty ? "the passdb's default scheme is \(schemeOrigin)" : "its {\(effective)} prefix"
                    report(.error, "dovecot-empty-password",
                           "no password, and \(origin): Dovecot lets anyone in as this user with an empty password")
                } else {
                    report(.note, "dovecot-empty-password", "no password: Dovecot refuses every login for this user")
                }
                continue
            }
            if !dovecot.allowsWeakSchemes, let weak = DovecotPasswords.weakScheme(effective, stored: storedBytes) {
                if version.refusesWeakSchemes {
                    report(.error, "dovecot-weak-scheme",
                           "Dovecot \(version) refuses the weak scheme \(weak) for every password (unless "
                               + "auth_allow_weak_schemes = yes); give the user a new bcrypt hash (smtpd-tables encrypt)")
                } else {
                    report(.warning, "dovecot-weak-scheme",
                           "weak scheme \(weak): Dovecot \(version) accepts it, but it is refused after upgrading to 2.4 "
                               + "(unless auth_allow_weak_schemes = yes); give the user a new bcrypt hash (smtpd-tables encrypt)")
                }
                if version.refusesWeakSchemes { continue }
            }
            let analysis = HashAnalysis(storedBytes)
            // `$...` hashes only: a DES hash looks like 13 characters of clear text.
            let isCryptHash = [.bcrypt, .sha512Crypt, .sha256Crypt, .yescrypt, .gostYescrypt, .md5Crypt, .scrypt]
                .contains(analysis.format)
            let explicit = HashAnalysis.splitSchemePrefix(Array(field.utf8)) != nil
            switch effective {
            case "BLF-CRYPT" where !stored.hasPrefix("$2"), "MD5-CRYPT" where !stored.hasPrefix("$1$"):
                let origin = explicit ? "its {\(effective)} prefix" : "the passdb's default scheme \(schemeOrigin)"
                report(.error, "dovecot-scheme-mismatch",
                       "\(origin) checks only \(effective == "BLF-CRYPT" ? "bcrypt" : "md5-crypt") hashes and this is "
                           + "\(analysis.format.rawValue): Dovecot refuses every password")
            case "PLAIN" where !explicit && isCryptHash, "CLEAR" where !explicit && isCryptHash,
                 "CLEARTEXT" where !explicit && isCryptHash:
                report(.error, "dovecot-scheme-mismatch",
                       "the passdb's default scheme is \(schemeOrigin), so Dovecot compares passwords with this "
                           + "\(analysis.format.rawValue) hash as clear text and refuses every one; set "
                           + (version >= .v2_4 ? "default_password_scheme" : "scheme=") + " to BLF-CRYPT or CRYPT")
            case "CRYPT" where !analysis.cryptCanVerify, "DES-CRYPT" where !analysis.cryptCanVerify,
                 "SHA256-CRYPT" where !analysis.cryptCanVerify, "SHA512-CRYPT" where !analysis.cryptCanVerify:
                let origin = explicit ? "its {\(effective)} prefix" : "the passdb's default scheme \(schemeOrigin)"
                report(.error, "dovecot-scheme-mismatch",
                       "\(origin) hands the field to crypt(3), which cannot check it (\(analysis.format.rawValue)): "
                           + "Dovecot refuses every password")
            default: break
            }
            if explicit, table == nil {
                report(.note, "dovecot-scheme-prefix",
                       "the {\(effective)} prefix is fine for Dovecot, but smtpd's auth could not use this line")
            }
        }
    }
}
