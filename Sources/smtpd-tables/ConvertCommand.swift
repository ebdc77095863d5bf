import ArgumentParser
import SMTPDTables

struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert a table between a file, a db hash and a db btree.",
        discussion: """
            Reads SRC (file:PATH, db:PATH or PATH) and writes every entry smtpd sees to DST, replacing it \
            atomically (a temporary file beside it, renamed into place; DST takes SRC's mode and owner). A db \
            is written in makemap's format (key and value each followed by a NUL; list entries as <set>); a \
            file as KEY VALUE lines, or '# @list' and one key per line for a list or a db whose values are all \
            <set>. Entries a file table cannot hold unchanged are refused. Without --to, a DST ending in .db \
            is written as a hash, anything else as a file. Note that smtpd opens every db: table as hash. \
            SIGINT, SIGTERM, SIGHUP or SIGQUIT while DST is written remove the temporary file, leave DST as it \
            was and exit with 128 + the signal. Exit status: 0, or 2 on errors.
            """)

    enum Target: String, ExpressibleByArgument, CaseIterable {
        case file, hash, btree
    }

    @Option(name: .customLong("to"), help: "The format to write: file, hash or btree.")
    var format: Target?

    @OptionGroup var versionOptions: VersionOptions

    @Argument(help: "The table to read: file:PATH, db:PATH or PATH.", completion: .file())
    var source: String

    @Argument(help: "The file to write.", completion: .file())
    var destination: String

    func run() throws {
        let target = format ?? (destination.hasSuffix(".db") ? .hash : .file)
        let exportFormat: TableExport.Format
        switch target {
        case .file: exportFormat = .file
        case .hash: exportFormat = .db(.hash)
        case .btree: exportFormat = .db(.btree)
        }
        let options = try versionOptions.tableOptions()
        do {
            let table = try Table(source, options: options)
            try TableExport.write(table, to: destination, format: exportFormat)
        } catch {
            Output.warn(error.description)
            throw ExitCode(2)
        }
    }
}
