import Foundation
import Testing
@testable import SMTPDTables

/// One `Table` and one `Resolver` shared by several threads, as a server embedding the library shares them:
/// lookups during reloads see one whole version each, pattern indexes built by racing first lookups agree,
/// and concurrent resolutions give the answers a single thread gets. (Run under TSan by `.ci/sanitize`.)
@Suite("Durability: tables and resolvers shared between threads")
struct SharedTableTests {
    static let threads = 4

    /// Readers on several threads hammer one db: table (exact and pattern services) while a writer rebuilds
    /// it between two versions: every answer comes from one version, every snapshot is whole (all its keys of
    /// one version), and the readers see both versions.
    @Test func lookupsDuringReloadsSeeWholeVersions() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let target = dir + "/map.db"
            let sources = try ["v1", "v2"].map { tag in
                try TestSupport.write(bytes: Durability.source(count: 2000, tag: tag), to: "source-\(tag)", in: dir)
            }
            _ = try MapBuilder.build(from: .file(sources[0]), to: target)
            let table = try Table(path: target, backend: .db)
            let rebuilds = 60
            let stop = Mutexed(false)
            let seen = Mutexed(Set<String>())
            let problems = Mutexed([String]())

            let writer = Thread {
                for i in 1...rebuilds {
                    do { _ = try MapBuilder.build(from: .file(sources[i % 2]), to: target) } catch {
                        problems.withLock { $0.append("rebuild \(i): \(error)") }
                    }
                }
                stop.withLock { $0 = true }
            }
            writer.start()
            DispatchQueue.concurrentPerform(iterations: Self.threads) { reader in
                var generator = SystemRandomNumberGenerator()
                var lookups = 0
                while !stop.withLock({ $0 }) || lookups < 200 {
                    lookups += 1
                    let k = "k\(Int.random(in: 0..<2000, using: &generator))"
                    do {
                        guard let hit = try table.lookup(k), let value = hit.value else {
                            problems.withLock { $0.append("reader \(reader): \(k) missing") }
                            continue
                        }
                        let version = String(value.prefix(2))
                        guard value == "\(version)-\(k)", version == "v1" || version == "v2" else {
                            problems.withLock { $0.append("reader \(reader): \(k) = \(value)") }
                            continue
                        }
                        seen.withLock { _ = $0.insert(version) }
                        // One snapshot answers from one version only, whatever the writer does meanwhile.
                        let snapshot = table.snapshot
                        let first = try snapshot.lookup(bytes: Array("k0".utf8))?.value?.prefix(2)
                        let last = try snapshot.lookup(bytes: Array("k1999".utf8))?.value?.prefix(2)
                        if first == nil || first != last || snapshot.count != 2000 {
                            problems.withLock { $0.append("reader \(reader): a mixed snapshot (\(String(describing: first)), \(String(describing: last)), \(snapshot.count))") }
                        }
                        // A pattern service, so that first lookups on fresh snapshots race to build its index.
                        _ = try table.lookup(k + "@example.org", service: .mailaddr)
                    } catch {
                        problems.withLock { $0.append("reader \(reader): \(error)") }
                    }
                }
            }
            while !stop.withLock({ $0 }) { usleep(1000) }
            #expect(problems.withLock { $0 }.isEmpty, "\(problems.withLock { $0.prefix(5) })")
            #expect(seen.withLock { $0 } == ["v1", "v2"])
            #expect(try table.lookup("k5")?.value == "v\(rebuilds % 2 + 1)-k5")
        }
    }

    /// Threads racing to make the first pattern lookups of a fresh snapshot (each builds the index on first
    /// use, once) get the same answers as the reference walk.
    @Test func racingFirstPatternLookupsAgreeWithTheWalk() throws {
        var text = ""
        for i in 0..<300 { text += "*.d\(i).example.org\nu\(i)@m\(i).example.net\n10.\(i / 256).\(i % 256).0/24\n" }
        for round in 0..<3 {
            let table = try Table(contents: Array(text.utf8), name: "round-\(round)")
            let queries = (0..<50).map { i in
                [("x.d\(i * 5).example.org", TableService.domain), ("u\(i * 3)@m\(i * 3).example.net", .mailaddr),
                 ("10.\(i / 256).\(i % 256).9", .netaddr)]
            }.flatMap { $0 }
            let expected = queries.map { table.scanReference(Array($0.0.utf8), service: $0.1)?.keyBytes }
            let mismatches = Mutexed(0)
            DispatchQueue.concurrentPerform(iterations: Self.threads) { _ in
                for (q, e) in zip(queries, expected) {
                    let got = try? table.lookup(q.0, service: q.1)?.keyBytes
                    if got != e { mismatches.withLock { $0 += 1 } }
                }
            }
            #expect(mismatches.withLock { $0 } == 0, "round \(round)")
            #expect(expected.allSatisfy { $0 != nil })
        }
    }

    /// One resolver shared by threads gives each recipient the answer a single thread gets (its tables are
    /// opened by whichever thread needs them first).
    @Test func sharedResolverAnswersAsASingleThread() throws {
        try TestSupport.withTemporaryDirectory { dir in
            var aliases = "", vusers = "@example.org catchall\n"
            for i in 0..<300 {
                aliases += "a\(i): b\(i), c\(i)\n"
                vusers += "v\(i)@example.org a\(i % 50)\n"
            }
            try TestSupport.write(aliases, to: "aliases", in: dir)
            try TestSupport.write(vusers, to: "vusers", in: dir)
            let conf = try TestSupport.write("""
                table aliases file:\(dir)/aliases
                table vusers file:\(dir)/vusers
                action "local" mbox alias <aliases>
                action "virtual" mbox virtual <vusers>
                match for local action "local"
                match for domain "example.org" action "virtual"
                """, to: "smtpd.conf", in: dir)
            let config = try SMTPDConfig.load(path: conf)
            let options = Resolver.Options(hostname: "mx.example.net", homeRoot: dir + "/homes")
            let recipients = (0..<300).map { "v\($0)@example.org" } + (0..<100).map { "a\($0)@localhost" }
                + ["nobody@example.org", "missing@localhost"]
            let single = try Resolver(config: config, options: options)
            let expected = try recipients.map { try single.resolve($0) }
            let shared = try Resolver(config: config, options: options)
            let mismatches = Mutexed([String]())
            DispatchQueue.concurrentPerform(iterations: Self.threads) { t in
                for (i, r) in recipients.enumerated() where (i + t) % 2 == 0 || t == 0 {
                    let got = try? shared.resolve(r)
                    if got != expected[i] { mismatches.withLock { $0.append(r) } }
                }
            }
            #expect(mismatches.withLock { $0 }.isEmpty, "\(mismatches.withLock { $0.prefix(5) })")
        }
    }
}

/// A value behind a lock, for the tests' threads.
final class Mutexed<Value>: @unchecked Sendable {
    private var value: Value
    private let lock = NSLock()
    init(_ value: Value) { self.value = value }
    func withLock<R>(_ body: (inout Value) -> R) -> R { lock.withLock { body(&value) } }
}
