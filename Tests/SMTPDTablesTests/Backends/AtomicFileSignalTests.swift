import Foundation
import Testing
@testable import SMTPDTables

/// A signal the user sends while a tool writes a map through AtomicFile (AtomicFile+Signals.swift): the
/// temporary file goes, the old map stays byte for byte, the exit status is 128 + the signal, and Swift's
/// backtracer (forced on here) prints nothing.
@Suite("AtomicFile: signals during a build", .serialized,
       .disabled(if: TestSupport.underSanitizer, "twelve 2M-line builds: the plain run covers it"))
struct AtomicFileSignalTests {
    static let signals: [Int32] = [SIGINT, SIGTERM, SIGHUP, SIGQUIT]

    /// Tools that write through AtomicFile.replace.
    enum Writer: String, CaseIterable, CustomTestStringConvertible {
        case makemap, newaliases, convert
        var testDescription: String { rawValue == "convert" ? "smtpd-tables convert" : rawValue }
    }

    /// 2M entries (about 70 MB): a debug build takes seconds on them, so the signal lands mid-build.
    /// Shared by the cases (made once, removed when the test process exits).
    static let sourceDirectory: String = {
        let dir = sourceDirectoryPath()
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(atPath: AtomicFileSignalTests.sourceDirectoryPath()) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(80 << 20)
        for i in 0..<2_000_000 { bytes += Array("user\(i): target\(i)@example.org\n".utf8) }
        _ = try? TestSupport.write(bytes: bytes, to: "aliases", in: dir)
        return dir
    }()

    static func sourceDirectoryPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("smtpd-tables-signal-\(getpid())").path
    }

    static let oldMap: [UInt8] = Array("the old map, not a database\n".utf8) + [0, 0x1B, 0xFF]

    /// Starts `writer` on the big source in `dir`, sends `signal` once its temporary file exists, and returns
    /// the process's end and stderr.
    static func interrupt(_ writer: Writer, with signal: Int32, in dir: String) throws -> (ProcessResult, target: String) {
        let source = dir + "/aliases"
        try FileManager.default.createSymbolicLink(atPath: source, withDestinationPath: sourceDirectory + "/aliases")
        let target = source + ".db"
        try TestSupport.write(bytes: oldMap, to: "aliases.db", in: dir)
        let (path, arguments): (String, [String])
        switch writer {
        case .makemap: (path, arguments) = (TestSupport.product("makemap"), ["-t", "aliases", "-o", target, source])
        case .newaliases:
            try TestSupport.write("table aliases file:\(source)\naction \"l\" mbox alias <aliases>\n"
                                  + "match for local action \"l\"\n", to: "smtpd.conf", in: dir)
            (path, arguments) = (TestSupport.product("newaliases"), ["-f", dir + "/smtpd.conf"])
        case .convert: (path, arguments) = (TestSupport.product("smtpd-tables"), ["convert", source, target])
        }
        // The backtracer is what printed a crash report for SIGQUIT; make sure it is there to be beaten.
        let errFile = dir + "/stderr"
        let child = try SignalSupport.spawn(path, arguments, stderr: errFile,
                                            environment: ["SWIFT_BACKTRACE": "enable=yes,interactive=no"])
        let deadline = Date() + 120
        var ended = child.wait(timeout: 0)
        while ended == nil, temporaries(in: dir).isEmpty, Date() < deadline { ended = child.wait(timeout: 0.01) }
        let midBuild = ended == nil && !temporaries(in: dir).isEmpty
        if ended == nil {
            kill(child.pid, midBuild ? signal : SIGKILL)
            ended = child.wait(timeout: 60)
            if ended == nil { child.kill() }
        }
        try #require(midBuild, "the temporary file never appeared while \(writer) ran")
        let end = try #require(ended, "\(writer) did not end within 60 s of the signal")
        let stderr = String(decoding: try Data(contentsOf: URL(fileURLWithPath: errFile)), as: UTF8.self)
        return (ProcessResult(status: end.status, stdout: "", stderr: stderr, stdoutBytes: Data(),
                              signaled: end.signaled), target)
    }

    static func temporaries(in dir: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.contains(AtomicFile.marker) }
    }

    @Test("the temporary file is removed, the old map kept, the exit status is 128 + the signal",
          arguments: Writer.allCases, signals)
    func signalMidBuild(writer: Writer, signal: Int32) throws {
        try TestSupport.withTemporaryDirectory { dir in
            let (result, target) = try Self.interrupt(writer, with: signal, in: dir)
            #expect(!result.signaled && result.status == 128 + signal, "\(result.status) \(result.stderr)")
            #expect(Self.temporaries(in: dir).isEmpty)
            #expect(try Array(Data(contentsOf: URL(fileURLWithPath: target))) == Self.oldMap)
            for text in ["Crash", "crash", "Backtrac", "*** Signal", "Thread 0"] {
                #expect(!result.stderr.contains(text), "stderr: \(result.stderr.prefix(300))")
            }
        }
    }
}
