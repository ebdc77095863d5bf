// makemap(8): build or dump a Berkeley DB map for OpenSMTPD. A drop-in for upstream makemap.c: same options
// (getopt syntax), messages (`makemap: ...`, as err(3)/warnx(3) print them) and exit codes (0, or 1 for any
// failure and for usage). The work is done by the library (MapBuilder, DBDump). The source is read as the makemap
// of the smtpd release named by SMTPD_TABLES_SMTPD_VERSION, else of the installed smtpd, else of the newest.
import GetOpt
import Glibc
import SMTPDTables

// ^\ quits without Swift's crash report (AtomicFile+Signals.swift).
QuitSignal.useDefaultAction()

let program = CommandLine.arguments.first.map { String($0.split(separator: "/").last ?? "makemap") } ?? "makemap"

func message(_ text: String) {
    let line = Array("\(program): \(text)\n".utf8)
    line.withUnsafeBytes { _ = write(2, $0.baseAddress, $0.count) }
}

func fail(_ text: String) -> Never {
    message(text)
    exit(1)
}

/// Upstream's message for `error` (scripts match it), then, when known, a line saying what is wrong.
func fail(_ error: TableError) -> Never {
    message(error.description)
    if error.detail != nil { message(String(error.explained.split(separator: "\n", maxSplits: 1)[1])) }
    exit(1)
}

var newaliasesMode = false

@MainActor func usage() -> Never {
    let text = newaliasesMode ? "usage: newaliases [-f file]\n"
        : "usage: makemap [-U] [-d dbtype] [-o dbfile] [-t type] file\n"
    Array(text.utf8).withUnsafeBytes { _ = write(2, $0.baseAddress, $0.count) }
    exit(1)
}

func parseMethod(_ text: String) -> DBAccessMethod {
    guard let method = DBAccessMethod(rawValue: text) else { fail("unsupported DB type '\(text)'") }
    return method
}

/// Prints what upstream prints after a build (newaliases' count, makemap's empty-map warning) and our btree
/// warning, and exits.
@MainActor func finish(_ result: MapBuilder.Result, method: DBAccessMethod) -> Never {
    if newaliasesMode {
        print("\(result.source.name): \(result.count) aliases")
    } else if result.count == 0 {
        message("warning: empty map created: \(result.output)")
    }
    if method == .btree {
        message("warning: \(result.output) is a btree database: smtpd opens every db: table as hash and will refuse it at start-up")
    }
    exit(0)
}

/// The release whose makemap is reproduced (SMTPD_TABLES_SMTPD_VERSION, the installed smtpd's, the newest).
func smtpdVersion() -> SMTPDVersion {
    do { return try SMTPDVersion.select().version } catch { fail(error.description) }
}

/// Builds a map and prints what upstream prints afterwards.
@MainActor func build(_ source: MapBuilder.Source, to output: String, type: MapBuilder.ValueType, method: DBAccessMethod) -> Never {
    let version = smtpdVersion()
    do {
        finish(try MapBuilder.build(from: source, to: output, type: type, method: method, version: version),
               method: method)
    } catch {
        fail(error)
    }
}

/// The map the sendmail form `makemap TYPE NAME` writes: NAME when it ends in `.db`, else `NAME.db`. As
/// upstream (`strstr` then `strcmp`), only the first `.db` counts: `a.db.db` gets another `.db`.
func sendmailOutputName(_ name: String) -> String {
    let bytes = Array(name.utf8)
    let first = bytes.indices.first { bytes[$0...].starts(with: ".db".utf8) }
    return first == bytes.count - 3 ? name : name + ".db"
}

// Swift reads the arguments from /proc/self/cmdline: without /proc (a bare chroot) there are none, not even
// argv[0]. Say so rather than act as if no option was given.
if CommandLine.argc == 0 { fail("cannot read the command line: is /proc mounted?") }
// `--version` (first argument) and `-V` are ours: upstream's getopt string has no V.
if CommandLine.arguments.dropFirst().first == "--version" { printVersion() }
let parsed: GetOpt
do {
    parsed = try GetOpt(Array(CommandLine.arguments.dropFirst()), spec: "b:C:d:ho:O:t:UV")
} catch {
    // glibc's getopt names the program as invoked (argv[0]), unlike err(3).
    let line = Array("\(CommandLine.arguments.first ?? program): \(error.description)\n".utf8)
    line.withUnsafeBytes { _ = write(2, $0.baseAddress, $0.count) }
    usage()
}

var type = MapBuilder.ValueType.plain
var method = DBAccessMethod.hash
var output: String?
var source: String?
var dump = false
for option in parsed.options {
    let argument = option.argument ?? ""
    switch option.letter {
    case "b":
        if argument == "i" { newaliasesMode = true }
    case "C":
        break  // accepted for compatibility, as upstream
    case "d":
        method = parseMethod(argument)
    case "o":
        output = argument
    case "O":
        if argument.hasPrefix("AliasFile=") {
            type = .aliases
            source = String(argument.dropFirst("AliasFile=".count))
        }
    case "t":
        switch argument {
        case "aliases": type = .aliases
        case "set": type = .set
        default: fail("unsupported type '\(argument)'")
        }
    case "U":
        dump = true
    case "V":
        printVersion()
    default:
        usage()
    }
}
let operands = parsed.operands

// The sendmail form `makemap TYPE NAME < input`: upstream re-executes `makemap -d TYPE -o NAME.db -`, which
// drops every other option; the same is done here without re-executing.
if operands.count == 2 {
    if output != nil { usage() }
    let target = sendmailOutputName(operands[1])
    newaliasesMode = false
    build(.standardInput, to: target, type: .plain, method: parseMethod(operands[0]))
}

if newaliasesMode {
    // Upstream insists on root here; this one works for anyone who may write the map.
    if !operands.isEmpty { usage() }
    if !dump {
        // The one newaliases, shared with Sources/newaliases.
        do {
            finish(try MapBuilder.rebuildAliases(aliasesFile: source, output: output, method: method,
                                                 version: smtpdVersion()), method: method)
        } catch {
            fail(error)
        }
    }
    if source == nil {
        do {
            source = MapBuilder.aliasesSource(in: try SMTPDConfig.load(path: MapBuilder.defaultConfigFile))
        } catch {
            fail("\(error)")
        }
    }
} else {
    if operands.count != 1 { usage() }
    source = operands[0]
}
let sourcePath = source ?? "-"

if dump {
    var out: [UInt8] = []
    out.reserveCapacity(1 << 16)
    func flush() {
        var offset = 0
        out.withUnsafeBytes { raw in
            while offset < raw.count {
                let n = write(1, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 { if errno == EINTR { continue }; return }
                offset += n
            }
        }
        out.removeAll(keepingCapacity: true)
    }
    do {
        try DBDump.forEachRecord(path: sourcePath, method: method) { key, value in
            // Key, tab, value, newline, each cut at its first NUL (upstream prints them with `%.*s`, which
            // also drops the trailing NUL).
            out.append(contentsOf: key.prefix(while: { $0 != 0 }))
            out.append(0x09)
            out.append(contentsOf: value.prefix(while: { $0 != 0 }))
            out.append(0x0A)
            if out.count >= 1 << 16 { flush() }
        }
    } catch {
        flush()
        fail(error.description)
    }
    flush()
    exit(0)
}

build(sourcePath == "-" ? .standardInput : .file(sourcePath), to: output ?? sourcePath + ".db", type: type,
      method: method)
