import Foundation
import Testing
@testable import SMTPDTables

/// Every configuration of `ConfigCorpus` is read by us and by the real `smtpd -n -f` (Debian's 6.8): both must
/// accept it or both refuse it, refusing it at the same line, and the verdict must be the one the corpus expects.
@Suite("smtpd.conf against smtpd -n")
struct ConfigOracleTests {
    struct Verdict {
        var valid: Bool
        var file: String?
        var line: Int?
        var message: String
    }

    /// Writes the case into a fresh directory and returns the configuration's path.
    static func materialize(_ c: ConfigCase, in dir: String) throws -> String {
        for (name, text) in ConfigCorpus.tableFiles {
            try TestSupport.write(text, to: name, in: dir)
        }
        for (name, text) in c.files {
            try TestSupport.write(text.replacingOccurrences(of: "@D@", with: dir), to: name, in: dir)
        }
        return try TestSupport.write(c.text.replacingOccurrences(of: "@D@", with: dir) + "\n", to: "smtpd.conf", in: dir)
    }

    /// What smtpd says: "configuration OK", or the first `FILE:LINE: message`.
    static func smtpdVerdict(_ smtpd: String, conf: String) throws -> Verdict {
        let r = try TestSupport.run(smtpd, ["-n", "-f", conf])
        return verdict(status: r.status, stderr: r.stderr)
    }

    /// The verdict in an `smtpd -n` run's exit status and messages.
    static func verdict(status: Int32, stderr: String) -> Verdict {
        if status == 0 { return Verdict(valid: true, message: stderr) }
        for line in stderr.split(separator: "\n") {
            // "PATH:LINE: message"
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            if parts.count == 3, let n = Int(parts[1]), parts[0].hasPrefix("/") {
                return Verdict(valid: false, file: String(parts[0]), line: n, message: String(line))
            }
        }
        return Verdict(valid: false, message: stderr)
    }

    static func ourVerdict(conf: String, version: SMTPDVersion = .oldest) -> Verdict {
        do {
            _ = try SMTPDConfig.load(path: conf, options: .init(checkTableFiles: true, smtpdVersion: version))
            return Verdict(valid: true, message: "")
        } catch {
            return Verdict(valid: false, file: error.path, line: error.line, message: error.description)
        }
    }

    static var smtpd: String? {
        guard let p = TestSupport.system("smtpd"), getuid() == 0 else { return nil }
        return p
    }

    @Test("agrees with smtpd -n", .enabled(if: smtpd != nil, "needs the real smtpd, run as root"),
          arguments: ConfigCorpus.cases)
    func agrees(_ c: ConfigCase) throws {
        let smtpd = try #require(Self.smtpd)
        try TestSupport.withTemporaryDirectory { dir in
            let conf = try Self.materialize(c, in: dir)
            let theirs = try Self.smtpdVerdict(smtpd, conf: conf)
            let ours = Self.ourVerdict(conf: conf)
            #expect(theirs.valid == c.valid, "smtpd: \(theirs.message)")
            #expect(ours.valid == theirs.valid, "smtpd: \(theirs.message) / ours: \(ours.message)")
            if !c.valid {
                #expect(theirs.line == c.line, "smtpd: \(theirs.message)")
                if let line = theirs.line {
                    #expect(ours.line == line, "smtpd: \(theirs.message) / ours: \(ours.message)")
                    #expect(ours.file == theirs.file, "smtpd: \(theirs.message) / ours: \(ours.message)")
                }
            }
        }
    }
}
