import Foundation
import Testing
@testable import SMTPDTables

/// Helpers for running our makemap and the real one (Debian's 6.8) on the same input.
///
/// Inputs used for oracle comparisons avoid what 6.8 and 7.8 read differently (spec section 5): no `\` at
/// line ends, no `::` or `: :` after a key (so no `:include:` values), no `[...]` keys.
enum MakemapSupport {
    /// One makemap run of the oracle and error suites: a name, makemap's options, the source's lines.
    struct Case: Sendable, CustomStringConvertible {
        var name: String
        var options: [String]
        var lines: [String]
        var description: String { name }
    }

    static var ours: String { TestSupport.product("makemap") }

    /// Our makemap's standard error without the line it adds after each `FILE:LINE: invalid entry` (the
    /// same `FILE:LINE: ` then what is wrong): what upstream prints, for comparing with the real makemap.
    static func upstreamPart(_ stderr: String) -> String {
        var kept: [Substring] = []
        var explainedPrefix: Substring?
        for line in stderr.split(separator: "\n", omittingEmptySubsequences: false) {
            if let prefix = explainedPrefix, line.hasPrefix(prefix), !line.hasSuffix(": invalid entry") {
                explainedPrefix = nil
                continue
            }
            explainedPrefix = line.hasSuffix(": invalid entry") ? line.dropLast("invalid entry".count) : nil
            kept.append(line)
        }
        return kept.joined(separator: "\n")
    }

    /// Whether every `FILE:LINE: invalid entry` line of our makemap is followed by one saying why.
    static func explainsEveryInvalidEntry(_ stderr: String) -> Bool {
        let lines = stderr.split(separator: "\n")
        return lines.indices.allSatisfy { i in
            guard lines[i].hasSuffix(": invalid entry") else { return true }
            let prefix = lines[i].dropLast("invalid entry".count)
            return i + 1 < lines.count && lines[i + 1].hasPrefix(prefix) && lines[i + 1].count > prefix.count + 8
        }
    }
    static var real: String? { TestSupport.realMakemap }
    static var dbDump: String? { TestSupport.system("db5.3_dump") }
    static var oracleAvailable: Bool { real != nil && dbDump != nil }

    static func text(_ lines: [String]) -> String { lines.joined(separator: "\n") + "\n" }

    /// Runs a makemap in `dir` (so that relative names in messages are the same for both tools).
    static func run(_ tool: String, _ arguments: [String], in dir: String, stdin: String? = nil) throws -> ProcessResult {
        try TestSupport.run(tool, arguments, stdin: stdin.map { Data($0.utf8) }, currentDirectory: dir)
    }

    /// `db5.3_dump -p FILE`: header (type, h_nelem, page size) and every record in the file's order.
    static func dump(_ path: String) throws -> String {
        guard let tool = dbDump else { throw BDBTestFailure("no db5.3_dump") }
        let r = try TestSupport.run(tool, ["-p", path])
        if r.status != 0 { throw BDBTestFailure("db5.3_dump failed: \(r.stderr)") }
        return r.stdout
    }

    /// The real `makemap -U [-d btree] FILE` output.
    static func realDump(_ path: String, btree: Bool = false) throws -> String {
        guard let real else { throw BDBTestFailure("no makemap") }
        let r = try TestSupport.run(real, (btree ? ["-d", "btree"] : []) + ["-U", path])
        if r.status != 0 { throw BDBTestFailure("makemap -U failed: \(r.stderr)") }
        return r.stdout
    }

    /// Temporary files of `target` in `dir`: ours (`TARGET.smtpd-tables-tmp.PID.XXXXXX`) or upstream's
    /// (`TARGET.XXXXXXXXXXX`).
    static func leftovers(in dir: String, target: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir).filter {
            $0.hasPrefix(target + AtomicFile.marker) || ($0.hasPrefix(target + ".") && $0.count == target.count + 12)
        }
    }

    static func contents(_ path: String) -> Data? { FileManager.default.contents(atPath: path) }
}
