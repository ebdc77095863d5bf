import Foundation
@testable import SMTPDTables

/// One real Dovecot release the tests can run: the machine's own (Debian 12's 2.3) or the one in the trixie root
/// (Debian 13's 2.4), through `.ci/in-root` like the smtpd releases (DebianRelease).
struct DovecotRelease: Sendable, CustomStringConvertible {
    /// "bookworm" for the machine, else the root's suite.
    var suite: String
    /// The root's folder, or nil for the machine.
    var root: String?
    /// The release line, 2.3 or 2.4.
    var version: DovecotVersion
    /// What `dovecot --version` printed, for messages.
    var release: String

    var description: String { "dovecot \(release) (\(root == nil ? "this machine" : suite))" }

    /// The releases present here, oldest first. Needs root (chroot, mounts) and unshare.
    static let available: [DovecotRelease] = {
        guard DebianRelease.canRunInRoots else { return [] }
        var found: [DovecotRelease] = []
        if let dovecot = TestSupport.system("dovecot"), TestSupport.system("doveadm") != nil,
           let (v, text) = version(of: [dovecot, "--version"]) {
            found.append(DovecotRelease(suite: "bookworm", root: nil, version: v, release: text))
        }
        if let dir = DebianRelease.rootDirectory("trixie"),
           FileManager.default.isExecutableFile(atPath: dir + "/usr/sbin/dovecot"),
           let (v, text) = version(of: ["/usr/sbin/chroot", dir, "/usr/sbin/dovecot", "--version"]) {
            found.append(DovecotRelease(suite: "trixie", root: dir, version: v, release: text))
        }
        return found
    }()

    static func named(_ suite: String) -> DovecotRelease? { available.first { $0.suite == suite } }

    private static func version(of command: [String]) -> (DovecotVersion, String)? {
        guard let r = try? TestSupport.run(command[0], Array(command.dropFirst()), timeout: 20), r.status == 0 else {
            return nil
        }
        let text = r.stdout.split(separator: "\n").first.map(String.init) ?? ""
        return DovecotVersion(text).map { ($0, text) }
    }

    /// Runs `command` to completion in this release, `scratch` seen at the same path.
    @discardableResult
    func run(_ command: [String], scratch: String, timeout: Double = 60) throws -> ProcessResult {
        let args = ["/bin/bash", DebianRelease.inRootScript, root ?? "/", scratch] + command
        return try TestSupport.run(args[0], Array(args.dropFirst()), timeout: timeout)
    }

    /// A scratch folder under /tmp, seen at the same path inside the root, removed afterwards.
    func withScratch<T>(_ body: (String) throws -> T) throws -> T {
        try DebianRelease.withScratch(named: "dovecot", in: root, body)
    }

    /// The configuration of a private instance in `scratch`: sockets, state and log there, no protocols (only
    /// the auth service, which `doveadm auth test` talks to), no failure delay, and one passwd-file passdb in
    /// this release's syntax, with `scheme` as its default scheme (nil: none named, the release's default).
    func privateConfig(passwdFile: String, scheme: String?, scratch: String) -> String {
        let common = """
            base_dir = \(scratch)/run
            state_dir = \(scratch)/state
            log_path = \(scratch)/dovecot.log
            protocols =
            auth_failure_delay = 0

            """
        switch version {
        case .v2_3:
            return common + """
                passdb {
                  driver = passwd-file
                  args = \(scheme.map { "scheme=\($0) " } ?? "")\(passwdFile)
                }

                """
        case .v2_4:
            return "dovecot_config_version = 2.4.1\ndovecot_storage_version = 2.4.1\n" + common + """
                passdb passwd-file {
                  passwd_file_path = \(passwdFile)
                \(scheme.map { "  default_password_scheme = \($0)\n" } ?? "")}

                """
        }
    }

    /// Starts a private instance with `conf`, runs `doveadm auth test USER PASSWORD` for each login and stops it,
    /// all in one run of `.ci/in-root` (one mount namespace). Returns each login's exit status and the log.
    ///
    /// The daemon forks away from `dovecot -c`: it must not inherit our pipes, or reading them to the end would
    /// wait for it, so every Dovecot program here has its standard streams on /dev/null. Each login comes from
    /// its own remote address (`-x rip=`): Dovecot's auth penalty delays the failures from one address, up to
    /// 15 seconds each after a few.
    func authTest(conf: String, logins: [(user: String, password: String)], scratch: String) throws
        -> (statuses: [Int32], log: String)
    {
        for sub in ["run", "state"] {
            try FileManager.default.createDirectory(atPath: scratch + "/" + sub, withIntermediateDirectories: true)
        }
        func quoted(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        var script = """
            c=\(quoted(conf))
            dovecot -c "$c" </dev/null >/dev/null 2>&1 || { echo "dovecot did not start: $?" >&2; exit 3; }
            trap 'doveadm -c "$c" stop </dev/null >/dev/null 2>&1' EXIT
            t() { doveadm -c "$c" auth test -x "rip=$3" "$1" "$2" </dev/null >/dev/null 2>&1; echo "$4 $?"; }

            """
        // In `lanes` concurrent runs of doveadm, each line "INDEX STATUS". Many lanes, because the auth process
        // answers a failure only when its failure timer next fires (every half second, whatever
        // auth_failure_delay says): concurrent failures share one wait instead of each paying it.
        let lanes = 40
        for lane in 0..<lanes {
            script += "(\n"
            for (i, login) in logins.enumerated() where i % lanes == lane {
                let a = i + 1
                script += "t \(quoted(login.user)) \(quoted(login.password)) 10.\((a >> 16) & 255).\((a >> 8) & 255).\(a & 255) \(i)\n"
            }
            script += ") &\n"
        }
        script += "wait\n"
        let path = try TestSupport.write(script, to: "auth-test.sh", in: scratch)
        let r = try run(["/bin/sh", path], scratch: scratch, timeout: 240)
        let log = (try? String(contentsOfFile: scratch + "/dovecot.log", encoding: .utf8)) ?? ""
        var answers: [Int: Int32] = [:]
        for line in r.stdout.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, let i = Int(parts[0]), let status = Int32(parts[1]) { answers[i] = status }
        }
        let statuses = (0..<logins.count).compactMap { answers[$0] }
        guard statuses.count == logins.count, !r.timedOut else {
            throw DaemonFailure("\(self): \(statuses.count) of \(logins.count) answers (status \(r.status)) "
                + "\(r.stderr)\n\(log.suffix(3000))")
        }
        return (statuses, log)
    }

    /// `doveconf -c CONF -n`: the settings that differ from the defaults, as this release reads `conf`.
    func doveconf(_ conf: String, scratch: String) throws -> ProcessResult {
        try run(["/usr/bin/doveconf", "-c", conf, "-n"], scratch: scratch)
    }
}
