// swift-tools-version:6.1
// The benchmarks: a package of their own so that the main build and CI never compile package-benchmark.
// Run from this folder: `swift package benchmark` (package-benchmark suites in Benchmarks/),
// or `bash compare.sh` (ours against the real makemap, libdb and a reference scan, in one run).
import PackageDescription

let package = Package(
    name: "smtpd-tables-benchmarks",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(name: "smtpd-tables", path: "../"),
        // Its default traits pull in a runtime interposer this machine's package mirror lacks.
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        // Deterministic generator of the benchmark tables (aliases, vusers, vdomains, netaddr).
        .target(name: "TableFixtures", path: "Sources/TableFixtures"),
        // The timed runs of compare.sh: load rate, lookups, scans, peak memory.
        .executableTarget(
            name: "tables-bench",
            dependencies: [
                "TableFixtures",
                .product(name: "SMTPDTables", package: "smtpd-tables"),
            ],
            path: "Sources/tables-bench"),
        // package-benchmark suite: time, mallocs and peak memory per operation.
        .executableTarget(
            name: "TableBenchmarks",
            dependencies: [
                "TableFixtures",
                .product(name: "SMTPDTables", package: "smtpd-tables"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/TableBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]),
    ]
)
