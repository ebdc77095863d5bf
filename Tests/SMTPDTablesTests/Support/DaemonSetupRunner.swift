import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// How a daemon test's smtpd.conf names the tables of a generated setup.
enum DaemonTableKind: String, Sendable, CustomStringConvertible {
    /// `file:PATH`.
    case file
    /// `db:PATH.db`, built by the release's own makemap.
    case db
    /// `idx:PATH`: our table-idx serves the text over the proc: protocol.
    case idx
    /// `idx:PATH.db`: our table-idx serves the db the release's makemap built.
    case idxDB = "idx-db"

    var description: String { rawValue }
    var needsMakemap: Bool { self == .db || self == .idxDB }
    var needsHelpers: Bool { self == .idx || self == .idxDB }
}

/// The proc: helpers smtpd 7.6+ runs (`table-idx`, `table-passwd`): the static release build `make` leaves in
/// .build-release (the Swift runtime linked in, so they run inside a Debian root). The tests do not build them:
/// `.ci/run` does (`make deb`) before the tests.
enum ProcHelpers {
    static let names = ["table-idx", "table-passwd"]

    /// The roots whose smtpd runs them: the text proc: protocol, 7.6 and later.
    static let releases = DebianRelease.available.filter { $0.version.has(.procTextProtocol) }.map(\.suite)
    static let buildDirectory = InstallSupport.file(".build-release/release")

    static var available: Bool {
        names.allSatisfy { FileManager.default.isExecutableFile(atPath: buildDirectory + "/" + $0) }
    }

    /// Copies the helpers into `scratch/libexec` and returns that folder, for `SMTPDaemon(libexec:)`.
    static func stage(in scratch: String) throws -> String {
        let dir = scratch + "/libexec"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        chmod(dir, 0o755)
        for name in names where !FileManager.default.fileExists(atPath: dir + "/" + name) {
            try FileManager.default.copyItem(atPath: buildDirectory + "/" + name, toPath: dir + "/" + name)
            chmod(dir + "/" + name, 0o755)
        }
        return dir
    }
}

/// A generated setup written into a folder, ready for a daemon: the tables, the userbase, `.forward` homes, and
/// deliver.sh (the mda and every alias filter), which logs each delivery under the recipient's number.
struct PreparedSetup {
    var setup: DaemonCaseGenerator.Setup
    var dir: String
    var conf: String
    var port: UInt16
    /// deliver.sh's log: `N user:NAME` or `N filter:ARGS`, one line a delivery.
    var log: String
    var kind: DaemonTableKind

    static let tables = ["aliases", "vusers", "vdomains", "userinfo"]

    /// Writes `setup` into `dir` with its tables named as `kind` says (for the db kinds, built by `release`'s
    /// makemap) and the smtpd.conf of the differential tests.
    init(_ setup: DaemonCaseGenerator.Setup, release: DebianRelease, kind: DaemonTableKind, dir: String) throws {
        self.setup = setup
        self.dir = dir
        self.kind = kind
        let fm = FileManager.default
        try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
        chmod(dir, 0o755)
        func uid(_ user: String) -> uid_t { setup.uids[user] ?? 1234 }
        for (name, text) in setup.files {
            let path = try TestSupport.write(text.replacingOccurrences(of: "@S@", with: dir), to: name, in: dir)
            chmod(path, 0o644)
        }
        var userinfo = ""
        for u in DaemonCaseGenerator.users + setup.extraUsers where setup.forwards[u] == nil {
            userinfo += "\(u) \(uid(u)):\(uid(u)):\(dir)/home\n"
        }
        try fm.createDirectory(atPath: dir + "/home", withIntermediateDirectories: true)
        chown(dir + "/home", 1234, 1234)
        for (u, text) in setup.forwards {
            let home = dir + "/h" + u
            try fm.createDirectory(atPath: home, withIntermediateDirectories: true)
            let path = try TestSupport.write(text.replacingOccurrences(of: "@S@", with: dir), to: ".forward", in: home)
            chown(path, uid(u), uid(u))
            chown(home, uid(u), uid(u))
            chmod(home, 0o755)
            userinfo += "\(u) \(uid(u)):\(uid(u)):\(home)\n"
        }
        chmod(try TestSupport.write(userinfo, to: "userinfo", in: dir), 0o644)
        log = try TestSupport.write("", to: "log", in: dir)
        chmod(log, 0o666)
        // One program is the mda (`-u` and the userbase's user: a user delivery; not $USER, which 6.8 sets to
        // an action's `user`) and every alias filter (with other arguments).
        let deliver = try TestSupport.write("""
            #!/bin/sh
            n=$(sed -n 's/^Subject: rcpt //p' | head -n 1)
            if [ "$1" = "-u" ]; then k="user:$2"; else k="filter:$*"; fi
            echo "$n $k" >> \(log)
            """, to: "deliver.sh", in: dir)
        chmod(deliver, 0o755)

        var lines: [String] = []
        for t in Self.tables {
            if kind.needsMakemap {
                let set = t == "vdomains" ? ["-t", "set"] : []
                let r = try release.makemap(set + [t], in: dir, scratch: dir)
                guard r.status == 0 else { throw DaemonFailure("\(release) makemap \(t): \(r.stderr)") }
            }
            switch kind {
            case .file: lines.append("table \(t) file:\(dir)/\(t)")
            case .db: lines.append("table \(t) db:\(dir)/\(t).db")
            case .idx: lines.append("table \(t) idx:\(dir)/\(t)")
            case .idxDB: lines.append("table \(t) idx:\(dir)/\(t).db")
            }
        }
        port = SMTPDaemon.freePort()
        conf = try TestSupport.write((lines + setup.settings).joined(separator: "\n") + """

            listen on 127.0.0.1 port \(port)
            action "local" mda "\(deliver) -u %{user.username}" alias <aliases> userbase <userinfo>\(setup.localActionOptions)
            action "virtual" mda "\(deliver) -u %{user.username}" virtual <vusers> userbase <userinfo>
            action "out" relay
            match from any for domain <vdomains> action "virtual"
            match for local action "local"
            match from any for domain "relay.test" action "out"

            """, to: "smtpd.conf", in: dir)
    }

    /// Starts `release`'s smtpd on this setup (the idx kinds with our proc: helpers), sends every
    /// recipient in a transaction of its own (a message, numbered in its subject, for each one accepted), and
    /// collects the replies and the deliveries, waiting for `expectedDeliveries` of them at most a few seconds.
    func observe(_ release: DebianRelease, expectedDeliveries: Int) throws -> DaemonObservation {
        let libexec = kind.needsHelpers ? try ProcHelpers.stage(in: dir) : nil
        let daemon = try SMTPDaemon(release, conf: conf, port: port, scratch: dir, libexec: libexec)
        defer { daemon.stop() }
        let smtp = try daemon.connect()
        var replies: [String] = []
        for (n, rcpt) in setup.recipients.enumerated() {
            guard smtp.command("MAIL FROM:<\(setup.mailFrom)>").hasPrefix("250") else {
                throw DaemonFailure("MAIL FROM refused\n\(daemon.log.suffix(3000))")
            }
            let reply = smtp.command("RCPT TO:<\(rcpt)>")
            replies.append(reply)
            if reply.hasPrefix("250") {
                guard smtp.command("DATA").hasPrefix("354"),
                      smtp.command("Subject: rcpt \(n)\r\n\r\nhello\r\n.").hasPrefix("250") else {
                    throw DaemonFailure("\(rcpt): message refused\n\(daemon.log.suffix(3000))")
                }
            } else {
                _ = smtp.command("RSET")
            }
        }
        _ = smtp.command("QUIT")
        var got: [Int: [String]] = [:]
        var count = 0
        for line in SMTPDaemon.lines(of: log, atLeast: expectedDeliveries) {
            let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
            got[Int(parts[0]) ?? -1, default: []].append(parts.count > 1 ? parts[1] : "")
            count += 1
        }
        return DaemonObservation(replies: replies, deliveries: got.mapValues { $0.sorted() }, deliveryCount: count,
                                 daemonLog: daemon.log)
    }

    /// The generated files, for reading a failure.
    var filesReport: [String] {
        (setup.files.sorted(by: { $0.key < $1.key }) + setup.forwards.map({ ("~\($0.key)/.forward", $0.value) }))
            .map { "  \($0.0): " + $0.1.replacingOccurrences(of: "\n", with: "\\n") }
    }
}

/// What one daemon made of a setup's recipients.
struct DaemonObservation {
    /// The reply to each RCPT, in the setup's order.
    var replies: [String]
    /// Recipient number -> what deliver.sh logged for it, sorted.
    var deliveries: [Int: [String]]
    var deliveryCount: Int
    var daemonLog: String

    /// Every recipient whose reply or deliveries differ between the two daemons (`self` named `a`, `other` `b`).
    func differences(from other: DaemonObservation, recipients: [String], a: String, b: String) -> [String] {
        var out: [String] = []
        for (n, rcpt) in recipients.enumerated() {
            let x = replies.indices.contains(n) ? replies[n] : "(none)"
            let y = other.replies.indices.contains(n) ? other.replies[n] : "(none)"
            if x != y { out.append("\(rcpt): \(a) \(x), \(b) \(y)") }
        }
        for n in Set(deliveries.keys).union(other.deliveries.keys).sorted() {
            let x = deliveries[n] ?? [], y = other.deliveries[n] ?? []
            let rcpt = recipients.indices.contains(n) ? recipients[n] : "?"
            if x != y { out.append("\(rcpt): \(a) delivered \(x), \(b) \(y)") }
        }
        return out
    }
}
