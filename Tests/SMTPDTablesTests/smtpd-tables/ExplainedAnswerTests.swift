import Foundation
import Testing

/// `resolve` says why for every refusal, in text and in JSON (`failedNode`, `reason`, `lookups`).
@Suite("smtpd-tables resolve: explained answers")
struct ExplainedAnswerTests {
    let tool = TestSupport.product("smtpd-tables")

    /// A config with one way to fail per address (users root and daemon exist on every system).
    func setup(_ dir: String) throws -> String {
        let deep = (0..<12).map { "d\($0): d\($0 + 1)" }.joined(separator: "\n")
        try TestSupport.write("""
            root: daemon
            ghost: nosuchuser-xyz
            loopa: loopb
            loopb: loopa
            gone: error:550 gone away
            broken: "unbalanced
            \(deep)
            d12: root

            """, to: "aliases", in: dir)
        try TestSupport.write("alice@example.org daemon\nbob+box@example.org root\n", to: "vusers", in: dir)
        return try TestSupport.write("""
            table aliases file:\(dir)/aliases
            table vusers file:\(dir)/vusers
            action "local" mbox alias <aliases>
            action "virtual" mbox virtual <vusers>
            match for domain "example.org" action "virtual"
            match for domain "blocked.example" reject
            match for local action "local"

            """, to: "smtpd.conf", in: dir)
    }

    /// (address, fragment of the reason, keys tried at the failed node in order as table:key)
    static let cases: [(String, String, [String])] = [
        ("nobody+tag@example.org", "is in no entry of the virtual table",
         ["vusers:nobody+tag@example.org", "vusers:nobody@example.org", "vusers:nobody+tag", "vusers:nobody",
          "vusers:@example.org", "vusers:@"]),
        ("ghost@localhost", "user 'nosuchuser-xyz' is not in the system's passwd database", ["aliases:nosuchuser-xyz"]),
        ("nosuchuser-xyz+t@localhost", "user 'nosuchuser-xyz' is not in the system's passwd database",
         ["aliases:nosuchuser-xyz+t", "aliases:nosuchuser-xyz"]),
        ("loopa@localhost", "a loop", []),
        ("gone@localhost", "an error: entry (aliases:gone)", []),
        ("broken@localhost", "the value of aliases:broken is not a valid alias list", ["aliases:broken"]),
        ("d0@localhost", "depth limit", []),
        ("x@blocked.example", "the rule `match for domain \"blocked.example\" reject` rejects", []),
        ("x@elsewhere.example", "no match rule accepts x@elsewhere.example", []),
    ]

    @Test("every refusal has a reason, a failed node and the keys tried, in text and JSON")
    func reasons() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let conf = try setup(dir)
            let addresses = Self.cases.map(\.0)
            let flags = ["resolve", "-f", conf, "--hostname", "mail.example.org", "--smtpd-version", "7.6"]
            let json = try TestSupport.run(tool, flags + ["--json"] + addresses)
            #expect(json.status == 1)
            let items = try #require(try JSONSerialization.jsonObject(with: json.stdoutBytes) as? [[String: Any]])
            #expect(items.count == addresses.count)
            let text = try TestSupport.run(tool, flags + addresses)
            for ((address, fragment, keys), item) in zip(Self.cases, items) {
                #expect(item["accepted"] as? Bool == false, "\(address)")
                let reason = item["reason"] as? String ?? ""
                #expect(reason.contains(fragment), "\(address): \(reason)")
                let failed = try #require(item["failedNode"] as? Int, "\(address)")
                let tree = item["tree"] as? [[String: Any]] ?? []
                #expect(tree.contains { $0["id"] as? Int == failed }, "\(address)")
                let lookups = (item["lookups"] as? [[String: Any]] ?? []).map { "\($0["table"] ?? ""):\($0["key"] ?? "")" }
                if !keys.isEmpty { #expect(lookups == keys, "\(address): \(lookups)") }
                // The text says the same.
                #expect(text.stdout.contains("why: \(reason)"), "\(address)")
                if let firstKey = keys.first { #expect(text.stdout.contains("tried: \(firstKey) ("), "\(address)") }
            }
            // Accepted addresses carry no reason.
            let ok = try TestSupport.run(tool, flags + ["--json", "root@localhost", "alice@example.org"])
            let okItems = try #require(try JSONSerialization.jsonObject(with: ok.stdoutBytes) as? [[String: Any]])
            #expect(ok.status == 0 && okItems.allSatisfy { $0["reason"] is NSNull && $0["failedNode"] is NSNull })
            // Found lookups are recorded too: alice's virtual key.
            let tree = okItems[1]["tree"] as? [[String: Any]] ?? []
            let first = (tree.first?["lookups"] as? [[String: Any]])?.first
            #expect(first?["key"] as? String == "alice@example.org" && first?["result"] as? String == "found")
        }
    }
}
