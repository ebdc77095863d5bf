import ArgumentParser
import SMTPDTables

/// `smtpd-tables verify`: would smtpd, and would Dovecot, accept this password for this user?
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check a password against a credentials table, as smtpd and as Dovecot would.",
        discussion: """
            Reads the password from the terminal without echo (^C or ^\\ there put the terminal back and exit \
            with 128 + the signal), or the first line of standard input (at most 1 MiB). Says \
            whether smtpd (auth <TABLE>: the value after the key is the crypt(3) hash, or user:hash) would \
            accept it and, for file tables, whether Dovecot's passwd-file with the given default scheme would. \
            Never prints the password or the hash, in text or in JSON (--json). Exit status: 0 both accept, 1 either refuses or the user \
            is not in the table, 2 errors.
            """)

    @Option(name: .customLong("dovecot-scheme"), help: ArgumentHelp(
        "Dovecot's default password scheme (2.3: passdb args scheme=..., 2.4: default_password_scheme), e.g. "
            + "BLF-CRYPT (default: the release's own, CRYPT on 2.3, PLAIN on 2.4).", valueName: "scheme"))
    var dovecotScheme: String?

    @Option(name: .customLong("dovecot-version"), help: ArgumentHelp(
        "The Dovecot release to reproduce, 2.3 or 2.4 (default: the installed dovecot's, else 2.4); 2.4 refuses "
            + "weak schemes such as MD5-CRYPT.", valueName: "X.Y"))
    var dovecotVersion: DovecotVersion?

    @Flag(help: "Print JSON: one array with one object (see smtpd-tables(8), JSON OUTPUT).")
    var json = false

    @OptionGroup var versionOptions: VersionOptions

    @Argument(help: "The credentials table: file:PATH, db:PATH or PATH.", completion: .file())
    var table: String

    @Argument(help: "The user name (the table's key).")
    var user: String

    func run() throws {
        let credentials: Table
        let match: TableMatch?
        let options = try versionOptions.tableOptions()
        credentials = try TableArgument.open(table, options: options)
        do {
            match = try credentials.lookup(user, service: .credentials)
        } catch {
            Output.warn(error.description)
            throw ExitCode(2)
        }
        var writer = JSONArrayWriter(smtpdVersion: options.version)
        let base: [(String, JSONValue)] = [("user", .string(user)), ("table", .string(credentials.path))]
        guard let match, let value = match.valueBytes else {
            if json {
                writer.append(base + [("found", .bool(false)), ("accepted", .bool(false))])
                writer.finish()
            } else {
                print("\(user): no such user in \(credentials.path)")
            }
            throw ExitCode(1)
        }
        let line = PasswordInput.read()
        guard case .line(let password) = line else {
            Output.warn(PasswordInput.problem(line, command: "verify") ?? "verify: no password given")
            throw ExitCode(2)
        }
        var allAccept = true
        var report: [String] = []
        var fields = base + [("found", .bool(true)), ("line", match.line.map { .int($0) } ?? .null)]

        let where_ = match.line.map { "\(credentials.path):\($0)" } ?? credentials.path
        do {
            let smtpd = try Credentials(key: match.keyBytes, value: value)
            let ok = smtpd.accepts(password: password)
            allAccept = allAccept && ok
            var line = "smtpd (auth <table>): \(ok ? "accepted" : "refused")"
            if !ok, !smtpd.problems.isEmpty { line += " (\(smtpd.problems.joined(separator: "; ")))" }
            report.append(line)
            fields.append(("smtpd", .object([("accepted", .bool(ok)),
                                             ("problems", .array(ok ? [] : smtpd.problems.map(JSONValue.string)))])))
        } catch {
            allAccept = false
            report.append("smtpd (auth <table>): refused (\(where_): \(error.message))")
            fields.append(("smtpd", .object([("accepted", .bool(false)), ("problems", .array([.string(error.message)]))])))
        }

        let dovecotRelease = DovecotVersion.select(option: dovecotVersion).version
        let dovecotScheme = (self.dovecotScheme ?? dovecotRelease.defaultPasswordScheme).uppercased()
        if credentials.backend == .file {
            // Dovecot reads the file itself: the login folded to lower case, then the user field as written
            // and the password field up to the next colon (blanks included).
            let verdict: PasswordVerdict
            if let entry = try? DovecotPasswords.entry(forLogin: user, inFile: credentials.path) {
                verdict = DovecotPasswords.verify(password: password, entry: entry, defaultScheme: dovecotScheme,
                                                  version: dovecotRelease)
            } else {
                verdict = .rejected
            }
            var dovecot: [(String, JSONValue)] = [("checked", .bool(true)), ("scheme", .string(dovecotScheme)),
                                                  ("version", .string(dovecotRelease.description))]
            switch verdict {
            case .accepted:
                report.append("Dovecot (passwd-file, scheme=\(dovecotScheme)): accepted")
                dovecot.append(("accepted", .bool(true)))
            case .rejected:
                allAccept = false
                report.append("Dovecot (passwd-file, scheme=\(dovecotScheme)): refused")
                dovecot.append(("accepted", .bool(false)))
            case .weakScheme(let scheme):
                allAccept = false
                report.append("Dovecot (passwd-file, scheme=\(dovecotScheme)): refused (weak password scheme \(scheme): "
                              + "Dovecot \(dovecotRelease) refuses it unless auth_allow_weak_schemes = yes)")
                dovecot += [("accepted", .bool(false)), ("weakScheme", .string(scheme))]
            case .unsupportedScheme(let scheme):
                allAccept = false
                report.append("Dovecot (passwd-file, scheme=\(dovecotScheme)): cannot tell (scheme \(scheme) is not supported here)")
                dovecot += [("accepted", .null), ("unsupportedScheme", .string(scheme))]
            }
            fields.append(("dovecot", .object(dovecot)))
        } else {
            report.append("Dovecot: not checked (Dovecot's passwd-file reads text files, not \(credentials.backend.name): tables)")
            fields.append(("dovecot", .object([("checked", .bool(false))])))
        }
        if json {
            writer.append(fields + [("accepted", .bool(allAccept))])
            writer.finish()
        } else {
            for line in report { print(line) }
        }
        if !allAccept { throw ExitCode(1) }
    }
}

extension DovecotVersion: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
}
