import Foundation
import Testing

/// `check` reports every error the real `smtpd -n` (Debian's 6.8) reports, on the config corpus and on broken
/// variants of the bundled example, plus its own.
@Suite("check reports all that smtpd -n reports", .enabled(if: ConfigOracleTests.smtpd != nil, "needs the real smtpd, run as root"))
struct CheckVersusSMTPDTests {
    let tool = TestSupport.product("smtpd-tables")

    /// The `FILE:LINE` places of smtpd's messages, and whether it refused the config.
    static func smtpdErrors(_ conf: String) throws -> (refused: Bool, places: Set<String>, text: String) {
        let r = try TestSupport.run(ConfigOracleTests.smtpd!, ["-n", "-f", conf])
        var places: Set<String> = []
        for line in r.stderr.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            if parts.count == 3, Int(parts[1]) != nil, parts[0].hasPrefix("/") { places.insert("\(parts[0]):\(parts[1])") }
        }
        return (r.status != 0, places, r.stderr)
    }

    /// The `FILE:LINE` places of check's errors (stderr when the config cannot be read, error findings otherwise).
    func checkErrors(_ conf: String) throws -> (refused: Bool, places: Set<String>, text: String) {
        let r = try TestSupport.run(tool, ["check", "--smtpd-version", "6.8", "-f", conf])
        var places: Set<String> = []
        for line in (r.stderr + r.stdout).split(separator: "\n") {
            var text = Substring(line)
            if text.hasPrefix("smtpd-tables: ") { text = text.dropFirst("smtpd-tables: ".count) }
            else if !text.contains(": error: ") { continue }
            let parts = text.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            if parts.count == 3, Int(parts[1]) != nil { places.insert("\(parts[0]):\(parts[1])") }
        }
        return (r.status != 0, places, r.stderr + r.stdout)
    }

    func compare(_ conf: String, _ what: String) throws {
        let smtpd = try Self.smtpdErrors(conf)
        let ours = try checkErrors(conf)
        if smtpd.refused {
            #expect(ours.refused, "\(what): smtpd refused it, check did not:\n\(smtpd.text)\n\(ours.text)")
        }
        #expect(smtpd.places.isSubset(of: ours.places),
                "\(what): smtpd reports \(smtpd.places.subtracting(ours.places).sorted()) that check does not:\n\(smtpd.text)\n\(ours.text)")
    }

    @Test("the config corpus", arguments: ConfigCorpus.cases)
    func corpus(_ c: ConfigCase) throws {
        try TestSupport.withTemporaryDirectory { dir in
            try compare(try ConfigOracleTests.materialize(c, in: dir), c.name)
        }
    }

    @Test("every line of the example broken, alone and in pairs; missing pki files; an unknown interface")
    func brokenExamples() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let conf = try ExampleSetup.make(in: dir, withCertificate: true)
            let text = try String(contentsOfFile: conf, encoding: .utf8)
            #expect(try Self.smtpdErrors(conf).refused == false)
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            let directives = lines.indices.filter { !lines[$0].hasPrefix("#") && !lines[$0].isEmpty }
            func variant(_ broken: [Int], _ name: String) throws {
                var l = lines
                for i in broken { l[i] += " bogus-word" }
                let path = try TestSupport.write(l.joined(separator: "\n"), to: "variant.conf", in: dir)
                try compare(path, name)
            }
            for i in directives { try variant([i], "line \(i + 1) broken") }
            for (a, b) in zip(directives, directives.dropFirst(3)) { try variant([a, b], "lines \(a + 1) and \(b + 1) broken") }
            // Errors smtpd finds only when it loads what the config names.
            let interface = try TestSupport.write(text.replacingOccurrences(of: "listen on lo\n", with: "listen on lo0\n"),
                                                  to: "interface.conf", in: dir)
            try compare(interface, "unknown interface")
            #expect(try checkErrors(interface).text.contains("[listen-interface]"))
            try FileManager.default.removeItem(atPath: dir + "/mail.example.org.crt")
            try compare(conf, "certificate missing")
            #expect(try checkErrors(conf).text.contains("[pki-file]"))
        }
    }
}
