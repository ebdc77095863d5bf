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
            guard let secret = PasswordInput.readWithoutEcho(prompt: "Password: ") else {
                Output.warn("encrypt: no password given")
                throw ExitCode(2)
            }
            try emit(secret)
            return
        }
        // Like the encrypt helper smtpctl runs: every line of stdin is a password (newline removed).
        var pending: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(STDIN_FILENO, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                Output.warn("encrypt: cannot read standard input")
                throw ExitCode(2)
            }
            if n == 0 { break }
            pending.append(contentsOf: buffer[0..<n])
            while let nl = pending.firstIndex(of: UInt8(ascii: "\n")) {
                try emit(Array(pending[..<nl]))
                pending.removeSubrange(...nl)
            }
        }
        if !pending.isEmpty { try emit(pending) }
    }

    private func emit(_ secret: [UInt8]) throws {
        do {
            print(try PasswordHasher.hash(secret, scheme: scheme, rounds: rounds))
        } catch {
            Output.warn("encrypt: \(error.description)")
            throw ExitCode(2)
        }
    }
}

