import ArgumentParser
import SMTPDTables

/// `--smtpd-version X.Y`, shared by every subcommand (`@OptionGroup`): the OpenSMTPD release whose behaviour
/// is reproduced. Without it: `SMTPD_TABLES_SMTPD_VERSION`, else the installed smtpd's (`smtpd -h`), else the
/// newest.
struct VersionOptions: ParsableArguments {
    @Option(name: .customLong("smtpd-version"), help: ArgumentHelp(
        "The OpenSMTPD release to reproduce, \(SMTPDVersion.oldest) to \(SMTPDVersion.newest) (default: "
            + "$\(SMTPDVersion.environmentVariable), else the installed smtpd's, else \(SMTPDVersion.newest)).",
        valueName: "X.Y"))
    var smtpdVersion: String?

    func validate() throws {
        if let smtpdVersion {
            do { _ = try SMTPDVersion(smtpdVersion) } catch { throw ValidationError("--smtpd-version: \(error)") }
        }
    }

    /// The version in use and where it came from; an unknown version in the environment is an error (exit 2).
    func selection() throws -> SMTPDVersion.Selection {
        do {
            return try SMTPDVersion.select(option: smtpdVersion)
        } catch {
            Output.warn(error.description)
            throw ExitCode(2)
        }
    }

    /// The version in use.
    func version() throws -> SMTPDVersion { try selection().version }

    /// Table options at the version in use.
    func tableOptions(subaddressDelimiter: UInt8 = UInt8(ascii: "+")) throws -> TableOptions {
        TableOptions(subaddressDelimiter: subaddressDelimiter, version: try version())
    }

    /// The first line of `resolve` and `check` text output: which release's behaviour was applied.
    static func banner(_ selection: SMTPDVersion.Selection) -> String { "smtpd version: \(selection)" }
}
