import SMTPDTables
#if canImport(Glibc)
import Glibc
#endif

// PATH_LIBEXEC/table-passwd: smtpd 7.6+ runs it for `table NAME passwd:/PATH` (argv[0] the table's name,
// argv[1] the path), serving the file in table-passwd's format (credentials and userinfo).
exit(ProcServer.runAsHelper(backend: "passwd", arguments: CommandLine.arguments))
