import ArgumentParser
import SMTPDTables

#if canImport(Glibc)
import Glibc
#endif

@main
struct SMTPDTablesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "smtpd-tables",
        abstract: "Query, resolve and check OpenSMTPD tables.",
        discussion: """
            Tables are named as in smtpd.conf: file:PATH, db:PATH, or a bare PATH (a Berkeley DB file is \
            read as db:, anything else as file:); hash:PATH and btree:PATH, makemap's words, are read as db:PATH \
            with a note. Exit status: 0 success or found, 1 not found or findings, \
            2 errors.
            """,
        version: String(SMTPDTablesVersion.text(program: "smtpd-tables").dropLast()),  // without the final newline
        subcommands: [
            QueryCommand.self, ResolveCommand.self, CheckCommand.self, DumpCommand.self, ConvertCommand.self,
            EncryptCommand.self, VerifyCommand.self, MigrateConfigCommand.self, ServeCommand.self,
        ])

    /// Runs the tool with exit codes 0/1/2 (argument errors are 2, not swift-argument-parser's 64).
    static func main() {
        QuitSignal.useDefaultAction()   // ^\ quits, without Swift's crash report
        // Swift reads the arguments from /proc/self/cmdline: without /proc (a bare chroot) there are none.
        if CommandLine.argc == 0 {
            Output.warn("cannot read the command line: is /proc mounted?")
            Glibc.exit(2)
        }
        // A mistyped subcommand would otherwise read as "N unexpected arguments".
        if let first = CommandLine.arguments.dropFirst().first, !first.hasPrefix("-") {
            let names = configuration.subcommands.map { $0._commandName }
            if !names.contains(first), first != "help" {
                Output.warn(Suggestion.unknown("subcommand", first, among: names))
                Output.error("See 'smtpd-tables --help'.")
                Glibc.exit(2)
            }
        }
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Glibc.exit(0)
            }
            let message = fullMessage(for: error)
            if !message.isEmpty { Output.error(message) }
            Glibc.exit(code == ExitCode(1) ? 1 : 2)
        }
    }
}
