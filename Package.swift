// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "smtpd-tables",
    products: [
        .library(name: "SMTPDTables", targets: ["SMTPDTables"]),
        .executable(name: "makemap", targets: ["makemap"]),
        .executable(name: "newaliases", targets: ["newaliases"]),
        .executable(name: "smtpd-tables", targets: ["smtpd-tables"]),
        // proc: table helpers smtpd 7.6+ runs as PATH_LIBEXEC/table-idx and table-passwd.
        .executable(name: "table-idx", targets: ["table-idx"]),
        .executable(name: "table-passwd", targets: ["table-passwd"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // `swift package generate-documentation --target SMTPDTables` builds the DocC catalog.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        // The only module that sees libdb's C API (Debian: libdb-dev, Berkeley DB 5.3).
        .systemLibrary(name: "CBerkeleyDB", providers: [.apt(["libdb-dev"])]),
        // crypt(3) from libxcrypt (Debian: libcrypt-dev).
        .systemLibrary(name: "CCrypt", providers: [.apt(["libcrypt-dev"])]),
        .target(
            name: "SMTPDTables",
            dependencies: ["CBerkeleyDB", "CCrypt"],
            // inet_net_pton(3), which smtpd uses for netaddr entries, lives in libresolv on glibc.
            linkerSettings: [.linkedLibrary("resolv")]),
        // getopt(3) for the drop-in front ends (pure Swift; glibc's globals do not suit Swift 6).
        .target(name: "GetOpt"),
        .executableTarget(name: "makemap", dependencies: ["SMTPDTables", "GetOpt"]),
        .executableTarget(name: "newaliases", dependencies: ["SMTPDTables", "GetOpt"]),
        .executableTarget(
            name: "smtpd-tables",
            dependencies: [
                "SMTPDTables",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .executableTarget(name: "table-idx", dependencies: ["SMTPDTables"]),
        .executableTarget(name: "table-passwd", dependencies: ["SMTPDTables"]),
        .testTarget(name: "SMTPDTablesTests", dependencies: ["SMTPDTables", "GetOpt"]),
    ]
)
