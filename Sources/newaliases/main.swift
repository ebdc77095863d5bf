// newaliases(8): rebuild the aliases map of smtpd.conf, as upstream `newaliases [-f file]` (makemap.c in
// P_NEWALIASES mode): the table named `aliases` (its path without `.db`), else /etc/aliases, is built as
// `makemap -t aliases` into SOURCE.db, and `SOURCE: N aliases` is printed. Unlike upstream there is no root
// check: anyone who may write the map may rebuild it (mailing-list managers need that). The aliases file is read as
// the makemap of the release named by SMTPD_TABLES_SMTPD_VERSION, else of the installed smtpd, else of the newest.
import GetOpt
import Glibc
import SMTPDTables

// ^\ quits without Swift's crash report (AtomicFile+Signals.swift).
QuitSignal.useDefaultAction()

let program = CommandLine.arguments.first.map { String($0.split(separator: "/").last ?? "newaliases") } ?? "newaliases"

func message(_ text: String) {
    let line = Array("\(program): \(text)\n".utf8)
    line.withUnsafeBytes { _ = write(2, $0.baseAddress, $0.count) }
}

func fail(_ text: String) -> Never {
    message(text)
    exit(1)
}

func usage() -> Never {
    Array("usage: newaliases [-f file]\n".utf8).withUnsafeBytes { _ = write(2, $0.baseAddress, $0.count) }
    exit(1)
}

// Swift reads the arguments from /proc/self/cmdline: without /proc (a bare chroot) there are none, not even
// argv[0]. Say so rather than act as if no option was given.
if CommandLine.argc == 0 { fail("cannot read the command line: is /proc mounted?") }
// `--version` (first argument) and `-V` are ours: upstream's getopt string ("f:h") has no V.
if CommandLine.arguments.dropFirst().first == "--version" { printVersion() }
let parsed: GetOpt
do {
    parsed = try GetOpt(Array(CommandLine.arguments.dropFirst()), spec: "f:hV")
} catch {
    let line = Array("\(CommandLine.arguments.first ?? program): \(error.description)\n".utf8)
    line.withUnsafeBytes { _ = write(2, $0.baseAddress, $0.count) }
    usage()
}
var configPath = MapBuilder.defaultConfigFile
for option in parsed.options {
    switch option.letter {
    case "f": configPath = option.argument ?? configPath
    case "V": printVersion()
    default: usage()
    }
}
if !parsed.operands.isEmpty { usage() }

do {
    // The one newaliases, shared with `makemap -b i`.
    let version: SMTPDVersion
    do { version = try SMTPDVersion.select().version } catch { fail(error.description) }
    let result = try MapBuilder.rebuildAliases(configFile: configPath, version: version)
    print("\(result.source.name): \(result.count) aliases")
} catch {
    // Upstream's message (scripts match it), then what is wrong when known.
    for line in error.explained.split(separator: "\n") { message(String(line)) }
    exit(1)
}
