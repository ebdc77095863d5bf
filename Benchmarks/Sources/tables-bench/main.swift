// tables-bench: the timed runs behind compare.sh. Each command prints one line of `name=value` fields.
//
//   tables-bench generate DIR [COUNT...]            the fixtures (default 10000 100000 1000000) and their queries
//   tables-bench load FILE [--runs N]                file-table load: best time, MB/s, resident memory
//   tables-bench lookup TABLE KEYS [--service S] [--rounds N] [--api lookup|contains] [--check-changes no]
//   tables-bench scan TABLE KEYS [--service S] [--limit N]     the reference walk, checked against lookup
//   tables-bench resolve DIR COUNT [--limit N]       full resolution under an smtpd.conf over DIR/vusers-COUNT
#if canImport(Glibc)
import Glibc
#endif
@_spi(Reference) import SMTPDTables
import TableFixtures

func fail(_ message: String) -> Never {
    let text = "tables-bench: \(message)\n"
    _ = text.withCString { write(2, $0, strlen($0)) }
    exit(2)
}

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Peak resident set of this process so far, in KiB.
func maxRSS() -> Int {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return usage.ru_maxrss
}

/// Current resident set, in KiB (from /proc/self/statm).
func currentRSS() -> Int {
    guard let f = fopen("/proc/self/statm", "r") else { return 0 }
    defer { fclose(f) }
    var size = 0, resident = 0
    guard fscanf_two(f, &size, &resident) else { return 0 }
    return resident * Int(sysconf(Int32(_SC_PAGESIZE))) / 1024
}

func fscanf_two(_ f: UnsafeMutablePointer<FILE>, _ a: inout Int, _ b: inout Int) -> Bool {
    var buffer = [CChar](repeating: 0, count: 256)
    guard fgets(&buffer, Int32(buffer.count), f) != nil else { return false }
    let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    let parts = text.split(separator: " ")
    guard parts.count >= 2, let x = Int(parts[0]), let y = Int(parts[1]) else { return false }
    a = x
    b = y
    return true
}

func fileSize(_ path: String) -> Int {
    var st = stat()
    guard stat(path, &st) == 0 else { fail("\(path): \(String(cString: strerror(errno)))") }
    return Int(st.st_size)
}

func readLines(_ path: String) -> [[UInt8]] {
    guard let f = fopen(path, "rb") else { fail("\(path): \(String(cString: strerror(errno)))") }
    defer { fclose(f) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = fread(&chunk, 1, chunk.count, f)
        if n == 0 { break }
        bytes += chunk[0..<n]
    }
    return bytes.split(separator: 0x0A, omittingEmptySubsequences: true).map(Array.init)
}

func option(_ args: inout [String], _ name: String) -> String? {
    guard let i = args.firstIndex(of: name) else { return nil }
    guard i + 1 < args.count else { fail("\(name) needs a value") }
    let v = args[i + 1]
    args.removeSubrange(i...(i + 1))
    return v
}

func service(_ name: String?) -> TableService {
    guard let name else { return .string }
    guard let s = TableService(rawValue: name) else { fail("unknown service \(name)") }
    return s
}

func fmt(_ x: Double, _ digits: Int = 3) -> String {
    var buffer = [CChar](repeating: 0, count: 64)
    _ = withVaList([x]) { vsnprintf(&buffer, buffer.count, "%.\(digits)f", $0) }
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

func openTable(_ path: String) -> Table {
    do { return try Table(path) } catch { fail("\(error)") }
}

var args = Array(CommandLine.arguments.dropFirst())
guard let command = args.first else { fail("usage: tables-bench generate|load|lookup|scan ...") }
args.removeFirst()

switch command {
case "generate":
    guard let dir = args.first else { fail("generate DIR [COUNT...]") }
    let counts = args.count > 1 ? args.dropFirst().compactMap { Int($0) } : [10_000, 100_000, 1_000_000]
    for count in counts {
        for kind in FixtureKind.allCases {
            let fixture = TableFixtures.make(kind, count: count)
            let base = "\(dir)/\(kind.rawValue)-\(count)"
            do {
                try TableFixtures.write(fixture.text, to: base)
                try TableFixtures.write(TableFixtures.lines(fixture.exactKeys), to: base + ".keys")
                try TableFixtures.write(TableFixtures.lines(fixture.patternQueries), to: base + ".queries")
            } catch { fail("\(error)") }
            print("generated file=\(base) entries=\(count) bytes=\(fixture.text.count)")
        }
    }

case "load":
    guard let path = args.first else { fail("load FILE [--runs N]") }
    let runs = option(&args, "--runs").flatMap { Int($0) } ?? 3
    let bytes = fileSize(path)
    let before = currentRSS()
    var best = Double.infinity
    var count = 0
    var tableRSS = 0
    for _ in 0..<runs {
        let t0 = now()
        let table: Table
        do { table = try Table(path: path, backend: .file) } catch { fail("\(error)") }
        best = min(best, now() - t0)
        count = table.count
        tableRSS = max(tableRSS, currentRSS() - before)
        withExtendedLifetime(table) {}
    }
    print("load file=\(path) bytes=\(bytes) entries=\(count) best_s=\(fmt(best, 4))"
        + " mb_per_s=\(fmt(Double(bytes) / best / 1e6, 1)) table_rss_kb=\(tableRSS) max_rss_kb=\(maxRSS())"
        + " rss_over_file=\(fmt(Double(maxRSS()) * 1024 / Double(bytes), 2))")

case "lookup":
    guard args.count >= 2 else { fail("lookup TABLE KEYS [--service S] [--rounds N] [--api lookup|contains]") }
    let svc = service(option(&args, "--service"))
    let rounds = option(&args, "--rounds").flatMap { Int($0) } ?? 5
    let api = option(&args, "--api") ?? "lookup"
    let checkChanges = option(&args, "--check-changes") ?? "default"
    let table = openTable(args[0])
    // db: tables stat their file before each lookup, as smtpd does (reloadsOnChange): "no" measures the
    // lookup alone, like a bare DB->get loop.
    if checkChanges == "no" { table.reloadsOnChange = false }
    let keys = readLines(args[1])
    let strings = keys.map { String(decoding: $0, as: UTF8.self) }
    var best = Double.infinity
    var found = 0
    for _ in 0..<rounds {
        found = 0
        let t0 = now()
        do {
            switch api {
            case "contains":
                for k in strings where try table.contains(k, service: svc) { found += 1 }
            default:
                for k in keys {
                    if let m = try table.lookup(bytes: k, service: svc) { found += m.keyBytes.count > 0 ? 1 : 1 }
                }
            }
        } catch { fail("\(error)") }
        best = min(best, now() - t0)
    }
    print("lookup table=\(args[0]) service=\(svc.rawValue) api=\(api) check_changes=\(table.reloadsOnChange) queries=\(keys.count) found=\(found)"
        + " ns_per_op=\(fmt(best / Double(keys.count) * 1e9, 1))")

case "scan":
    guard args.count >= 2 else { fail("scan TABLE KEYS [--service S] [--limit N]") }
    let svc = service(option(&args, "--service"))
    let limit = option(&args, "--limit").flatMap { Int($0) } ?? 200
    let table = openTable(args[0])
    let keys = Array(readLines(args[1]).prefix(limit))
    var found = 0
    var mismatches = 0
    var answers: [TableMatch?] = []
    let t0 = now()
    do {
        for k in keys {
            let m = try table.lookupByScan(bytes: k, service: svc)
            if m != nil { found += 1 }
            answers.append(m)
        }
    } catch { fail("\(error)") }
    let elapsed = now() - t0
    do {
        for (k, a) in zip(keys, answers) where try table.lookup(bytes: k, service: svc)?.key != a?.key { mismatches += 1 }
    } catch { fail("\(error)") }
    print("scan table=\(args[0]) service=\(svc.rawValue) queries=\(keys.count) found=\(found)"
        + " ns_per_op=\(fmt(elapsed / Double(keys.count) * 1e9, 1)) mismatches=\(mismatches)")

case "resolve":
    // An smtpd.conf of the README's shape over the generated vusers table: its domains served by a virtual
    // action, every user it names in a userinfo table (the userbase), queries from the vusers query file.
    guard args.count >= 2 else { fail("resolve DIR COUNT [--limit N]") }
    let limit = option(&args, "--limit").flatMap { Int($0) } ?? 20_000
    let dir = args[0], count = args[1]
    let vusers = "\(dir)/vusers-\(count)"
    let source = openTable(vusers)
    var domains: [UInt8] = Array("# @list\n".utf8)
    var users: [UInt8] = []
    var seenUsers = Set<[UInt8]>()
    source.forEachEntry { key, value in
        if key.first == UInt8(ascii: "@") { domains += key.dropFirst(); domains.append(0x0A) }
        if let v = value, seenUsers.insert(Array(v)).inserted { users += v; users += Array(" 2000:2000:/var/vmail\n".utf8) }
    }
    let config = """
        table vusers file:\(vusers)
        table vdomains file:\(dir)/resolve-domains-\(count)
        table users file:\(dir)/resolve-users-\(count)
        action "vmail" lmtp "/run/dovecot/lmtp" rcpt-to virtual <vusers> userbase <users>
        match from any for domain <vdomains> action "vmail"

        """
    do {
        try TableFixtures.write(domains, to: "\(dir)/resolve-domains-\(count)")
        try TableFixtures.write(users, to: "\(dir)/resolve-users-\(count)")
        try TableFixtures.write(Array(config.utf8), to: "\(dir)/resolve-smtpd-\(count).conf")
    } catch { fail("\(error)") }
    let queries = readLines(vusers + ".queries").prefix(limit).map { String(decoding: $0, as: UTF8.self) }
    do {
        let conf = try SMTPDConfig.parse(text: config, path: "\(dir)/resolve-smtpd-\(count).conf")
        let resolver = try Resolver(config: conf, options: .init(hostname: "mx.example.net", localAddresses: ["127.0.0.1"]))
        _ = try resolver.resolve(queries[0])      // opens the tables
        var accepted = 0
        let t0 = now()
        for q in queries where try resolver.resolve(q).accepted { accepted += 1 }
        let elapsed = now() - t0
        print("resolve conf=\(dir)/resolve-smtpd-\(count).conf queries=\(queries.count) accepted=\(accepted)"
            + " ns_per_op=\(fmt(elapsed / Double(queries.count) * 1e9, 1))")
    } catch { fail("\(error)") }

default:
    fail("unknown command \(command)")
}
