import Foundation
import Testing
@testable import SMTPDTables

/// Our makemap at a release against that release's real makemap, on generated sources (MakemapInputGenerator)
/// built plain, `-t aliases` and `-t set`: the same exit status, the same messages, and the same database
/// (the real `makemap -U` and `db5.3_dump -p` of both files). 6.8 is Debian 12's, on this machine; 7.6 is
/// Debian 13's, in a root made by `.ci/debian-root trixie` (SMTPD_TABLES_ROOTS, else
/// /var/cache/smtpd-tables/roots/trixie), run with chroot.
@Suite("makemap at 6.8 and 7.6 builds what Debian 12's and 13's build", .serialized,
       .disabled(if: TestSupport.underSanitizer, "runs the real makemaps a thousand times: the plain run covers it"))
struct MakemapVersionDifferentialTests {
    /// How many sources are generated besides the hand-written ones (each is built three ways).
    static let generated = 150
    static let seed: UInt64 = 0x6D61_6B65_6D61_7068

    static var inputs: [MakemapInputGenerator.Input] {
        var generator = MakemapInputGenerator(seed: seed)
        return MakemapInputGenerator.fixed + generator.generate(count: generated)
    }

    static let builds: [(name: String, options: [String])] = [("plain", []), ("aliases", ["-t", "aliases"]),
                                                             ("set", ["-t", "set"])]

    @Test("6.8: Debian 12's makemap", .enabled(if: MakemapSupport.oracleAvailable && DebianMakemap.host != nil))
    func debian12() throws {
        try compare(version: "6.8", with: DebianMakemap.host!, label: "Debian 12")
    }

    @Test("7.6: Debian 13's makemap (trixie root)", .enabled(if: DebianMakemap.trixie != nil,
                                                              "needs root and a trixie root (.ci/debian-root trixie)"))
    func debian13() throws {
        try compare(version: "7.6", with: DebianMakemap.trixie!, label: "Debian 13")
    }

    func compare(version: String, with real: DebianMakemap, label: String) throws {
        var disagreements: [String] = []
        var builds = 0
        try real.withScratchDirectory { dir in
            let environment = ProcessInfo.processInfo.environment.merging(
                [SMTPDVersion.environmentVariable: version]) { $1 }
            for input in Self.inputs {
                for build in Self.builds {
                    builds += 1
                    for side in ["ours", "real"] {
                        try? FileManager.default.removeItem(atPath: dir + "/" + side)
                        try FileManager.default.createDirectory(atPath: dir + "/" + side, withIntermediateDirectories: false)
                        try TestSupport.write(bytes: input.bytes, to: "map", in: dir + "/" + side)
                    }
                    let ours = try TestSupport.run(MakemapSupport.ours, build.options + ["map"], environment: environment,
                                                   currentDirectory: dir + "/ours")
                    let theirs = try real.makemap(build.options + ["map"], in: dir + "/real")
                    var why: [String] = []
                    if ours.status != theirs.status { why.append("exit \(ours.status), theirs \(theirs.status)") }
                    if MakemapSupport.upstreamPart(ours.stderr) != theirs.stderr { why.append("stderr \(ours.stderr.debugDescription), theirs \(theirs.stderr.debugDescription)") }
                    let oursDB = dir + "/ours/map.db", theirsDB = dir + "/real/map.db"
                    let exists = (FileManager.default.fileExists(atPath: oursDB), FileManager.default.fileExists(atPath: theirsDB))
                    if exists.0 != exists.1 {
                        why.append("map written: ours \(exists.0), theirs \(exists.1)")
                    } else if exists.0 {
                        let (ourU, theirU) = (try real.makemap(["-U", oursDB]), try real.makemap(["-U", theirsDB]))
                        if ourU.stdout != theirU.stdout || ourU.status != 0 {
                            why.append("makemap -U: ours \(ourU.stdout.debugDescription), theirs \(theirU.stdout.debugDescription)")
                        }
                        if try real.dbDump(oursDB) != real.dbDump(theirsDB) { why.append("db5.3_dump -p differs") }
                    }
                    if !why.isEmpty { disagreements.append("\(build.name) \(input): " + why.joined(separator: "; ")) }
                }
            }
        }
        print("makemap \(version): agrees with \(label)'s on \(builds - disagreements.count) of \(builds) builds "
              + "(\(Self.inputs.count) sources, \(MakemapInputGenerator.fixed.count) written by hand, seed \(Self.seed))")
        #expect(disagreements.isEmpty, "\(disagreements.count) disagreements, first: \(disagreements.prefix(8).joined(separator: "\n"))")
    }
}

/// A real makemap: Debian 12's on this machine, or Debian 13's in a Debian root run through chroot. In a root
/// Debian's own program is run by name (`smtpctl` as `makemap`), so a diverted makemap there (our package,
/// installed by the install tests) is never the one compared.
struct DebianMakemap: Sendable {
    /// The root, or nil for this machine.
    var root: String?

    static let host: DebianMakemap? = MakemapSupport.real == nil ? nil : DebianMakemap(root: nil)

    /// Debian 13's, in a root `.ci/debian-root trixie` made: named in SMTPD_TABLES_ROOTS (space-separated, as
    /// .ci/run sets it) or at its default place. Needs root (chroot).
    static let trixie: DebianMakemap? = {
        guard getuid() == 0 else { return nil }
        let listed = (ProcessInfo.processInfo.environment["SMTPD_TABLES_ROOTS"] ?? "").split(separator: " ").map(String.init)
        for dir in listed + ["/var/cache/smtpd-tables/roots/trixie"] {
            guard let marker = FileManager.default.contents(atPath: dir + "/.smtpd-tables-root"),
                  String(decoding: marker, as: UTF8.self).hasPrefix("suite=trixie "),
                  FileManager.default.isExecutableFile(atPath: dir + "/usr/sbin/smtpctl"),
                  FileManager.default.isExecutableFile(atPath: dir + "/usr/bin/db5.3_dump") else { continue }
            return DebianMakemap(root: dir)
        }
        return nil
    }()

    /// A scratch directory both sides can reach (inside the root for a root), removed afterwards.
    func withScratchDirectory(_ body: (String) throws -> Void) throws {
        guard let root else { return try TestSupport.withTemporaryDirectory(body) }
        let dir = root + "/tmp/smtpd-tables-versions-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try body(dir)
    }

    /// The path `path` has for the real makemap (inside the root).
    func inside(_ path: String) -> String {
        guard let root, path.hasPrefix(root + "/") else { return path }
        return String(path.dropFirst(root.count))
    }

    /// Runs the real makemap with `arguments` (paths on this side), in `dir` when given.
    func makemap(_ arguments: [String], in dir: String? = nil) throws -> ProcessResult {
        let args = arguments.map(inside)
        guard let root else {
            return try TestSupport.run(MakemapSupport.real ?? "", args, currentDirectory: dir)
        }
        return try TestSupport.run("/usr/sbin/chroot", [root, "/bin/bash", "-c",
                                                        "cd \"$1\" && shift && exec -a makemap /usr/sbin/smtpctl \"$@\"",
                                                        "bash", inside(dir ?? root + "/")] + args)
    }

    /// `db5.3_dump -p` of `path`, with the root's db5.3_dump for a root.
    func dbDump(_ path: String) throws -> String {
        guard let root else { return try MakemapSupport.dump(path) }
        let r = try TestSupport.run("/usr/sbin/chroot", [root, "/usr/bin/db5.3_dump", "-p", inside(path)])
        if r.status != 0 { throw BDBTestFailure("db5.3_dump failed: \(r.stderr)") }
        return r.stdout
    }
}
