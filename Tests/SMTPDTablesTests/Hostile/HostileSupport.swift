import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import SMTPDTables

/// How a run of the `smtpd-tables` binary on a hostile file ended.
struct HostileOutcome {
    /// The exit status, nil when the process was killed by a signal or did not finish in time.
    var exitCode: Int32?
    var signaled: Bool
    var timedOut: Bool
    var stdout: [UInt8]
    var stderr: String
}

enum Hostile {
    static let tool = TestSupport.product("smtpd-tables")

    /// Runs `smtpd-tables ARGS` (under `prlimit --as=…` when `addressSpaceLimit` is given), killing it after
    /// `timeout` seconds.
    static func run(_ arguments: [String], stdin: Data? = nil, addressSpaceLimit: Int? = nil,
                    timeout: Double = 30) throws -> HostileOutcome {
        // Sanitizer runtimes reserve terabytes of address space: an address-space limit cannot apply to them
        // (.ci/sanitize sets ASAN_OPTIONS/TSAN_OPTIONS); the plain run of the suite keeps the bound.
        let r: ProcessResult
        if let limit = addressSpaceLimit, !TestSupport.underSanitizer, let prlimit = TestSupport.system("prlimit") {
            r = try TestSupport.run(prlimit, ["--as=\(limit)", tool] + arguments, stdin: stdin, timeout: timeout)
        } else {
            r = try TestSupport.run(tool, arguments, stdin: stdin, timeout: timeout)
        }
        return HostileOutcome(exitCode: r.signaled || r.timedOut ? nil : r.status, signaled: r.signaled,
                              timedOut: r.timedOut, stdout: [UInt8](r.stdoutBytes), stderr: r.stderr)
    }

    /// Expects a clean failure: exit status 2 (no signal, no hang) and a message that starts with `prefix`
    /// (`PATH:` or `PATH:LINE:`).
    static func expectError(_ outcome: HostileOutcome, prefix: String, containing text: String? = nil,
                            sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(!outcome.timedOut, "smtpd-tables did not finish", sourceLocation: sourceLocation)
        #expect(!outcome.signaled, "smtpd-tables was killed by a signal: \(outcome.stderr)",
                sourceLocation: sourceLocation)
        #expect(outcome.exitCode == 2, "exit status \(String(describing: outcome.exitCode))",
                sourceLocation: sourceLocation)
        #expect(outcome.stderr.hasPrefix("smtpd-tables: \(prefix)"), "message: \(outcome.stderr)",
                sourceLocation: sourceLocation)
        if let text {
            #expect(outcome.stderr.contains(text), "message: \(outcome.stderr)", sourceLocation: sourceLocation)
        }
    }
}

extension Table {
    /// The error loading `path` as a file: table throws, or nil when it loads.
    static func loadError(_ path: String) -> TableError? {
        do {
            _ = try Table(path: path, backend: .file)
            return nil
        } catch {
            return error
        }
    }
}
