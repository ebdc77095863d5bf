import ArgumentParser
import SMTPDTables
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension PasswordScheme: ExpressibleByArgument {}

/// `smtpd-tables encrypt`: like `smtpctl encrypt`, prints a crypt(3) hash of a password.
struct EncryptCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encrypt",
        abstract: "Print a crypt(3) hash of a password, like `smtpctl encrypt`.",
        discussion: """
            With no PASSWORD, reads one password per line from standard input and prints one hash per line;
            on a terminal it asks for the password without echoing it. The hash suits smtpd's credentials
            tables and Dovecot's passwd-file (bcrypt is Dovecot's BLF-CRYPT, sha512 its SHA512-CRYPT).
            A password given as an argument is visible to other users in the process list.

            Limits: bcrypt (the default) uses only the first 72 bytes of a password, so a longer one is \
            refused (exit 2) rather than hashed into something that also accepts its first 72 bytes; use \
            --scheme sha512 or yescrypt for longer ones. crypt(3) takes at most 511 bytes with any scheme, \
            and a line of standard input is read up to 1 MiB. At the prompt, ^C or ^\\ put the terminal \
            back (echo on) and exit with 128 + the signal (130, 131). Exit status: 0, or 2 on errors.
            """)

    @Option(help: "Hash method: \(PasswordScheme.allCases.map(\.rawValue).joined(separator: ", ")).")
    var scheme: PasswordScheme = .bcrypt

    @Option(help: "Cost: bcrypt log2 rounds (4-31, default 10), sha512/sha256 rounds (1000-999999999, default 5000), yescrypt cost (1-11, default 5).")
    var rounds: Int?

    /// Accepted as on every subcommand; hashing is the same in every release.
    @OptionGroup var versionOptions: VersionOptions

    @Argument(help: "The password (read from standard input when absent).")
    var password: String?

    func validate() throws {
        if let rounds, !scheme.roundsRange.contains(rounds) {
            throw ValidationError("--rounds for \(scheme.rawValue) must be between \(scheme.roundsRange.lowerBound) and \(scheme.roundsRange.upperBound)")
        }
    }

    func run() throws {
        if let password {
            try emit(Array(password.utf8))
            return
        }
        if isatty(STDIN_FILENO) == 1 {
            let line = PasswordInput.readWithoutEcho(prompt: "Password: ")
            guard case .line(let secret) = line else {
                Output.warn(PasswordInput.problem(line, command: "encrypt") ?? "encrypt: no password given")
                throw ExitCode(2)
            }
            try emit(secret)
            return
        }
        // Like the encrypt helper smtpctl runs: every line of stdin is a password (newline removed).
        var reader = PasswordInput.Reader()
        var number = 0
        while true {
            number += 1
            let line = reader.next()
            if line == .end { break }
            guard case .line(let secret) = line else {
                Output.warn((PasswordInput.problem(line, command: "encrypt") ?? "") + " (line \(number))")
                throw ExitCode(2)
            }
            try emit(secret, line: number)
        }
    }

    /// bcrypt uses the first 72 bytes of a password and ignores the rest.
    static let bcryptLimit = 72
    /// libxcrypt's crypt(3) refuses a password of CRYPT_MAX_PASSPHRASE_SIZE (512) bytes or more.
    static let cryptLimit = 511

    private func emit(_ secret: [UInt8], line: Int? = nil) throws {
        let which = line.map { " (line \($0))" } ?? ""
        // Refused, not warned: a bcrypt hash of a longer password also accepts every password that shares
        // its first 72 bytes, which nobody choosing a long password expects.
        if scheme == .bcrypt, secret.count > Self.bcryptLimit {
            Output.warn("encrypt: bcrypt uses only the first \(Self.bcryptLimit) bytes of a password and this one has \(secret.count)\(which): use a shorter password, or --scheme sha512 or yescrypt")
            throw ExitCode(2)
        }
        if secret.count > Self.cryptLimit {
            Output.warn("encrypt: crypt(3) takes passwords of at most \(Self.cryptLimit) bytes and this one has \(secret.count)\(which)")
            throw ExitCode(2)
        }
        do {
            print(try PasswordHasher.hash(secret, scheme: scheme, rounds: rounds))
        } catch {
            Output.warn("encrypt: \(error.description)")
            throw ExitCode(2)
        }
    }
}

