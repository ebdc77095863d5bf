import Foundation
import Testing
@testable import SMTPDTables

#if canImport(Glibc)
import Glibc
#endif

/// One real OpenSMTPD release the tests can run: the machine's own (Debian 12's 6.8) or one in a Debian root
/// made by `.ci/debian-root` (trixie: 7.6 with db:, sid: 7.9 without). Everything runs through `.ci/in-root`,
/// which gives each command a private mount namespace with its own empty queue.
struct DebianRelease: Sendable, CustomStringConvertible {
    /// "bookworm" for the machine, else the root's suite.
    var suite: String
    /// The root's folder, or nil for the machine.
    var root: String?
    /// The release, from `smtpd -h`.
    var version: SMTPDVersion
    /// Whether this smtpd has the db: backend (sid's is built without it).
    var hasDB: Bool

    var description: String { "smtpd \(version) (\(root == nil ? "this machine" : suite))" }

    /// The releases present here, oldest first. Needs root (chroot, mounts) and unshare.
    static let available: [DebianRelease] = {
        guard canRunInRoots else { return [] }
        var found: [DebianRelease] = []
        if let smtpd = TestSupport.system("smtpd"), let v = version(of: [smtpd, "-h"]) {
            found.append(DebianRelease(suite: "bookworm", root: nil, version: v, hasDB: true))
        }
        for suite in ["trixie", "sid"] {
            guard let dir = rootDirectory(suite),
                  let v = version(of: ["/usr/sbin/chroot", dir, "/usr/sbin/smtpd", "-h"]) else { continue }
            found.append(DebianRelease(suite: suite, root: dir, version: v, hasDB: suite != "sid"))
        }
        return found
    }()

    static func named(_ suite: String) -> DebianRelease? { available.first { $0.suite == suite } }

    /// A root `.ci/debian-root SUITE` made: listed in SMTPD_TABLES_ROOTS (as .ci/run sets it) or at its default place.
    static func rootDirectory(_ suite: String) -> String? {
        let listed = (ProcessInfo.processInfo.environment["SMTPD_TABLES_ROOTS"] ?? "").split(separator: " ").map(String.init)
        for dir in listed + ["/var/cache/smtpd-tables/roots/\(suite)"] {
            guard let marker = FileManager.default.contents(atPath: dir + "/.smtpd-tables-root"),
                  String(decoding: marker, as: UTF8.self).hasPrefix("suite=\(suite) "),
                  FileManager.default.isExecutableFile(atPath: dir + "/usr/sbin/smtpd") else { continue }
            return dir
        }
        return nil
    }

    private static func version(of command: [String]) -> SMTPDVersion? {
        guard let r = try? TestSupport.run(command[0], Array(command.dropFirst()), timeout: 20) else { return nil }
        return SMTPDVersion(smtpdHelp: r.stdout + r.stderr)
    }

    /// `.ci/in-root`, beside the package.
    static let inRootScript: String = {
        var dir = URL(fileURLWithPath: #filePath)
        while dir.path != "/" {
            dir = dir.deletingLastPathComponent()
            let candidate = dir.appendingPathComponent(".ci/in-root").path
            if FileManager.default.fileExists(atPath: candidate) { return candidate }
        }
        return ".ci/in-root"
    }()

    /// The arguments that run `command` in this release with `scratch` reachable at the same path. With
    /// `libexec` (a folder inside `scratch`), its programs are added to smtpd's PATH_LIBEXEC for that run only:
    /// the folder gets a copy of the root's own programs and is bind-mounted over PATH_LIBEXEC in the private
    /// mount namespace, so the root itself is never changed.
    func command(_ command: [String], scratch: String, libexec: String? = nil) -> [String] {
        // Outside the scratch folder the copy below would write into the root itself.
        precondition(libexec.map { $0.hasPrefix(scratch + "/") } ?? true, "libexec \(libexec ?? "") is not in \(scratch)")
        guard let libexec else { return ["/bin/bash", Self.inRootScript, root ?? "/", scratch] + command }
        let overlay = "cp -an \"$1\"/. \"$2\"/ && mount --bind \"$2\" \"$1\" && shift 2 && exec \"$@\""
        return ["/bin/bash", Self.inRootScript, root ?? "/", scratch, "/bin/bash", "-c", overlay, "bash",
                Self.libexecDirectory, libexec] + command
    }

    /// Whether `.ci/in-root` can run here: it needs root (chroot, mounts) and unshare.
    static var canRunInRoots: Bool { getuid() == 0 && TestSupport.system("unshare") != nil }

    /// Debian's PATH_LIBEXEC (trixie's and sid's smtpd run `table-NAME` from there).
    static let libexecDirectory = "/usr/libexec/opensmtpd"

    /// Runs `command` to completion in this release.
    @discardableResult
    func run(_ command: [String], scratch: String, stdin: Data? = nil, timeout: Double = 60) throws -> ProcessResult {
        let args = self.command(command, scratch: scratch)
        return try TestSupport.run(args[0], Array(args.dropFirst()), stdin: stdin, timeout: timeout)
    }

    /// A scratch folder under /tmp, seen at the same path inside the root, removed afterwards (with the empty
    /// mount point `.ci/in-root` made for it in the root). World-readable: the daemon's users read it.
    func withScratch<T>(_ body: (String) throws -> T) throws -> T {
        try Self.withScratch(named: "daemon", in: root, body)
    }

    /// `withScratch` for any program run through `.ci/in-root` in `root` (nil: the machine): a folder
    /// `/tmp/smtpd-tables-NAME-XXXXXXXX`.
    static func withScratch<T>(named name: String, in root: String?, _ body: (String) throws -> T) throws -> T {
        let dir = "/tmp/smtpd-tables-\(name)-\(UUID().uuidString.prefix(8).lowercased())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        chmod(dir, 0o755)
        defer {
            try? FileManager.default.removeItem(atPath: dir)
            if let root { removeMountPoints(root + dir) }
        }
        return try body(dir)
    }

    /// Removes the empty folders `.ci/in-root` made in the root as mount points: `mountPoint` and, when a run's
    /// scratch was a folder below the test's, those below it (deepest first). rmdir only: a folder that holds a
    /// file stays.
    private static func removeMountPoints(_ mountPoint: String) {
        let below = (FileManager.default.subpaths(atPath: mountPoint) ?? []).sorted { $0.count > $1.count }
        for path in below { rmdir(mountPoint + "/" + path) }
        rmdir(mountPoint)
    }

    /// `smtpd -n -f CONF`: exit status and messages.
    func configCheck(_ conf: String, scratch: String) throws -> ProcessResult {
        try run(["/usr/sbin/smtpd", "-n", "-f", conf], scratch: scratch)
    }

    /// This release's makemap (`smtpctl` run as makemap), in `dir`.
    func makemap(_ arguments: [String], in dir: String, scratch: String) throws -> ProcessResult {
        try run(["/bin/bash", "-c", "cd \"$1\" && shift && exec -a makemap /usr/sbin/smtpctl \"$@\"", "bash", dir]
                + arguments, scratch: scratch)
    }
}

/// A running smtpd (`smtpd -d`) on a loopback port, its messages collected in a log file in the scratch folder.
final class SMTPDaemon {
    let release: DebianRelease
    let port: UInt16
    let logPath: String
    private let process: Process

    /// Starts `smtpd -d -f CONF` (CONF inside `scratch`, which the config's `@PORT@` must not need: pass
    /// the port chosen by `freePort()`), and waits until it accepts connections.
    /// With `libexec`, the programs there are in smtpd's PATH_LIBEXEC (see `DebianRelease.command`).
    init(_ release: DebianRelease, conf: String, port: UInt16, scratch: String, extraArguments: [String] = [],
         libexec: String? = nil) throws {
        self.release = release
        self.port = port
        logPath = scratch + "/smtpd.log"
        let args = release.command(["/usr/sbin/smtpd", "-d", "-f", conf] + extraArguments, scratch: scratch,
                                   libexec: libexec)
        process = Process()
        process.executableURL = URL(fileURLWithPath: args[0])
        process.arguments = Array(args.dropFirst())
        guard FileManager.default.createFile(atPath: logPath, contents: nil) else {
            throw DaemonFailure("cannot create \(logPath)")
        }
        process.standardOutput = FileHandle(forWritingAtPath: logPath)
        process.standardError = FileHandle(forWritingAtPath: logPath)
        process.standardInput = FileHandle.nullDevice
        try TestSupport.spawn(process)
        for _ in 0..<150 {
            if SMTPClient(port: port) != nil { return }
            if !process.isRunning { break }
            usleep(100_000)
        }
        stop()
        throw DaemonFailure("\(release) did not listen on port \(port):\n\(log)")
    }

    deinit { stop() }

    /// Ends the daemon (SIGTERM to the namespace's shell chain reaches smtpd, which is exec'd) and waits.
    func stop() {
        if process.isRunning {
            process.terminate()
            for _ in 0..<50 where process.isRunning { usleep(100_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        process.waitUntilExit()
    }

    var isRunning: Bool { process.isRunning }

    /// smtpd's parent process: the shell chain of `.ci/in-root` execs into it.
    var pid: pid_t { process.processIdentifier }

    /// Runs `smtpctl ARGS` in the daemon's own mount namespace and root, where its control socket is.
    func control(_ arguments: [String]) throws -> ProcessResult {
        let nsenter = try #require(TestSupport.system("nsenter"), "needs nsenter")
        return try TestSupport.run(nsenter, ["-t", String(pid), "-m", "-r", "/usr/sbin/smtpctl"] + arguments,
                                   timeout: 30)
    }

    /// The processes of this machine whose command line (argv, NUL-separated) is exactly `argv`.
    static func processes(withArguments argv: [String]) -> [pid_t] {
        let want = Data((argv.joined(separator: "\0") + "\0").utf8)
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { name in
            guard let pid = pid_t(name), FileManager.default.contents(atPath: "/proc/\(name)/cmdline") == want else {
                return nil
            }
            return pid
        }
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// A new connection, past the greeting and EHLO.
    func connect() throws -> SMTPClient {
        let client = try #require(SMTPClient(port: port), "no connection to \(release)")
        let greeting = client.reply()
        guard greeting.hasPrefix("220") else { throw DaemonFailure("\(release) greeted with \(greeting)") }
        _ = client.command("EHLO test.invalid")
        return client
    }

    /// A loopback TCP port nobody listens on now (the kernel's choice for port 0).
    static func freePort() -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { p -> Int32 in
                _ = bind(fd, p, len)
                return getsockname(fd, p, &len)
            }
        }
        return UInt16(bigEndian: addr.sin_port)
    }

    /// Waits until `path` holds at least `count` lines (or a few seconds pass), then returns its lines.
    static func lines(of path: String, atLeast count: Int, seconds: Double = 10) -> [String] {
        let deadline = Date() + seconds
        var lines: [String] = []
        repeat {
            let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            lines = text.split(separator: "\n").map(String.init)
            if lines.count >= count { break }
            usleep(50_000)
        } while Date() < deadline
        usleep(200_000)  // late extra deliveries, which must not be there
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map(String.init)
    }
}

struct DaemonFailure: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// A minimal SMTP client over a loopback TCP socket, with a receive timeout.
final class SMTPClient {
    let fd: Int32
    var pending: [UInt8] = []

    init?(port: UInt16, timeoutSeconds: Int = 10) {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var tv = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if rc != 0 { close(fd); return nil }
    }
    deinit { close(fd) }

    func line() -> String? {
        while true {
            if let nl = pending.firstIndex(of: 0x0A) {
                let l = pending[..<nl]
                pending.removeSubrange(...nl)
                return String(decoding: l, as: UTF8.self).trimmingCharacters(in: .newlines)
            }
            var buf = [UInt8](repeating: 0, count: 4096)
            let n = read(fd, &buf, buf.count)
            if n <= 0 { return nil }
            pending += buf[0..<n]
        }
    }

    /// The last line of the reply (multi-line replies continue with `NNN-`).
    func reply() -> String {
        while let l = line() {
            if l.count < 4 || l[l.index(l.startIndex, offsetBy: 3)] != "-" { return l }
        }
        return "(no reply)"
    }

    func command(_ c: String) -> String {
        let bytes = Array((c + "\r\n").utf8)
        // MSG_NOSIGNAL: a daemon that closed the connection is a reply of "(no reply)", not a SIGPIPE.
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        return reply()
    }
}
