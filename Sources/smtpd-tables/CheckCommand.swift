import ArgumentParser
import FoundationEssentials
import SMTPDTables

/// `smtpd-tables check`: lint smtpd.conf and every table it declares.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Lint smtpd.conf and its tables for setup mistakes.",
        discussion: """
            Reports, with file and line: malformed and duplicate entries; alias and virtual values smtpd \
            cannot expand; credentials smtpd cannot use (Dovecot's extra ':' fields, {SCHEME} prefixes, plain \
            text, unknown hashes) and weak hashes; virtual entries for domains no rule accepts; wildcard \
            patterns that do not match what they seem to; db files older than their source; stale temporary \
            files of killed makemap runs. Never prints a password or a hash. Exit status: 0 clean (notes \
            only), 1 findings, 2 errors (the configuration cannot be read).
            """)

    @Option(name: .short, help: ArgumentHelp("The smtpd.conf to check.", valueName: "file"),
            completion: .file())
    var file: String = "/etc/smtpd.conf"

    @OptionGroup var versionOptions: VersionOptions

    @Flag(help: "Print the findings as a JSON array (each naming the smtpdVersion applied).")
    var json = false

    @Option(name: .customLong("upgrade-to"), help: ArgumentHelp(
        "Instead of linting, list every table line, db source line, configuration line and alias or virtual "
            + "target whose meaning changes between the release in use and this one.", valueName: "X.Y"))
    var upgradeTo: String?

    func run() throws {
        let config: SMTPDConfig
        let selection = try versionOptions.selection()
        if let upgradeTo {
            let target: SMTPDVersion
            do { target = try SMTPDVersion(upgradeTo) } catch {
                throw ValidationError("--upgrade-to: \(error)")
            }
            let findings = UpgradeCheck(configPath: file, from: selection.version, to: target).run()
            try report(findings, selection: selection, heading: "upgrading to \(target)")
            return
        }
        do {
            config = try SMTPDConfig.load(path: file, options: .init(smtpdVersion: selection.version))
        } catch {
            Output.warn(error.description)
            throw ExitCode(2)
        }
        var options = Resolver.Options(host: .system())
        options.smtpdVersion = selection.version
        let findings = SetupChecker(config: config, resolverOptions: options).run()
        try report(findings, selection: selection)
    }

    /// Prints the findings (text or JSON) and exits 1 when any is more than a note.
    private func report(_ findings: [Finding], selection: SMTPDVersion.Selection, heading: String? = nil) throws {
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            let data = try encoder.encode(findings.map { VersionedFinding(finding: $0, smtpdVersion: selection.version) })
            print(String(decoding: data, as: UTF8.self))
        } else {
            // Findings quote keys from tables: on a terminal their control characters are shown escaped.
            var out = OutputBuffer()
            out.appendText(VersionOptions.banner(selection) + (heading.map { ", \($0)" } ?? "") + "\n")
            for finding in findings { out.appendText(finding.description + "\n") }
            let counted = findings.filter { $0.severity != .note }.count
            let notes = findings.count - counted
            out.appendText(counted == 0 ? "\(file): no problems found" + (notes > 0 ? " (\(notes) notes)" : "") + "\n"
                : "\(file): \(counted) problem\(counted == 1 ? "" : "s")" + (notes > 0 ? ", \(notes) notes" : "") + "\n")
            out.flush()
        }
        if findings.contains(where: { $0.severity != .note }) { throw ExitCode(1) }
    }
}

/// A finding in `check --json`, with the release whose behaviour was applied beside its own fields.
struct VersionedFinding: Encodable {
    var finding: Finding
    var smtpdVersion: SMTPDVersion

    private enum CodingKeys: String, CodingKey { case smtpdVersion }

    func encode(to encoder: any Encoder) throws {
        try finding.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(smtpdVersion.description, forKey: .smtpdVersion)
    }
}
