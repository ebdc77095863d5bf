import ArgumentParser
import SMTPDTables

#if canImport(Glibc)
import Glibc
#endif

/// `smtpd-tables serve TABLE`: a proc: table backend for OpenSMTPD 7.6 and later on standard input and output.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve one table to smtpd 7.6 or later over the proc: protocol on standard input and output.",
        discussion: """
            TABLE is file:PATH, db:PATH, passwd:PATH (user:hash[:uid:gid:gecos:home:shell[:extra]] lines) or a \
            bare PATH (a Berkeley DB file is read as db:, anything else as file:). Without --smtpd-version the \
            table is read as the release smtpd announces in the handshake. Every service is registered but \
            auth (smtpd folds the password to lower case); a passwd table registers credentials and userinfo. \
            Only protocol goes to standard output; diagnostics go to standard error (smtpd's log). smtpd runs \
            the same server as PATH_LIBEXEC/table-idx and table-passwd (see smtpd-tables(8)).
            """)

    @Option(name: .customLong("smtpd-version"), help: ArgumentHelp(
        "Serve the semantics of this release, \(SMTPDVersion.oldest) to \(SMTPDVersion.newest) (default: the one "
            + "smtpd announces).", valueName: "X.Y"))
    var smtpdVersion: String?

    @Argument(help: "The table: file:PATH, db:PATH, passwd:PATH or PATH.")
    var table: String

    func validate() throws {
        if let smtpdVersion {
            do { _ = try SMTPDVersion(smtpdVersion) } catch { throw ValidationError("--smtpd-version: \(error)") }
        }
    }

    func run() throws {
        let version = try smtpdVersion.map { v throws -> SMTPDVersion in try SMTPDVersion(v) }
        let status = ProcServer.run(ProcServer.Configuration(table: table, version: version))
        throw ExitCode(status)
    }
}
