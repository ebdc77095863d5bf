import ArgumentParser
import SMTPDTables

#if canImport(Glibc)
import Glibc
#endif

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
            was and exit with 128 + the signal. DST may not be SRC itself (nor a link to it): that is refused \
            and SRC left untouched. hash:PATH and btree:PATH are read as db:PATH, with a note. Exit status: 0, \
            or 2 on errors.
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
        let table = try TableArgument.open(source, options: try versionOptions.tableOptions())
        if ConvertCommand.sameFile(table.path, destination) {
            Output.warn("\(destination): is the source table \(table.path); write the conversion to another file "
                        + "(the source is left as it was)")
            throw ExitCode(2)
        }
        do {
            try TableExport.write(table, to: destination, format: exportFormat)
        } catch {
            Output.warn(error.description)
            throw ExitCode(2)
        }
    }

    /// Whether both paths name one file (the same device and inode: links and symbolic links included).
    static func sameFile(_ a: String, _ b: String) -> Bool {
        var sa = stat(), sb = stat()
        guard stat(a, &sa) == 0, stat(b, &sb) == 0 else { return false }
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino
    }
}
