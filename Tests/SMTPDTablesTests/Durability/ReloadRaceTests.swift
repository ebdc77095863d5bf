import Foundation
import Testing
@testable import SMTPDTables

/// The db: reader opening a file while it is being renamed over, as fast as a shell can: every load must
/// give one whole version (libdb reads the meta page and the data pages of one file), and a table that
/// reloads on change must follow.
@Suite("Durability: loads racing renames")
struct ReloadRaceTests {
    @Test(.enabled(if: TestSupport.realMakemap != nil, "needs the real makemap (Debian opensmtpd)"))
    func loadsDuringRenamesSeeWholeVersions() throws {
        let makemap = TestSupport.product("makemap")
        try TestSupport.withTemporaryDirectory { dir in
            // Versions of very different sizes (page counts), so that a meta page of one read with the data
            // pages of the other could not pass for either.
            let counts = ["A": 100, "B": 2500]
            for (tag, count) in counts {
                try TestSupport.write(bytes: Durability.source(count: count, tag: tag), to: "source-\(tag)", in: dir)
                #expect(try TestSupport.run(makemap, ["-o", "\(dir)/\(tag).db", "\(dir)/source-\(tag)"]).status == 0)
            }
            let target = dir + "/map.db"
            #expect(link("\(dir)/A.db", target) == 0 || errno == EEXIST)
            // A writer thread replacing the map by copies of A and B, renamed over it, for a few seconds. (A
            // thread, not a shell loop: thousands of cp/mv processes a second would wrap the PID space, which
            // other tests running alongside rely on not to reuse a killed writer's PID.)
            let versions = [try Data(contentsOf: URL(fileURLWithPath: "\(dir)/A.db")),
                            try Data(contentsOf: URL(fileURLWithPath: "\(dir)/B.db"))]
            let seconds = Double(ProcessInfo.processInfo.environment["DURABILITY_RACE_SECONDS"] ?? "") ?? 3
            let writerDone = DispatchSemaphore(value: 0)
            let writerFailure = NSLock()
            nonisolated(unsafe) var writerError: String?
            let thread = Thread {
                let end = Date().addingTimeInterval(seconds)
                var i = 0
                let temporary = "\(dir)/t.writer"
                while Date() < end {
                    do {
                        try versions[i % 2].write(to: URL(fileURLWithPath: temporary))
                    } catch {
                        writerFailure.withLock { writerError = "\(error)" }
                        break
                    }
                    if rename(temporary, target) != 0 {
                        writerFailure.withLock { writerError = "rename: errno \(errno)" }
                        break
                    }
                    i += 1
                }
                writerDone.signal()
            }
            thread.start()
            func writerRunning() -> Bool { writerDone.wait(timeout: .now()) != .success }
            var loads = ["A": 0, "B": 0], broken: [String] = []
            let following = try Table(path: target, backend: .db)
            var followed = Set<String>()
            while writerRunning() {
                do {
                    let table = try Table(path: target, backend: .db)
                    let version = Durability.version(of: table, expectedCount: table.count, tags: ["A", "B"])
                    if let version, counts[version] == table.count {
                        loads[version, default: 0] += 1
                    } else {
                        broken.append("\(table.count) records, version \(version ?? "none")")
                    }
                    // The same through a long-lived table that reloads on change.
                    if let hit = try following.lookup("k1") {
                        followed.insert(String(hit.value?.prefix(1) ?? ""))
                    } else {
                        broken.append("k1 missing")
                    }
                } catch {
                    broken.append("\(error)")
                }
            }
            #expect(writerFailure.withLock { writerError } == nil)
            #expect(broken.isEmpty, "\(broken.count) bad loads, first: \(broken.prefix(3))")
            #expect(loads["A", default: 0] > 0 && loads["B", default: 0] > 0)
            #expect(followed == ["A", "B"])
            print("durability: \(loads["A", default: 0] + loads["B", default: 0]) loads while the map was renamed over "
                  + "continuously: A \(loads["A", default: 0]), B \(loads["B", default: 0]), \(broken.count) bad")
        }
    }

    /// Regression: a lookup whose reload fails (here: a map being rewritten in place, as `cp new.db map.db`
    /// does, seen half-written) used to throw; smtpd keeps its open handle when reopening fails, so it goes on
    /// answering from the old map. Now the table answers from the entries it has, records why, and takes the
    /// new map once it is whole.
    @Test func failedReloadKeepsAnsweringFromTheOldEntries() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let target = dir + "/map.db", staging = dir + "/new.db"
            for (tag, output) in [("v1", target), ("v2", staging)] {
                let source = try TestSupport.write(bytes: Durability.source(count: 3000, tag: tag), to: "source-\(tag)", in: dir)
                _ = try MapBuilder.build(from: .file(source), to: output)
            }
            let table = try Table(path: target, backend: .db)
            #expect(try table.lookup("k7")?.value == "v1-k7")

            let newBytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: staging)))
            let fd = open(target, O_WRONLY | O_TRUNC)
            #expect(fd >= 0)
            defer { close(fd) }
            func append(_ part: ArraySlice<UInt8>) {
                part.withUnsafeBytes { raw in _ = write(fd, raw.baseAddress, raw.count) }
            }
            // Half written: not a usable database (libdb would read the missing pages as empty).
            append(newBytes[..<(newBytes.count / 2)])
            #expect(throws: TableError.self) { try Table(path: target, backend: .db) }
            #expect(try table.lookup("k7")?.value == "v1-k7")
            #expect(try table.lookup("k2999")?.value == "v1-k2999")
            #expect(table.lastReloadError != nil)
            #expect(table.count == 3000)
            // Whole again: the next lookup takes the new map.
            append(newBytes[(newBytes.count / 2)...])
            #expect(try table.lookup("k7")?.value == "v2-k7")
            #expect(table.lastReloadError == nil)
            // An explicit reload still reports its failure.
            #expect(ftruncate(fd, off_t(newBytes.count / 3)) == 0)
            #expect(throws: TableError.self) { try table.reloadIfChanged() }
            #expect(try table.lookup("k7")?.value == "v2-k7")
        }
    }
}
