// What `--version` prints, in one place: the package version (the only copy of it: the Makefile and the
// Debian package read it from this file), the libdb the program links, and the smtpd release whose table
// semantics the library applies.
//
// db_version(3) is called here rather than in BerkeleyDB.swift: it takes no handle and changes nothing,
// and this keeps the version code in one file apart from the wrapper.

import CBerkeleyDB

/// What `--version` prints: the package version, the libdb linked and the smtpd semantics applied.
public enum SMTPDTablesVersion {
    /// The package version. The Makefile extracts it with `sed` from the line below: keep it on one line.
    public static let package = "0.2.0"

    /// The OpenSMTPD release whose table semantics apply when none is chosen on the command line, and why
    /// (`SMTPDVersion.select()`: SMTPD_TABLES_SMTPD_VERSION, the installed smtpd's, the newest).
    public static var smtpdSemantics: String {
        let range = "\(SMTPDVersion.oldest) to \(SMTPDVersion.newest) selectable"
        do {
            return "OpenSMTPD \(try SMTPDVersion.select()); \(range)"
        } catch {
            return "OpenSMTPD \(SMTPDVersion.newest) (\(error)); \(range)"
        }
    }

    /// libdb's own version text, e.g. `Berkeley DB 5.3.28: (September  9, 2013)` (`db_version(3)`), from the
    /// library actually loaded at run time (not the header the build saw).
    public static var berkeleyDB: String {
        guard let text = db_version(nil, nil, nil) else { return "Berkeley DB (unknown version)" }
        return String(cString: text)
    }

    /// The `--version` text of `program`: three lines.
    public static func text(program: String) -> String {
        """
        \(program == "smtpd-tables" ? program : "\(program) (smtpd-tables)") \(package)
        libdb: \(berkeleyDB)
        table semantics: \(smtpdSemantics)

        """
    }
}
