// swift-tools-version:6.1
// libFuzzer targets for the parsers of SMTPDTables. A nested package (like swift-nio's Benchmarks/), so
// the main build and CI's `swift build` never compile it. Build and run with Fuzz/run.sh; see its header.
import Foundation
import PackageDescription

/// One executable per fuzz target: Sources/<name>/<name>.swift defines LLVMFuzzerTestOneInput.
let fuzzTargets = [
    "FuzzTableFile",       // Table(contents:), lookups of every service, typed values
    "FuzzAliasValue",      // ExpansionNode.parseList, the mailaddrmap list
    "FuzzAddresses",       // MailAddress, NetworkAddress, SocketAddress
    "FuzzMatchers",        // domain/mailaddr/netaddr/regex matchers through a table, index vs reference walk
    "FuzzRelayHost",       // RelayHost
    "FuzzCredentials",     // credentials and userinfo values, Dovecot passwd-file lines, hash analysis
    "FuzzConfig",          // SMTPDConfig.parse(bytes:path:), then a resolver on every accepted configuration
    "FuzzForwardFile",     // ~/.forward and :include: files through the resolver, ForwardFile.parseLines
    "FuzzDBFile",          // db: tables (DBTable, BerkeleyDB over libdb) on mutated database files
    "FuzzProcRequest",     // proc: backend requests (ProcProtocol.parse, ProcSession.answer): every reply well formed
    "FuzzDovecotConfig",   // DovecotConfig.parse (dovecot.conf 2.3 and 2.4), DovecotCheck on the bytes as a passwd file
]

/// SwiftPM names a path dependency after its folder (main, a worktree, CI's clone): use whatever it is.
let rootPackage = URL(fileURLWithPath: Context.packageDirectory).deletingLastPathComponent().lastPathComponent
    .lowercased()

let package = Package(
    name: "smtpd-tables-fuzz",
    dependencies: [.package(path: "../")],
    targets: [
        // Declares LLVMFuzzerRunDriver (no library to link: -sanitize=fuzzer brings libFuzzer).
        .systemLibrary(name: "CLibFuzzer"),
    ] + fuzzTargets.map { name in
        .executableTarget(
            name: name,
            dependencies: ["CLibFuzzer", .product(name: "SMTPDTables", package: rootPackage)],
            path: "Sources/\(name)")
    }
)
