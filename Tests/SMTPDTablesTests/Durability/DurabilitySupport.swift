import Foundation
import Testing
@testable import SMTPDTables

/// Helpers for the durability tests: map sources with a known content per version, a child process
/// that can be killed at a chosen moment, dumps with the real makemap, and a seeded random source.
enum Durability {
    /// Fewer rounds (set by .ci/sanitize: under a sanitizer every process is several times slower, and
    /// the point there is memory and thread errors, not statistics).
    static let quick = ProcessInfo.processInfo.environment["DURABILITY_QUICK"] == "1"

    /// A table source of `count` entries `kI<TAB>TAG-kI` (I from 0): every value names the version
    /// `TAG` and repeats its key, so a record from another version or a torn record is recognised.
    static func source(count: Int, tag: String) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count * (2 * 8 + tag.utf8.count + 3))
        let tagBytes = Array(tag.utf8)
        for i in 0..<count {
            let key = Array("k\(i)".utf8)
            bytes += key
            bytes.append(0x09)
            bytes += tagBytes
            bytes.append(UInt8(ascii: "-"))
            bytes += key
            bytes.append(0x0A)
        }
        return bytes
    }

    /// Which version a loaded table holds: the tag when every one of its `count` entries is
    /// `kI -> TAG-kI` for one tag and the keys are exactly k0..k(count-1); nil for anything else
    /// (a mix, a missing or extra record, a torn value).
    static func version(of table: Table, expectedCount count: Int, tags: [String]) -> String? {
        guard table.count == count else { return nil }
        var tag: ArraySlice<UInt8>?
        var ok = true
        var seen = [Bool](repeating: false, count: count)
        table.forEachEntry { key, value in
            guard ok, let value, let index = keyIndex(key), index < count, !seen[index],
                  let dash = value.firstIndex(of: UInt8(ascii: "-")),
                  value[(dash + 1)...].elementsEqual(key)
            else { ok = false; return }
            seen[index] = true
            let thisTag = value[..<dash]
            if let tag { if !tag.elementsEqual(thisTag) { ok = false } } else { tag = thisTag }
        }
        guard ok, let tag else { return nil }
        let name = String(decoding: tag, as: UTF8.self)
        return tags.contains(name) ? name : nil
    }

    /// I for a key `kI` (decimal digits, no leading zero unless I is 0), else nil.
    static func keyIndex(_ key: ArraySlice<UInt8>) -> Int? {
        guard key.count >= 2, key.count <= 10, key.first == UInt8(ascii: "k") else { return nil }
        var index = 0
        for (n, b) in key.dropFirst().enumerated() {
            guard b >= 0x30, b <= 0x39, n == 0 || index != 0 else { return nil }
            index = index * 10 + Int(b - 0x30)
        }
        return index
    }

    /// Our reader's records as the real makemap dumps them: `key<TAB>value<LF>` in the table's walk
    /// order (a db: table keeps libdb's cursor order, the order `makemap -U` prints).
    static func dump(of table: Table) -> Data {
        var out = Data()
        out.reserveCapacity(table.count * 24)
        table.forEachEntry { key, value in
            out.append(contentsOf: key)
            if let value {
                out.append(0x09)
                out.append(contentsOf: value)
            }
            out.append(0x0A)
        }
        return out
    }

    /// The real makemap's dump (`/usr/sbin/makemap -U`), or nil when it fails (unreadable map). The
    /// dump goes through a file beside the map, not a pipe (cheaper for megabytes).
    static func realDump(_ path: String) throws -> Data? {
        guard let real = TestSupport.realMakemap else { return nil }
        let out = path + ".dump", err = path + ".dump-errors"
        defer { unlink(out); unlink(err) }
        let p = try start(real, ["-U", path], stdoutPath: out, stderrPath: err)
        p.waitUntilExit()
        let errors = try Data(contentsOf: URL(fileURLWithPath: err))
        guard p.terminationReason == .exit, p.terminationStatus == 0, errors.isEmpty else { return nil }
        return try Data(contentsOf: URL(fileURLWithPath: out))
    }

    /// Whether two dumps hold the same records: byte-equal (same build, same walk order) or, failing
    /// that, the same multiset of lines.
    static func sameRecords(_ a: Data, _ b: Data) -> Bool {
        guard a.count == b.count else { return false }
        if a == b { return true }
        func lines(_ d: Data) -> [Data] { d.split(separator: 0x0A).sorted { $0.lexicographicallyPrecedes($1) } }
        return lines(a) == lines(b)
    }

    /// The number of lines in a dump.
    static func lineCount(_ d: Data) -> Int {
        d.withUnsafeBytes { raw in raw.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) } }
    }

    /// FNV-1a 64 of some bytes, for short digests in messages.
    static func digest(_ d: Data) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in d { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        return String(h, radix: 16)
    }

    /// The temporary files of `target` left in its directory (whatever their state).
    static func temporaries(of target: String) throws -> [String] {
        let dir = AtomicFile.directoryName(of: target)
        let prefix = AtomicFile.baseName(of: target) + AtomicFile.marker
        return try FileManager.default.contentsOfDirectory(atPath: dir)
            .filter { $0.hasPrefix(prefix) }.map { dir + "/" + $0 }.sorted()
    }

    /// Starts one of our tools with its output thrown away (stderr kept in a file when `stderrPath`).
    static func start(_ program: String, _ arguments: [String], stdoutPath: String? = nil,
                      stderrPath: String? = nil) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: program)
        p.arguments = arguments
        p.standardInput = FileHandle.nullDevice
        if let stdoutPath {
            _ = FileManager.default.createFile(atPath: stdoutPath, contents: nil)
            p.standardOutput = FileHandle(forWritingAtPath: stdoutPath)
        } else {
            p.standardOutput = FileHandle.nullDevice
        }
        if let stderrPath {
            _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
            p.standardError = FileHandle(forWritingAtPath: stderrPath)
        } else {
            p.standardError = FileHandle.nullDevice
        }
        try TestSupport.spawn(p)
        return p
    }

    /// Monotonic seconds.
    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    static func sleep(seconds: Double) {
        guard seconds > 0 else { return }
        var request = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - Double(Int(seconds))) * 1e9))
        var remaining = timespec()
        while nanosleep(&request, &remaining) == -1 && errno == EINTR { request = remaining }
    }
}

/// SplitMix64: a small seeded generator, so that a failing run can be repeated (the seed is in the
/// failure message).
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    let seed: UInt64

    init(seed: UInt64? = nil) {
        let s = seed ?? UInt64.random(in: 1...UInt64.max)
        self.seed = s
        state = s
    }

    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

struct DurabilityFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
