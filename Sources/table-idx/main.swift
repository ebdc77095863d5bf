import SMTPDTables
#if canImport(Glibc)
import Glibc
#endif

// PATH_LIBEXEC/table-idx: smtpd 7.6+ runs it for `table NAME idx:/PATH` with argv[0] the table's name and
// argv[1] the path; a Berkeley DB file is served as db:, anything else as file:.
exit(ProcServer.runAsHelper(backend: nil, arguments: CommandLine.arguments))
