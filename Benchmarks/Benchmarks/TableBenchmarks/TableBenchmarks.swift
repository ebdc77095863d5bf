// package-benchmark suite for SMTPDTables: time, allocations and peak memory of loading tables and of each
// kind of lookup, on generated tables of 10k, 100k and 1M entries (written once to a temporary directory).
//
//   cd Benchmarks && swift package benchmark                   # everything
//   swift package benchmark --filter 'Load.*'                   # one group
#if canImport(Glibc)
import Glibc
#endif
import Benchmark
@_spi(Reference) import SMTPDTables
import TableFixtures

/// The generated tables, made on first use and shared by every benchmark of a run.
final class FixtureStore: @unchecked Sendable {
    static let shared = FixtureStore()
    private let lock = NSLockLike()
    private var made: [String: (path: String, fixture: Fixture)] = [:]
    private var dir: String?

    /// The file of `kind` at `count` entries and its queries, generating it the first time.
    func get(_ kind: FixtureKind, _ count: Int) -> (path: String, fixture: Fixture) {
        lock.withLock {
            let name = "\(kind.rawValue)-\(count)"
            if let hit = made[name] { return hit }
            do {
                if dir == nil { dir = try TableFixtures.temporaryDirectory() }
                let fixture = TableFixtures.make(kind, count: count, queries: 10_000)
                let path = "\(dir ?? "/tmp")/\(name)"
                try TableFixtures.write(fixture.text, to: path)
                made[name] = (path, fixture)
                return (path, fixture)
            } catch {
                fatalError("cannot write the fixtures: \(error)")
            }
        }
    }
}

/// A pthread mutex (Foundation is not needed for anything else here).
final class NSLockLike: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    init() { pthread_mutex_init(&mutex, nil) }
    func withLock<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return body()
    }
}

func label(_ count: Int) -> String {
    count >= 1_000_000 ? "\(count / 1_000_000)M" : "\(count / 1000)k"
}

func open(_ path: String) -> Table {
    do { return try Table(path: path, backend: .file) } catch { fatalError("\(error)") }
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .cpuTotal, .mallocCountTotal, .peakMemoryResident],
        warmupIterations: 1,
        maxDuration: .seconds(3),
        maxIterations: 50)

    // Loading a file table: read, parse in place, index every key. The mallocs do not grow with the line
    // count (the parser allocates nothing per line): compare 10k with 1M.
    for count in [10_000, 100_000, 1_000_000] {
        for kind in [FixtureKind.aliases, .vusers] {
            Benchmark("Load \(kind.rawValue) \(label(count))",
                      configuration: .init(maxIterations: count >= 1_000_000 ? 5 : 50)) { benchmark in
                let path = FixtureStore.shared.get(kind, count).path
                benchmark.startMeasurement()
                blackHole(open(path))
            }
        }
    }

    // Building a db: map, as makemap does (parse, check duplicates, write a Berkeley DB hash, fsync, rename).
    for count in [10_000, 100_000, 1_000_000] {
        Benchmark("Build db aliases \(label(count))",
                  configuration: .init(maxIterations: count >= 1_000_000 ? 3 : 20)) { benchmark in
            let path = FixtureStore.shared.get(.aliases, count).path
            benchmark.startMeasurement()
            blackHole(try MapBuilder.build(from: .file(path), to: path + ".db"))
        }
    }

    // Exact lookups in a db: map (loaded whole by Table), 1000 per iteration.
    Benchmark("Exact lookup db aliases 1M", configuration: .init(scalingFactor: .kilo, maxIterations: 1000)) { benchmark in
        let (path, fixture) = FixtureStore.shared.get(.aliases, 1_000_000)
        _ = try MapBuilder.build(from: .file(path), to: path + ".db")
        let table = try Table("db:" + path + ".db")
        let keys = Array(fixture.exactKeys.prefix(1000))
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations {
            blackHole(try table.lookup(bytes: keys[i % keys.count], service: .alias))
        }
        benchmark.stopMeasurement()
        withExtendedLifetime(table) {}
    }

    // Exact lookups (the aliases, credentials, userinfo... services), 1000 per iteration.
    for count in [10_000, 1_000_000] {
        Benchmark("Exact lookup aliases \(label(count))",
                  configuration: .init(scalingFactor: .kilo, maxIterations: 1000)) { benchmark in
            let (path, fixture) = FixtureStore.shared.get(.aliases, count)
            let table = open(path)
            let keys = Array(fixture.exactKeys.prefix(1000))
            benchmark.startMeasurement()
            for i in benchmark.scaledIterations {
                blackHole(try table.lookup(bytes: keys[i % keys.count], service: .alias))
            }
            benchmark.stopMeasurement()
            withExtendedLifetime(table) {}
        }
    }

    // Pattern lookups through the indexes (built by the first lookup, outside the measurement).
    for count in [10_000, 100_000, 1_000_000] {
        for kind in [FixtureKind.vdomains, .vusers, .netaddr] {
            Benchmark("Pattern lookup \(kind.patternService) \(label(count))",
                      configuration: .init(scalingFactor: .kilo, maxIterations: 1000)) { benchmark in
                let (path, fixture) = FixtureStore.shared.get(kind, count)
                let table = open(path)
                let service = TableService(rawValue: kind.patternService) ?? .string
                let queries = Array(fixture.patternQueries.prefix(1000))
                _ = try table.lookup(bytes: queries[0], service: service)
                benchmark.startMeasurement()
                for i in benchmark.scaledIterations {
                    blackHole(try table.lookup(bytes: queries[i % queries.count], service: service))
                }
                benchmark.stopMeasurement()
                withExtendedLifetime(table) {}
            }
        }
    }

    // The reference walk smtpd does, for scale (10 queries per iteration).
    for kind in [FixtureKind.vdomains, .vusers, .netaddr] {
        Benchmark("Scan \(kind.patternService) 100k", configuration: .init(maxIterations: 10)) { benchmark in
            let (path, fixture) = FixtureStore.shared.get(kind, 100_000)
            let table = open(path)
            let service = TableService(rawValue: kind.patternService) ?? .string
            benchmark.startMeasurement()
            for q in fixture.patternQueries.prefix(10) {
                blackHole(try table.lookupByScan(bytes: q, service: service))
            }
            benchmark.stopMeasurement()
            withExtendedLifetime(table) {}
        }
    }
}
