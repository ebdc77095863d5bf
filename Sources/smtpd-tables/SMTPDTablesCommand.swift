import ArgumentParser
import SMTPDTables

@main
struct SMTPDTablesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "smtpd-tables",
        abstract: "Query, resolve and check OpenSMTPD tables.",
        subcommands: [])
}
