import Foundation
import Testing
@testable import SMTPDTables

/// `check` judges alias entries with the verdicts of the entries they lead to (`ExpansionMemo`), so that a
/// fan-out alias table costs its size, not the product of its fan-outs. The findings must be exactly those of
/// resolving every entry in full: generated alias graphs with chains, loops, deep chains, unknown users,
/// `error:` entries, tags, files and pipes, checked both ways.
@Suite("Check: fan-out aliases judged with memoised verdicts")
struct FanOutCheckTests {
    static func graph(seed: UInt64, aliases: Int) -> String {
        var g = SeededGenerator(seed: seed)
        var text = ""
        for i in 0..<aliases {
            var targets: [String] = []
            for _ in 0..<Int.random(in: 1...6, using: &g) {
                switch Int.random(in: 0..<40, using: &g) {
                case 0..<8: targets.append("a\(Int.random(in: 0..<aliases, using: &g))")          // loops possible
                case 8..<12, 20..<30: targets.append("a\(Int.random(in: min(i + 1, aliases - 1)..<aliases, using: &g))")
                case 12..<16: targets.append("user\(Int.random(in: 0..<5, using: &g))")
                case 16: targets.append("nobody\(Int.random(in: 0..<3, using: &g))")             // unknown user
                case 17: targets.append("user\(Int.random(in: 0..<5, using: &g))+tag")
                case 18: targets.append("\"|/bin/true\"")
                case 19: targets.append("error:550 gone")
                default: targets.append(Int.random(in: 0..<2, using: &g) == 0 ? "/var/mail/box\(i)" : "user\(i % 5)")
                }
            }
            text += "a\(i): \(targets.joined(separator: ", "))\n"
        }
        // A deep chain, so that some entries hit smtpd's depth limit only through others.
        for d in 0..<14 { text += "deep\(d): \(d == 13 ? "user0" : "deep\(d + 1)"), a\(d % aliases)\n" }
        return text
    }

    @Test(arguments: 0..<12)
    func findingsEqualFullResolution(seed: Int) throws {
        try TestSupport.withTemporaryDirectory { dir in
            try TestSupport.write(Self.graph(seed: UInt64(seed) + 1, aliases: 40), to: "aliases", in: dir)
            try TestSupport.write((0..<5).map { "user\($0) 1000:1000:/nonexistent/u\($0)" }.joined(separator: "\n") + "\n",
                                  to: "users", in: dir)
            let conf = try TestSupport.write("""
                table aliases file:\(dir)/aliases
                table users file:\(dir)/users
                action "local" mbox alias <aliases> userbase <users>
                match for local action "local"
                """, to: "smtpd.conf", in: dir)
            let config = try SMTPDConfig.load(path: conf)
            let options = Resolver.Options(hostname: "mx.example.org", homeRoot: dir + "/homes")
            let checker = SetupChecker(config: config, resolverOptions: options)
            let memo = ExpansionMemo()
            let a = checker.run(memo: memo), b = checker.run(memo: nil)
            #expect(a == b, "seed \(seed): \(Set(a.map(\.description)).symmetricDifference(b.map(\.description)))")
            #expect(b.contains { $0.code == "unresolvable-target" || $0.code == "expansion-loop" })
            #expect(memo.hits > 0, "seed \(seed): the memo was never used")
        }
    }
}
