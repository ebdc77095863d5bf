import Foundation
import Testing

/// `make install` and `make uninstall` into a DESTDIR, from the release build that `make` (or .ci/run's
/// `make deb`) left in .build-release: static binaries that run with an empty environment, every file where the
/// shells and man look, and nothing left after uninstall.
@Suite("Install: make install", .serialized,
       .enabled(if: InstallSupport.make != nil && FileManager.default.isExecutableFile(
           atPath: InstallSupport.file(".build-release/release/smtpd-tables")),
           "no release build (run make, or .ci/run)"))
struct InstallMakeTests {
    static let installed = [
        "usr/local/bin/smtpd-tables", "usr/local/sbin/makemap", "usr/local/sbin/newaliases",
        "usr/local/share/man/man5/smtpd-tables.5", "usr/local/share/man/man8/smtpd-tables.8",
        "usr/local/share/man/man8/makemap.8", "usr/local/share/man/man8/newaliases.8",
        "usr/local/share/bash-completion/completions/smtpd-tables",
        "usr/local/share/bash-completion/completions/makemap",
        "usr/local/share/bash-completion/completions/newaliases",
        "usr/local/share/zsh/site-functions/_smtpd-tables", "usr/local/share/zsh/site-functions/_makemap",
        "usr/local/share/zsh/site-functions/_newaliases",
        "usr/local/share/fish/vendor_completions.d/smtpd-tables.fish",
        "usr/local/share/fish/vendor_completions.d/makemap.fish",
        "usr/local/share/fish/vendor_completions.d/newaliases.fish",
        // The proc: table helpers smtpd 7.6+ runs (`table T idx:/path`, `table T passwd:/path`).
        "usr/local/libexec/opensmtpd/table-idx", "usr/local/libexec/opensmtpd/table-passwd",
    ]

    static func make(_ target: String, _ destdir: String) throws -> ProcessResult {
        try TestSupport.run(InstallSupport.make!, ["-s", "-C", InstallSupport.packageRoot, target, "DESTDIR=\(destdir)"],
                            timeout: 900)
    }

    /// Every regular file and link below `dir`, relative to it.
    static func files(_ dir: String) -> [String] {
        var found: [String] = []
        let enumerator = FileManager.default.enumerator(atPath: dir)
        while let path = enumerator?.nextObject() as? String {
            let attributes = try? FileManager.default.attributesOfItem(atPath: dir + "/" + path)
            if attributes?[.type] as? FileAttributeType != .typeDirectory { found.append(path) }
        }
        return found.sorted()
    }

    @Test("install puts every file in place, static binaries that run anywhere; uninstall removes them all")
    func installAndUninstall() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let install = try Self.make("install", dir)
            #expect(install.status == 0, "\(install.stdout)\(install.stderr)")
            #expect(Self.files(dir) == Self.installed.sorted())
            for binary in ["usr/local/bin/smtpd-tables", "usr/local/sbin/makemap", "usr/local/sbin/newaliases",
                           "usr/local/libexec/opensmtpd/table-idx"] {
                let path = dir + "/" + binary
                let ldd = try TestSupport.run("/usr/bin/ldd", [path])
                #expect(ldd.status == 0)
                for line in ldd.stdout.split(separator: "\n") {
                    // Only the system's libraries: nothing of the toolchain (libswift*, Foundation, ICU, /opt/swift).
                    let toolchain = ["swift", "Foundation", "icu", "dispatch", "BlocksRuntime", "/opt/"]
                        .contains { line.contains($0) }
                    #expect(!toolchain && !line.contains("not found"), "\(binary): \(line)")
                }
                if binary.hasSuffix("/table-idx") {
                    // A proc: helper takes only smtpd's arguments: run by hand it explains itself on stderr.
                    let usage = try TestSupport.run(path, [], environment: [:])
                    #expect(usage.status == 1 && usage.stdout.isEmpty && usage.stderr.contains("usage"), "\(usage.stderr)")
                } else {
                    let version = try TestSupport.run(path, ["--version"], environment: [:])
                    #expect(version.status == 0 && version.stdout.contains("0."), "\(binary): \(version.stderr)")
                }
                let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
                #expect(mode == 0o755)
            }
            let page = try String(contentsOfFile: dir + "/usr/local/share/man/man8/makemap.8", encoding: .utf8)
            #expect(page == (try InstallSupport.read("man/makemap.8")))
            let uninstall = try Self.make("uninstall", dir)
            #expect(uninstall.status == 0, "\(uninstall.stderr)")
            #expect(Self.files(dir).isEmpty, "\(Self.files(dir))")
        }
    }
}
