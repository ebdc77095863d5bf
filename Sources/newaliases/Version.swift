import Glibc
import SMTPDTables

/// `-V`, `--version`: the package version, the libdb linked and the smtpd semantics applied, then exit 0.
func printVersion() -> Never {
    let text = Array(SMTPDTablesVersion.text(program: "newaliases").utf8)
    text.withUnsafeBytes { _ = write(1, $0.baseAddress, $0.count) }
    exit(0)
}
