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
            unchanged. Exit status: 0, or 2 on errors.
            """)

    @OptionGroup var versionOptions: VersionOptions

    @Argument(help: "The table: file:PATH, db:PATH or PATH.", completion: .file())
    var table: String

    func run() throws {
        let table = try TableArgument.open(self.table, options: try versionOptions.tableOptions())
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
