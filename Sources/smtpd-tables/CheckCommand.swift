import ArgumentParser
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
            files of killed makemap runs; and what smtpd -n refuses: every configuration error (all of them, \
            not only the first), table files, listener interfaces and addresses, pki certificate and key \
            files, plus mda programs that are not executable and (as notes) lmtp sockets that do not exist yet. \
            With --dovecot-conf, also Dovecot's side of a shared passwd file: user names with capitals, blanks \
            after the colon, hashes the passdb's scheme cannot check, weak schemes Dovecot 2.4 refuses, and a \
            configuration in the other release's syntax. Never prints a password or a hash. \
            Exit status: 0 clean (notes only), 1 findings, 2 errors (the configuration cannot be read; each \
            error on standard error, and with --json as findings of code config).
            """)

    @Option(name: .short, help: ArgumentHelp("The smtpd.conf to check.", valueName: "file"),
            completion: .file())
    var file: String = "/etc/smtpd.conf"

    @OptionGroup var versionOptions: VersionOptions

    @Option(name: .customLong("dovecot-conf"), help: ArgumentHelp(
        "Also check this Dovecot configuration (2.3 or 2.4 syntax, !include followed) and the passwd files of its "
            + "passwd-file passdbs, above all those smtpd's auth also reads.", valueName: "file"),
            completion: .file())
    var dovecotConf: String?

    @Option(name: .customLong("dovecot-version"), help: ArgumentHelp(
        "The Dovecot release to check against with --dovecot-conf, 2.3 or 2.4 (default: the installed "
            + "dovecot's, else 2.4).", valueName: "X.Y"))
    var dovecotVersion: DovecotVersion?

    @Flag(help: "Print JSON: one array with an object per finding (see smtpd-tables(8), JSON OUTPUT).")
    var json = false

    @Option(name: .customLong("upgrade-to"), help: ArgumentHelp(
        "Instead of linting, list every table line, db source line, configuration line and alias or virtual "
            + "target whose meaning changes between the release in use and this one.", valueName: "X.Y"))
    var upgradeTo: String?

    func run() throws {
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
        // Every error smtpd -n would report, not only the first.
        let read: (config: SMTPDConfig?, errors: [TableError])
        do {
            read = try SMTPDConfig.loadReportingAll(path: file, options: .init(smtpdVersion: selection.version))
        } catch {
            Output.warn(error.description)
            throw ExitCode(2)
        }
        guard let config = read.config, read.errors.isEmpty else {
            for error in read.errors { Output.warn(error.description) }
            if json {
                var writer = JSONArrayWriter(smtpdVersion: selection.version)
                for error in read.errors {
                    writer.append(CheckCommand.jsonFields(Finding(.error, "config", file: error.path, line: error.line,
                                                                  error.message)))
                }
                writer.finish()
            }
            throw ExitCode(2)
        }
        var options = Resolver.Options(host: .system())
        options.smtpdVersion = selection.version
        var findings = SetupChecker(config: config, resolverOptions: options).run()
        // What smtpd -n checks beyond the grammar: the table files (every error it would report),
        // then listeners, pki files, mda and lmtp targets.
        if let strict = try? SMTPDConfig.loadReportingAll(
            path: file, options: .init(checkTableFiles: true, smtpdVersion: selection.version)) {
            let tableErrors = strict.errors.map { Finding(.error, "smtpd-n", file: $0.path, line: $0.line, $0.message) }
            findings.insert(contentsOf: tableErrors, at: 0)
        }
        findings += DaemonStartChecks.findings(config)
        // `dovecot --version` runs once, for the check and for the report.
        let dovecotSelection = dovecotConf.map { _ in DovecotVersion.select(option: dovecotVersion) }
        if let dovecotConf, let release = dovecotSelection?.version {
            let dovecot: DovecotConfig
            do { dovecot = try DovecotConfig.load(path: dovecotConf) } catch {
                Output.warn(error.description)
                throw ExitCode(2)
            }
            // After smtpd's findings, in the order of file and line.
            let ordered = DovecotCheck(dovecot: dovecot, version: release, smtpd: config).run().enumerated().sorted {
                ($0.element.file ?? "", $0.element.line ?? 0, $0.offset) < ($1.element.file ?? "", $1.element.line ?? 0, $1.offset)
            }
            findings += ordered.map(\.element)
        }
        try report(findings, selection: selection, dovecot: dovecotSelection)
    }

    /// Prints the findings (text or JSON) and exits 1 when any is more than a note.
    private func report(_ findings: [Finding], selection: SMTPDVersion.Selection, heading: String? = nil,
                        dovecot: (version: DovecotVersion, origin: String)? = nil) throws {
        if json {
            var writer = JSONArrayWriter(smtpdVersion: selection.version)
            // Dovecot's findings also name the Dovecot release they reproduce.
            for finding in findings {
                var fields = CheckCommand.jsonFields(finding)
                if let dovecot, finding.code.hasPrefix("dovecot-") {
                    fields.append(("dovecotVersion", .string(dovecot.version.rawValue)))
                }
                writer.append(fields)
            }
            writer.finish()
        } else {
            // Findings quote keys from tables: on a terminal their control characters are shown escaped.
            var out = OutputBuffer()
            var banner = VersionOptions.banner(selection) + (heading.map { ", \($0)" } ?? "")
            if let dovecot { banner += "; dovecot version: \(dovecot.version) (\(dovecot.origin))" }
            out.appendText(banner + "\n")
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

extension CheckCommand {
    /// One object per finding: severity, code, file, line, table (null when not known) and message.
    static func jsonFields(_ f: Finding) -> [(String, JSONValue)] {
        [("severity", .string(f.severity.rawValue)), ("code", .string(f.code)), ("file", .optional(f.file)),
         ("line", f.line.map { .int($0) } ?? .null), ("table", .optional(f.table)), ("message", .string(f.message))]
    }
}
