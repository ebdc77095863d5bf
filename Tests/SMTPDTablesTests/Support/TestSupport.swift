import Foundation
import Testing

/// What a finished process left behind.
struct ProcessResult: Sendable {
    /// The exit status, or the signal number when `signaled`.
    var status: Int32
    var stdout: String
    var stderr: String
    var stdoutBytes: Data
    /// Killed by a signal (ours after a timeout included).
    var signaled = false
    /// Killed with SIGKILL after `run`'s timeout.
    var timedOut = false
}

enum TestSupport {
    /// The folder that holds the package's built executables (`.build/debug` or the --scratch-path equivalent).
    static let productsDirectory: URL = {
        // The test bundle lives in the products folder: .build/<triple>/debug/smtpd-tablesPackageTests.xctest
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            return bundle.bundleURL.deletingLastPathComponent()
        }
        let exe = URL(fileURLWithPath: CommandLine.arguments[0])
        var dir = exe.deletingLastPathComponent()
        while dir.path != "/" {
            if FileManager.default.fileExists(atPath: dir.appendingPathComponent("smtpd-tables").path) {
                return dir
            }
            dir = dir.deletingLastPathComponent()
        }
        return exe.deletingLastPathComponent()
    }()

    /// Path of one of our own executables: "makemap", "newaliases", "smtpd-tables".
    static func product(_ name: String) -> String {
        productsDirectory.appendingPathComponent(name).path
    }

    /// Path of a program of the system (the real OpenSMTPD tools), or nil when it is not installed.
    static func system(_ name: String) -> String? {
        for dir in ["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/sbin", "/usr/local/bin"] {
            let p = dir + "/" + name
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }

    /// Whether the suite runs under a sanitizer (`.ci/sanitize` sets these): the slowest process-level suites,
    /// whose code paths the unit tests already take through the instrumented library, skip themselves there.
    static var underSanitizer: Bool {
        let environment = ProcessInfo.processInfo.environment
        return environment["ASAN_OPTIONS"] != nil || environment["TSAN_OPTIONS"] != nil
    }

    /// The real OpenSMTPD makemap (Debian's opensmtpd package), if installed.
    static var realMakemap: String? { system("makemap") }

    /// Runs a program to completion, feeding `stdin`, and collects its output; with a `timeout`, kills it
    /// (SIGKILL) after that many seconds.
    @discardableResult
    static func run(_ path: String, _ arguments: [String], stdin: Data? = nil,
                    environment: [String: String]? = nil, currentDirectory: String? = nil,
                    timeout: Double? = nil) throws -> ProcessResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
        let outPipe = Pipe(), errPipe = Pipe(), inPipe = Pipe()
        process.standardOutput = outPipe
        process.standardError = errPipe
        process.standardInput = inPipe
        try spawn(process)
        // Read both pipes concurrently so a chatty child never blocks on a full pipe.
        let group = DispatchGroup()
        nonisolated(unsafe) var outData = Data()
        nonisolated(unsafe) var errData = Data()
        group.enter()
        DispatchQueue.global().async { outData = outPipe.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        group.enter()
        DispatchQueue.global().async { errData = errPipe.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        if let stdin { try? inPipe.fileHandleForWriting.write(contentsOf: stdin) }
        try? inPipe.fileHandleForWriting.close()
        var timedOut = false
        if let timeout {
            // Polled: a terminationHandler is called on a global-queue thread, which concurrent tests blocked
            // in here can starve (a deadlock seen with two test threads on two cores).
            let deadline = Date() + timeout
            while process.isRunning, Date() < deadline { usleep(5_000) }
            if process.isRunning {
                timedOut = true
                kill(process.processIdentifier, SIGKILL)
            }
        }
        process.waitUntilExit()
        group.wait()
        return ProcessResult(status: process.terminationStatus,
                             stdout: String(decoding: outData, as: UTF8.self),
                             stderr: String(decoding: errData, as: UTF8.self),
                             stdoutBytes: outData, signaled: process.terminationReason == .uncaughtSignal,
                             timedOut: timedOut)
    }

    /// Starts `process`, one start at a time across the test run: Foundation's `Process.run()` trapped (an illegal
    /// instruction inside it) once with several suites starting programs at the same moment.
    static func spawn(_ process: Process) throws {
        spawnLock.lock()
        defer { spawnLock.unlock() }
        try process.run()
    }

    private static let spawnLock = NSLock()

    /// A fresh temporary directory, removed after `body`.
    static func withTemporaryDirectory<T>(_ body: (String) throws -> T) throws -> T {
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("smtpd-tables-test-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        return try body(dir)
    }

    /// Writes bytes to `dir/name` and returns the path.
    @discardableResult
    static func write(_ contents: String, to name: String, in dir: String) throws -> String {
        let path = dir + "/" + name
        try Data(contents.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    @discardableResult
    static func write(bytes: [UInt8], to name: String, in dir: String) throws -> String {
        let path = dir + "/" + name
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }
}
