import ArgumentParser
import SMTPDTables

#if canImport(Glibc)
import Glibc
#endif

/// `smtpd-tables migrate-config`: an OpenSMTPD 6.0-6.3 smtpd.conf rewritten in the 6.4+ grammar.
struct MigrateConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate-config",
        abstract: "Rewrite a 6.0-6.3 smtpd.conf (accept ... deliver to) in the 6.4+ grammar (action + match).",
        discussion: """
            Each accept or reject rule becomes a match line, in the same order, and each delivery an action \
            declared before its first use (identical ones shared), with a '# was:' comment holding the old \
            rule. Listeners, pki and ca (certificate -> cert), expire (queue ttl), max-message-size, \
            subaddressing-delimiter, ciphers and bounce-warn are translated; tables, macros and includes are \
            kept. What cannot be translated exactly is marked with a '# migrate-config:' comment and listed \
            on standard error. A listener's pki that lost its name (as in configurations copied from web \
            pages) becomes the configuration's only pki. The result is checked with the configuration \
            reader; -o replaces NEW atomically (with OLD's mode and owner) and never writes onto OLD. Exit \
            status: 0 written, 1 written but it does not parse yet (the reason is on standard error), 2 \
            errors (OLD cannot be read or is not in the old grammar).
            """)

    @Option(name: .customShort("f"), help: ArgumentHelp("The old smtpd.conf.", valueName: "old"), completion: .file())
    var file: String = "/etc/smtpd.conf"

    @Option(name: .customShort("o"), help: ArgumentHelp("Write the new configuration here (default: standard output).",
                                                        valueName: "new"), completion: .file())
    var output: String?

    @OptionGroup var versionOptions: VersionOptions

    func run() throws {
        _ = try versionOptions.selection()
        let text: String
        do {
            text = try LegacyConfig.readText(path: file)
        } catch {
            Output.warn(error.description)
            throw ExitCode(2)
        }
        guard LegacyConfig.firstOldLine(in: text) != nil else {
            Output.warn("\(file): not in the 6.0-6.3 grammar (no accept/reject rule, no old directive): nothing to migrate")
            throw ExitCode(2)
        }
        let migration = LegacyConfig.migrate(text)
        for note in migration.notes { Output.warn("\(file):\(note.line): \(note.message)") }
        var parses = true
        do {
            _ = try SMTPDConfig.parse(text: migration.text, path: output ?? "<migrated \(file)>")
        } catch {
            Output.warn("the migrated configuration needs editing before smtpd takes it: \(error.description)")
            parses = false
        }
        guard let output else {
            print(migration.text, terminator: "")
            if !parses { throw ExitCode(1) }
            return
        }
        if ConvertCommand.sameFile(file, output) {
            Output.warn("\(output): is the old configuration itself; write the migration to another file")
            throw ExitCode(2)
        }
        do {
            try LegacyConfig.write(migration.text, to: output, modeOf: file)
        } catch {
            Output.warn(error.description)
            throw ExitCode(2)
        }
        Output.warn("\(output): \(migration.rules) rule\(migration.rules == 1 ? "" : "s") migrated, "
                    + "\(migration.notes.count) note\(migration.notes.count == 1 ? "" : "s")")
        if !parses { throw ExitCode(1) }
    }
}
