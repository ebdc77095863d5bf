import ArgumentParser
import SMTPDTables

struct DumpCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dump",
        abstract: "Print every entry of a table as smtpd sees it.",
        discussion: """
            Prints KEY<TAB>VALUE for each entry, like makemap -U: keys as stored (folded), values byte for \
            byte, a db record's trailing NUL dropped. List entries print the key alone; makemap -t set maps \
            print <set> as the value. A file table prints the entries in force (the last of a repeated key) in \
            file order; a db table (hash or btree) in the database's own order. On a terminal, control \
            characters in keys and values are shown escaped (\\x1b); through a pipe they are written \
            unchanged. --json prints one array with an object per entry (key, value: null for a list \
            entry); there a value that looks like a password or a hash is withheld unless --show-secrets. \
            Exit status: 0, or 2 on errors.
            """)

    @Flag(help: "Print JSON: one array with an object per entry (see smtpd-tables(8), JSON OUTPUT).")
    var json = false

    @Flag(name: .customLong("show-secrets"),
          help: "In JSON, print values that look like passwords or hashes (withheld otherwise).")
    var showSecrets = false

    @OptionGroup var versionOptions: VersionOptions

    @Argument(help: "The table: file:PATH, db:PATH or PATH.", completion: .file())
    var table: String

    func run() throws {
        let options = try versionOptions.tableOptions()
        let table = try TableArgument.open(self.table, options: options)
        if json {
            var writer = JSONArrayWriter(smtpdVersion: options.version)
            table.forEachEntry { key, value in
                writer.append([("key", .bytes(key))]
                              + SecretPolicy.valueFields(value, secret: value.map(Credentials.looksSecret) ?? false,
                                                         show: showSecrets))
            }
            writer.finish()
            return
        }
        var out = OutputBuffer()
        table.forEachEntry { key, value in
            out.appendField(key)
            if let value {
                out.append([0x09])
                out.appendField(value)
            }
            out.append([0x0A])
        }
        out.flush()
    }
}
