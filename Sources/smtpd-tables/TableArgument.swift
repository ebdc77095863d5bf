import ArgumentParser
import SMTPDTables

/// A table named on the command line (`file:PATH`, `db:PATH`, a bare PATH), as every subcommand opens it.
enum TableArgument {
    /// makemap's access methods, which people write as a prefix (as in Postfix's `hash:/etc/aliases`):
    /// smtpd.conf has no such backend, both name a Berkeley DB, so they are read as `db:`.
    static let accessMethodPrefixes = ["hash:", "btree:"]

    /// The spec smtpd would understand, and the note to print when it was rewritten.
    static func normalized(_ spec: String) -> (spec: String, note: String?) {
        for prefix in accessMethodPrefixes where spec.hasPrefix(prefix) {
            let path = String(spec.dropFirst(prefix.count))
            var note = "note: \(spec) read as db:\(path) (smtpd.conf names Berkeley DB tables db:, whatever "
                + "makemap's -d)"
            if prefix == "btree:" { note += "; smtpd itself opens every db: table as hash and refuses a btree" }
            return ("db:" + path, note)
        }
        return (spec, nil)
    }

    /// Opens the table, printing the rewrite note and any error on standard error (then exit 2).
    static func open(_ spec: String, options: TableOptions) throws -> Table {
        let (spec, note) = normalized(spec)
        if let note { Output.warn(note) }
        do {
            return try Table(spec, options: options)
        } catch {
            Output.warn(error.description)
            throw ExitCode(2)
        }
    }
}
