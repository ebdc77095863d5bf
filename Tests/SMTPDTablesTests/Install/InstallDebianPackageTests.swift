import Foundation
import Testing

/// The .deb in fresh Debian roots that have no Swift toolchain (.ci/run builds them with .ci/debian-root and
/// names them in SMTPD_TABLES_ROOTS, the package in SMTPD_TABLES_DEB): it installs beside Debian's opensmtpd,
/// every program runs, Debian's makemap stays the default until the admin opts in, and removing the package
/// gives Debian's files back exactly.
/// What the tests below need, from the environment .ci/run sets.
enum DebianRoots {
    static let environment = ProcessInfo.processInfo.environment
    static let deb = environment["SMTPD_TABLES_DEB"] ?? ""
    static let roots = (environment["SMTPD_TABLES_ROOTS"] ?? "").split(separator: " ").map(String.init)
    static let available = InstallSupport.isRoot && FileManager.default.fileExists(atPath: deb) && !roots.isEmpty
        && roots.allSatisfy { FileManager.default.fileExists(atPath: $0 + "/.smtpd-tables-root") }
}

@Suite("Install: the Debian package in fresh Debian roots", .serialized,
       .enabled(if: DebianRoots.available,
                "needs root, SMTPD_TABLES_DEB (make deb) and SMTPD_TABLES_ROOTS (.ci/debian-root)"))
struct InstallDebianPackageTests {
    /// Runs a shell command inside `root` with /proc mounted (Swift reads its arguments from /proc/self/cmdline),
    /// in a private mount namespace so the mount never outlives the command.
    static func run(_ root: String, _ command: String) throws -> ProcessResult {
        try TestSupport.run("/usr/bin/unshare", [
            "-m", "--propagation", "private", "/bin/sh", "-c",
            "mount -t proc proc \"$0/proc\" && exec chroot \"$0\" /bin/sh -c \"$1\"", root, command,
        ], environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C"], timeout: 300)
    }

    /// Runs `command` in `root` and expects exit 0; returns its standard output.
    @discardableResult
    static func ok(_ root: String, _ command: String) throws -> String {
        let result = try run(root, command)
        #expect(result.status == 0, "\(root): \(command): exit \(result.status)\n\(result.stdout)\(result.stderr)")
        return result.stdout
    }

    // Input on which OpenSMTPD 6.8 and 7.6 agree, so Debian 12's makemap and 13's both build what ours does.
    static let vusers = "alice@example.org alice\nbob@example.org bob, alice\n@example.org catchall\n"
    static let aliases = "root: john\npostmaster: root\nteam: alice, bob@example.org\n"
    static let config = "table aliases file:/tmp/smtpd-tables-test/aliases\naction \"local\" mbox alias <aliases>\n"
        + "match for local action \"local\"\n"

    @Test("install, run every program, opt in and out of our makemap, remove", arguments: DebianRoots.roots)
    func lifecycle(_ root: String) throws {
        // No Swift runtime in the root: the binaries must carry theirs.
        let swift = try TestSupport.run("/usr/bin/find", [root, "-xdev", "-name", "libswiftCore*"])
        #expect(swift.stdout.isEmpty, "\(swift.stdout)")
        let debianMakemap = try #require(FileManager.default.destinationOfSymbolicLink(atPath: root + "/usr/sbin/makemap") as String?)
        _ = try Self.run(root, "dpkg --purge smtpd-tables")  // a run interrupted before its removal step
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: root + "/usr/sbin/makemap") == debianMakemap)

        let dir = root + "/tmp/smtpd-tables-test"
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.copyItem(atPath: DebianRoots.deb, toPath: dir + "/smtpd-tables.deb")
        try TestSupport.write(Self.vusers, to: "vusers", in: dir)
        try TestSupport.write(Self.aliases, to: "aliases", in: dir)
        try TestSupport.write(Self.config, to: "smtpd.conf", in: dir)
        let t = "/tmp/smtpd-tables-test"

        try Self.ok(root, "dpkg -i \(t)/smtpd-tables.deb")
        let version = try Self.ok(root, "dpkg-query -W -f '${Version}' smtpd-tables")
        #expect(version == (try TestSupport.run(TestSupport.product("smtpd-tables"), ["--version"]))
            .stdout.split(separator: "\n").first?.split(separator: " ").last.map(String.init))

        // Debian's makemap is still what `makemap` runs (it has no -V), and its own files are intact.
        let theirs = try Self.run(root, "makemap -V")
        #expect(theirs.status == 1 && theirs.stderr.contains("invalid option"), "\(theirs.stderr)")
        try Self.ok(root, "dpkg --verify opensmtpd")

        // Without /proc a Swift program sees no arguments at all: ours say so instead of acting on none.
        #expect(!FileManager.default.fileExists(atPath: root + "/proc/self"), "\(root)/proc is mounted")
        for program in ["/usr/sbin/makemap.smtpd-tables", "/usr/sbin/newaliases.smtpd-tables", "/usr/bin/smtpd-tables"] {
            let bare = try TestSupport.run("/usr/sbin/chroot", [root, program, "--version"], environment: [:])
            #expect(bare.status != 0 && bare.stderr.contains("is /proc mounted?"), "\(program): \(bare.stderr)")
            #expect(bare.stdout.isEmpty)
        }

        // Every program runs, and reports the root's own libdb.
        let libdb = try Self.ok(root, "db5.3_dump -V").trimmingCharacters(in: .whitespacesAndNewlines)
        for command in ["makemap.smtpd-tables -V", "makemap.smtpd-tables --version", "newaliases.smtpd-tables -V",
                        "newaliases.smtpd-tables --version", "smtpd-tables --version", "smtpd-tables dump --version"] {
            let out = try Self.ok(root, command)
            #expect(out.contains("libdb: \(libdb)\n"), "\(command): \(out)")
        }

        // The same database as Debian's makemap, byte for byte (db5.3_dump -p shows header and records).
        try Self.ok(root, "makemap.smtpd-tables -o \(t)/ours.db \(t)/vusers && makemap -o \(t)/theirs.db \(t)/vusers")
        let ours = try Self.ok(root, "db5.3_dump -p \(t)/ours.db")
        #expect(ours == (try Self.ok(root, "db5.3_dump -p \(t)/theirs.db")))
        #expect(ours.contains("bob@example.org"))
        // Each makemap -U reads the other's database.
        #expect(try Self.ok(root, "makemap.smtpd-tables -U \(t)/theirs.db | sort")
            == (try Self.ok(root, "makemap -U \(t)/ours.db | sort")))
        #expect(try Self.ok(root, "smtpd-tables query -s mailaddr \(t)/ours.db nobody@example.org") == "@example.org\n")
        #expect(try Self.ok(root, "smtpd-tables query \(t)/vusers bob@example.org") == "bob, alice\n")
        #expect(try Self.ok(root, "newaliases.smtpd-tables -f \(t)/smtpd.conf") == "\(t)/aliases: 3 aliases\n")
        #expect(try Self.ok(root, "makemap -U \(t)/aliases.db | sort") == "postmaster\troot\nroot\tjohn\nteam\talice, bob@example.org\n")

        // Opting in: `makemap` and `man makemap` are ours; opting out: Debian's again.
        try Self.ok(root, "update-alternatives --set makemap /usr/sbin/makemap.smtpd-tables"
                    + " && update-alternatives --set newaliases /usr/sbin/newaliases.smtpd-tables")
        #expect(try Self.ok(root, "makemap -V").hasPrefix("makemap (smtpd-tables) "))
        #expect(try Self.ok(root, "newaliases -f \(t)/smtpd.conf") == "\(t)/aliases: 3 aliases\n")
        #expect(try Self.ok(root, "readlink -f /usr/share/man/man8/makemap.8.gz") == "/usr/share/man/man8/makemap.smtpd-tables.8.gz\n")
        try Self.ok(root, "update-alternatives --auto makemap && update-alternatives --auto newaliases")
        #expect(try Self.run(root, "makemap -V").status == 1)
        #expect(try Self.ok(root, "readlink -f /usr/share/man/man8/makemap.8.gz") == "/usr/share/man/man8/makemap.opensmtpd.8.gz\n")

        // Removing the package gives Debian's files back under their names, untouched.
        try Self.ok(root, "dpkg -r smtpd-tables")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: root + "/usr/sbin/makemap") == debianMakemap)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: root + "/usr/sbin/newaliases") == debianMakemap)
        #expect(try Self.ok(root, "dpkg-divert --list smtpd-tables").isEmpty)
        #expect(try Self.run(root, "update-alternatives --query makemap").status != 0)
        #expect(try Self.ok(root, "dpkg --verify opensmtpd").isEmpty)
        #expect(try Self.ok(root, "makemap -U \(t)/ours.db | sort") == (try Self.ok(root, "makemap -U \(t)/theirs.db | sort")))
    }

    /// opensmtpd's own package as .ci/debian-root left it in the root's apt cache (for reinstalling offline).
    static func opensmtpdPackage(in root: String) -> String? {
        let archives = root + "/var/cache/apt/archives"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: archives)) ?? []
        return names.first { $0.hasPrefix("opensmtpd_") && $0.hasSuffix(".deb") }.map { "/var/cache/apt/archives/" + $0 }
    }

    @Test("opensmtpd installed after our package becomes the default; removed before it, ours is left",
          arguments: DebianRoots.roots)
    func opensmtpdLater(_ original: String) throws {
        let package = try #require(Self.opensmtpdPackage(in: original), "no opensmtpd .deb in \(original)'s apt cache")
        // A copy of the root: removing opensmtpd must not touch the shared one.
        let root = original + ".scratch"
        try? FileManager.default.removeItem(atPath: root)
        let copy = try TestSupport.run("/bin/cp", ["-a", original, root])
        #expect(copy.status == 0, "\(copy.stderr)")
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.copyItem(atPath: DebianRoots.deb, toPath: root + "/tmp/smtpd-tables.deb")

        try Self.ok(root, "dpkg --purge opensmtpd")
        try Self.ok(root, "dpkg -i /tmp/smtpd-tables.deb")
        #expect(try Self.ok(root, "makemap -V").hasPrefix("makemap (smtpd-tables) "), "no Debian makemap: ours")
        // dpkg's file trigger on the diverted names registers Debian's makemap, which outranks ours.
        try Self.ok(root, "dpkg -i \(package)")
        let debian = try Self.run(root, "makemap -V")
        #expect(debian.status == 1 && debian.stderr.contains("invalid option"), "\(debian.stdout)\(debian.stderr)")
        #expect(try Self.ok(root, "update-alternatives --query newaliases").contains("Value: /usr/sbin/newaliases.opensmtpd"))
        try Self.ok(root, "dpkg --verify opensmtpd")
        // Removed again: its alternatives go with it, ours is left.
        try Self.ok(root, "dpkg --purge opensmtpd")
        #expect(try Self.ok(root, "makemap -V").hasPrefix("makemap (smtpd-tables) "))
        #expect(!(try Self.ok(root, "update-alternatives --query makemap")).contains("opensmtpd"))
        try Self.ok(root, "dpkg -r smtpd-tables")
        #expect((try? FileManager.default.attributesOfItem(atPath: root + "/usr/sbin/makemap")) == nil, "a link is left")
        #expect(try Self.ok(root, "dpkg-divert --list smtpd-tables").isEmpty)
    }
}
