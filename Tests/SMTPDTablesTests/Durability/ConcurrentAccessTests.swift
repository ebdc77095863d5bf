import Foundation
import Synchronization
import Testing
@testable import SMTPDTables

/// Readers and writers at the same time: a long-running `smtpd-tables query ... -` reader process while
/// makemap rebuilds its db: table over and over, and makemap runs racing on one target.
@Suite("Durability: concurrent readers and writers", .serialized)
struct ConcurrentAccessTests {
    static let entries = 20_000
    static let rebuilds = Durability.quick ? 20 : 100

    /// The key written at position `i` of the reader's input (a fixed walk over every key).
    static func key(at i: Int) -> [UInt8] { Array("k\((i &* 7919) % entries)".utf8) }

    /// Sets `stop` to end the feeding thread; counts the keys written.
    final class Feed: Sendable {
        let stop = Atomic<Bool>(false)
        let written = Atomic<Int>(0)
        let failed = Atomic<Bool>(false)
    }

    /// Writes all of `bytes` to `fd`; false on a write error.
    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        return bytes.withUnsafeBytes { raw in
            while offset < raw.count {
                let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                offset += n
            }
            return true
        }
    }

    /// Reads `fd` to its end on a thread of its own; `wait()` gives everything read.
    final class Drain: @unchecked Sendable {
        private var data = Data()
        private let done = DispatchSemaphore(value: 0)

        init(_ handle: FileHandle) {
            Thread.detachNewThread { [self] in
                data = handle.readDataToEndOfFile()
                done.signal()
            }
        }

        func wait() -> Data {
            done.wait()
            return data
        }
    }

    /// Starts a thread that writes keys to `fd`, 32 every millisecond, until `feed.stop`; the semaphore
    /// is signalled when it has stopped.
    static func feedKeys(to fd: Int32, _ feed: Feed) -> DispatchSemaphore {
        let fed = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            var i = 0
            while !feed.stop.load(ordering: .acquiring) {
                var batch: [UInt8] = []
                for _ in 0..<32 {
                    batch += key(at: i)
                    batch.append(0x0A)
                    i += 1
                }
                guard writeAll(fd, batch) else {
                    feed.failed.store(true, ordering: .releasing)
                    break
                }
                feed.written.store(i, ordering: .releasing)
                Durability.sleep(seconds: 0.001)
            }
            fed.signal()
        }
        return fed
    }

    struct Tally {
        var seen = ["v1": 0, "v2": 0]
        var switches = 0
        var bad: [String] = []
        var finalBad = 0
        var answers = 0
    }

    /// Reads the reader's answers: answer i must be `KEY<TAB>vN-KEY` for the key at position i, from one
    /// of the two versions; from position `finalFrom` on, from `finalVersion`.
    static func tally(_ out: Data, finalVersion: String, finalFrom: Int) -> Tally {
        var t = Tally()
        var previous: String?
        let bytes = [UInt8](out)
        var start = 0
        while start < bytes.count {
            let end = bytes[start...].firstIndex(of: 0x0A) ?? bytes.count
            let line = bytes[start..<end]
            start = end + 1
            let key = key(at: t.answers)
            t.answers += 1
            var version: String?
            if line.count == 2 * key.count + 4, line.starts(with: key), line[line.startIndex + key.count] == 0x09 {
                let value = line.dropFirst(key.count + 1)
                let tag = String(decoding: value.prefix(2), as: UTF8.self)
                if t.seen[tag] != nil, value.dropFirst(2).first == UInt8(ascii: "-"), value.dropFirst(3).elementsEqual(key) {
                    version = tag
                }
            }
            guard let version else {
                t.bad.append("answer \(t.answers): \(String(decoding: line, as: UTF8.self))")
                continue
            }
            t.seen[version, default: 0] += 1
            if let previous, previous != version { t.switches += 1 }
            previous = version
            if t.answers > finalFrom, version != finalVersion { t.finalBad += 1 }
        }
        return t
    }

    @Test(.enabled(if: TestSupport.realMakemap != nil, "needs the real makemap (Debian opensmtpd)"))
    func readerProcessSeesWholeVersionsAndPicksUpEveryRebuild() throws {
        signal(SIGPIPE, SIG_IGN)  // a reader that dies must fail the test, not kill the runner
        let makemap = TestSupport.product("makemap")
        try TestSupport.withTemporaryDirectory { dir in
            let target = dir + "/map.db"
            let sources = try ["v1", "v2"].map { tag in
                try TestSupport.write(bytes: Durability.source(count: Self.entries, tag: tag), to: "source-\(tag)", in: dir)
            }
            #expect(try TestSupport.run(makemap, ["-o", target, sources[0]]).status == 0)

            let reader = Process()
            reader.executableURL = URL(fileURLWithPath: TestSupport.product("smtpd-tables"))
            reader.arguments = ["query", "-s", "string", "db:" + target, "-"]
            let input = Pipe(), output = Pipe(), errors = Pipe()
            reader.standardInput = input
            reader.standardOutput = output
            reader.standardError = errors
            try TestSupport.spawn(reader)
            let answers = Drain(output.fileHandleForReading)
            let messages = Drain(errors.fileHandleForReading)
            let inputFD = input.fileHandleForWriting.fileDescriptor

            // Keys go in continuously, 32 every millisecond, while the map is rebuilt.
            let feed = Feed()
            let fed = Self.feedKeys(to: inputFD, feed)

            // 100 rebuilds, alternating v2, v1, ...: the last one leaves v1, after a v2.
            var failedBuilds = 0
            for n in 1...Self.rebuilds {
                let r = try TestSupport.run(makemap, ["-o", target, sources[n % 2]])
                if r.status != 0 { failedBuilds += 1 }
            }
            feed.stop.store(true, ordering: .releasing)
            fed.wait()
            let final = "v\(1 + Self.rebuilds % 2)"
            // After the last rebuild: these keys can only be answered from the final map.
            let fedBefore = feed.written.load(ordering: .acquiring)
            let tail = 2000
            var after: [UInt8] = []
            for i in fedBefore..<(fedBefore + tail) { after += Self.key(at: i); after.append(0x0A) }
            #expect(Self.writeAll(inputFD, after))
            try input.fileHandleForWriting.close()
            reader.waitUntilExit()
            let out = answers.wait(), err = messages.wait()

            #expect(failedBuilds == 0)
            let feedFailed = feed.failed.load(ordering: .acquiring)
            #expect(!feedFailed, "the reader stopped reading its input")
            #expect(reader.terminationReason == .exit && reader.terminationStatus == 0,
                    "reader: \(String(decoding: err, as: UTF8.self))")
            #expect(err.isEmpty, "reader: \(String(decoding: err.prefix(2000), as: UTF8.self))")

            // Every answer: KEY<TAB>vN-KEY, for the key sent at that position, in order; none missing.
            let tally = Self.tally(out, finalVersion: final, finalFrom: fedBefore)
            let (seen, switches, bad, finalBad, position) = (tally.seen, tally.switches, tally.bad.count, tally.finalBad, tally.answers)
            for line in tally.bad.prefix(3) { Issue.record("bad answer: \(line)") }
            #expect(bad == 0)
            #expect(position == fedBefore + tail, "\(position) answers for \(fedBefore + tail) keys")
            #expect(finalBad == 0, "\(finalBad) answers after the last rebuild came from the older map")
            #expect(seen["v1", default: 0] > 0 && seen["v2", default: 0] > 0)
            #expect(switches > 0)
            print("durability: reader process answered \(position) lookups during \(Self.rebuilds) rebuilds of a "
                  + "\(Self.entries)-entry map: v1 \(seen["v1", default: 0]), v2 \(seen["v2", default: 0]), "
                  + "\(switches) version changes seen, the last \(tail) answers all \(final); no error, no missing key")
        }
    }

    @Test(.enabled(if: TestSupport.realMakemap != nil, "needs the real makemap (Debian opensmtpd)"))
    func racingMakemapRunsLeaveOneWholeMap() throws {
        let makemap = TestSupport.product("makemap")
        let rounds = Durability.quick ? 5 : 20
        try TestSupport.withTemporaryDirectory { dir in
            let target = dir + "/map.db"
            let counts = [Self.entries, Self.entries + 500]
            let sources = try ["A", "B"].enumerated().map { n, tag in
                try TestSupport.write(bytes: Durability.source(count: counts[n], tag: tag), to: "source-\(tag)", in: dir)
            }
            var dumps: [Data] = []
            for n in 0..<2 {
                let reference = dir + "/reference-\(n).db"
                #expect(try TestSupport.run(makemap, ["-o", reference, sources[n]]).status == 0)
                guard let dump = try Durability.realDump(reference) else { throw DurabilityFailure("reference dump") }
                dumps.append(dump)
                unlink(reference)
            }
            var outcomes = [0, 0]
            for round in 0..<rounds {
                let errorFiles = [dir + "/errors-a", dir + "/errors-b"]
                // Alternate which one starts first.
                let order = round % 2 == 0 ? [0, 1] : [1, 0]
                var runs: [Int: Process] = [:]
                for n in order {
                    runs[n] = try Durability.start(makemap, ["-o", target, sources[n]], stderrPath: errorFiles[n])
                }
                for n in order {
                    guard let p = runs[n] else { continue }
                    p.waitUntilExit()
                    let message = (try? String(contentsOfFile: errorFiles[n], encoding: .utf8)) ?? ""
                    #expect(p.terminationReason == .exit && p.terminationStatus == 0,
                            "round \(round): run \(n) failed: \(message)")
                    #expect(message.isEmpty, "round \(round): run \(n): \(message)")
                }
                guard let dump = try Durability.realDump(target) else {
                    Issue.record("round \(round): the real makemap cannot read the map")
                    return
                }
                guard let winner = dumps.firstIndex(where: { Durability.sameRecords(dump, $0) }) else {
                    Issue.record("round \(round): the map is neither run's: \(Durability.lineCount(dump)) records")
                    return
                }
                outcomes[winner] += 1
                let ours = Durability.dump(of: try Table(path: target, backend: .db))
                #expect(Durability.sameRecords(ours, dumps[winner]), "round \(round): our reader disagrees")
                #expect(try Durability.temporaries(of: target).isEmpty, "round \(round): temporary files left")
            }
            print("durability: \(rounds) pairs of makemap runs racing on one target: all finished, the map was "
                  + "A's \(outcomes[0]) times and B's \(outcomes[1]) times, always whole, no temporary file left")
        }
    }
}
