import Testing
@testable import SMTPDTables

/// The pattern services: domain (util.c `hostname_match`), mailaddr (`mailaddr_match`), netaddr
/// (table.c `table_netaddr_match`, to.c `text_to_netaddr`) and regex (`table_regex_match`).
@Suite("Foundation: pattern services")
struct PatternServiceTests {
    private func matched(_ table: Table, _ key: String, _ service: TableService) throws -> String? {
        let indexed = try table.lookup(key, service: service)
        // Every answer here is also checked against the reference walk.
        #expect(indexed?.keyBytes == table.scanReference(Array(key.utf8), service: service)?.keyBytes, "\(key)")
        return indexed?.key
    }

    private func list(_ lines: String...) throws -> Table {
        try Fixture.table((["# @list"] + lines).joined(separator: "\n") + "\n")
    }

    @Test func domainStarQuirks() throws {
        let t = try list("*.example.org")
        #expect(try matched(t, "a.example.org", .domain) == "*.example.org")
        #expect(try matched(t, "A.Example.ORG", .domain) == "*.example.org")
        #expect(try matched(t, "a.b.example.org", .domain) == nil)      // no backtracking
        #expect(try matched(t, "example.org", .domain) == nil)
        #expect(try matched(t, ".example.org", .domain) == "*.example.org")
        #expect(try matched(t, "a.example.org.evil", .domain) == nil)

        let all = try list("*")
        #expect(try matched(all, "anything.at.all", .domain) == "*")
        #expect(try matched(all, "x", .domain) == "*")
        #expect(try matched(all, "", .domain) == nil)

        let prefix = try list("foo*")
        #expect(try matched(prefix, "foox", .domain) == "foo*")
        #expect(try matched(prefix, "FOO.bar.baz", .domain) == "foo*")
        #expect(try matched(prefix, "foo", .domain) == nil)
        #expect(try matched(prefix, "xfoo", .domain) == nil)

        // '*' skips to the FIRST occurrence of the next pattern byte.
        let noDot = try list("*example.org")
        #expect(try matched(noDot, "myexample.org", .domain) == "*example.org")
        #expect(try matched(noDot, "example.org", .domain) == "*example.org")
        #expect(try matched(noDot, "eexample.org", .domain) == nil)
        let middle = try list("a*b.org")
        #expect(try matched(middle, "axxb.org", .domain) == "a*b.org")
        #expect(try matched(middle, "axbxb.org", .domain) == nil)

        // Plain entries compare whole, without case; several matches give the smallest key.
        let mixed = try list("Example.ORG", "*.org", "*")
        #expect(try matched(mixed, "EXAMPLE.org", .domain) == "*")
        #expect(try matched(try list("Example.ORG", "x.org"), "EXAMPLE.org", .domain) == "example.org")
        #expect(try matched(try list("example.org"), "www.example.org", .domain) == nil)
        #expect(try Fixture.table("*.org: v\n").value(for: "a.org", service: .domain) == .domain("*.org"))
    }

    @Test func mailaddrShapes() throws {
        let t = try list("alice", "@example.org", "bob@example.com", "carol+news@example.com", "@*.example.net")
        #expect(try matched(t, "alice", .mailaddr) == "alice")
        #expect(try matched(t, "Alice@anywhere.test", .mailaddr) == "alice")
        #expect(try matched(t, "alice+tag@x.test", .mailaddr) == "alice")
        #expect(try matched(t, "alice2@x.test", .mailaddr) == nil)
        #expect(try matched(t, "anyone@example.org", .mailaddr) == "@example.org")
        #expect(try matched(t, "@example.org", .mailaddr) == "@example.org")
        #expect(try matched(t, "anyone@sub.example.org", .mailaddr) == nil)
        #expect(try matched(t, "x@a.example.net", .mailaddr) == "@*.example.net")
        #expect(try matched(t, "x@a.b.example.net", .mailaddr) == nil)
        #expect(try matched(t, "bob@example.com", .mailaddr) == "bob@example.com")
        #expect(try matched(t, "BOB+list@EXAMPLE.COM", .mailaddr) == "bob@example.com")
        #expect(try matched(t, "bob@example.org", .mailaddr) == "@example.org")
        #expect(try matched(t, "bob@example.net", .mailaddr) == nil)
        // An entry with a tag is matched whole.
        #expect(try matched(t, "carol+news@example.com", .mailaddr) == "carol+news@example.com")
        #expect(try matched(t, "carol@example.com", .mailaddr) == nil)
        #expect(try matched(t, "carol+other@example.com", .mailaddr) == nil)
        // '@' matches everything, the bare user form included.
        let all = try list("@", "zed")
        #expect(try matched(all, "zed", .mailaddr) == "@")
        #expect(try matched(all, "who@where", .mailaddr) == "@")
        #expect(try Fixture.table("bob@example.com: v\n").value(for: "bob+x@example.com", service: .mailaddr)
                == .mailaddr(MailAddress(user: "bob", domain: "example.com")))
    }

    @Test func mailaddrCustomDelimiter() throws {
        let t = try Fixture.table("# @list\ncarol@d.test\ndan-x@d.test\n", delimiter: "-")
        #expect(try matched(t, "carol-list@d.test", .mailaddr) == "carol@d.test")
        #expect(try matched(t, "carol+list@d.test", .mailaddr) == nil)
        #expect(try matched(t, "dan-x@d.test", .mailaddr) == "dan-x@d.test")
        #expect(try matched(t, "dan@d.test", .mailaddr) == nil)
    }

    @Test func mailAddressParsing() {
        #expect(MailAddress("a@b@c") == MailAddress(user: "a@b", domain: "c"))
        #expect(MailAddress("@") == MailAddress(user: "", domain: ""))
        #expect(MailAddress("user") == MailAddress(user: "user", domain: ""))
        #expect(MailAddress(String(repeating: "u", count: 255) + "@d") != nil)
        #expect(MailAddress(String(repeating: "u", count: 256) + "@d") == nil)
        #expect(MailAddress("u@" + String(repeating: "d", count: 256)) == nil)
    }

    @Test func netaddrIPv4ClassfulAndPrefixes() throws {
        // Expected networks checked with glibc's inet_net_pton (libresolv), which smtpd calls.
        let forms: [(String, [UInt8], Int)] = [
            ("10", [10, 0, 0, 0], 8), ("10.1", [10, 1, 0, 0], 16), ("10.1.2", [10, 1, 2, 0], 24),
            ("10.1.2.3", [10, 1, 2, 3], 32), ("192.168", [192, 168, 0, 0], 24), ("224", [224, 0, 0, 0], 4),
            ("128", [128, 0, 0, 0], 16), ("172.16/12", [172, 16, 0, 0], 12), ("10.1.2.3/8", [10, 1, 2, 3], 8),
            ("0x0a", [10, 0, 0, 0], 8), ("1.2.3.4/0", [1, 2, 3, 4], 0), ("IPv6:10.1", [10, 1, 0, 0], 16),
        ]
        for (text, bytes, bits) in forms {
            let n = NetworkAddress(text)
            #expect(n?.family == .inet, "\(text)")
            #expect(n?.bytes == bytes, "\(text)")
            #expect(n?.prefixLength == bits, "\(text)")
        }
        for bad in ["10.", "300", "10.1.2.3.4", "10.0.0.0/33", "", "10.1.2.3/x"] {
            #expect(NetworkAddress(bad) == nil, "\(bad)")
        }
        let t = try list("10.1", "192.168", "172.16/12", "127.0.0.1")
        #expect(try matched(t, "10.1.200.3", .netaddr) == "10.1")
        #expect(try matched(t, "10.2.0.1", .netaddr) == nil)
        #expect(try matched(t, "192.168.0.5", .netaddr) == "192.168")
        #expect(try matched(t, "192.168.1.5", .netaddr) == nil)        // class C: /24
        #expect(try matched(t, "172.31.255.255", .netaddr) == "172.16/12")
        #expect(try matched(t, "172.32.0.0", .netaddr) == nil)
        #expect(try matched(t, "127.0.0.1", .netaddr) == "127.0.0.1")
        #expect(try matched(t, "127.0.0.2", .netaddr) == nil)
        #expect(try matched(t, "IPv6:10.1.0.9", .netaddr) == "10.1")
        // The query's own prefix is ignored: its address counts.
        #expect(try matched(t, "10.1.0.0/8", .netaddr) == "10.1")
        #expect(try Fixture.table("# @list\n10.1\n").value(for: "10.1.9.9", service: .netaddr)
                == .netaddr(NetworkAddress("10.1.0.0/16")!))
    }

    @Test func netaddrIPv6() throws {
        let t = try list("[2001:db8::/32]", "IPv6:fe80::/10", "2001:db8:1::1", "[IPv6:::1]")
        #expect(try matched(t, "2001:db8:ffff::1", .netaddr) == "[2001:db8::/32]")
        #expect(try matched(t, "[2001:db8::5]", .netaddr) == "[2001:db8::/32]")
        #expect(try matched(t, "IPv6:2001:DB8::5", .netaddr) == "[2001:db8::/32]")
        #expect(try matched(t, "[IPv6:2001:db8::5]", .netaddr) == "[2001:db8::/32]")
        #expect(try matched(t, "2001:db9::1", .netaddr) == nil)
        #expect(try matched(t, "febf::1", .netaddr) == "ipv6:fe80::/10")
        #expect(try matched(t, "fec0::1", .netaddr) == nil)
        #expect(try matched(t, "::1", .netaddr) == "[ipv6:::1]")
        #expect(try matched(t, "::2", .netaddr) == nil)
        let n = NetworkAddress("[IPv6:2001:db8::/48]")
        #expect(n?.family == .inet6 && n?.prefixLength == 48)
        #expect(NetworkAddress("2001:db8::1")?.prefixLength == 128)
        #expect(NetworkAddress("2001:db8::/129") == nil)
        #expect(NetworkAddress("[2001:db8::1") == nil)
        // Mapping form: an IPv6 key must be bracketed (the key otherwise ends at the first ':').
        let m = try Fixture.table("[::1]: loopback\n10/8: ten\n")
        #expect(try matched(m, "::1", .netaddr) == "[::1]")
        #expect(try matched(m, "10.9.9.9", .netaddr) == "10/8")
    }

    @Test func netaddrFamilyAndText() throws {
        let t = try list("::/0", "localhost", "10.0.0.0/33")
        #expect(try matched(t, "10.0.0.1", .netaddr) == nil)                   // IPv4 never in an IPv6 net
        #expect(try matched(t, "::ffff:10.0.0.1", .netaddr) == "::/0")
        #expect(try matched(try list("0.0.0.0/0"), "::1", .netaddr) == nil)
        #expect(try matched(try list("0.0.0.0/0"), "8.8.8.8", .netaddr) == "0.0.0.0/0")
        #expect(try matched(t, "LocalHost", .netaddr) == "localhost")         // equal text, any case
        #expect(try matched(t, "10.0.0.0/33", .netaddr) == "10.0.0.0/33")     // equal text, unparsable
        #expect(try matched(t, "not-an-address", .netaddr) == nil)
    }

    @Test func regexPatterns() throws {
        let t = try list("^[a-z]+@example\\.org$", "(?i)^admin@", "a(b", "^x{2}$")
        #expect(try matched(t, "alice@example.org", .regex) == "^[a-z]+@example\\.org$")
        #expect(try matched(t, "al1ce@example.org", .regex) == nil)
        // Patterns and keys are folded: [A-Z] is stored as [a-z] and still matches an upper-case query.
        #expect(try matched(try list("^[A-Z]+$"), "ABC", .regex) == "^[a-z]+$")
        #expect(try matched(t, "ADMIN@host", .regex) == "(?i)^admin@")
        #expect(try matched(t, "xx", .regex) == "^x{2}$")
        #expect(try matched(t, "xxx", .regex) == nil)
        // An invalid pattern never matches, and does not spoil the others.
        #expect(try matched(t, "a(b", .regex) == nil)
        #expect(RegexPattern(pattern: Array("a(b".utf8)).isValid == false)
        #expect(RegexPattern(pattern: Array("(?i)a".utf8)).matches(Array("A".utf8)[...]))
        #expect(!RegexPattern(pattern: Array("a".utf8)).matches(Array("A".utf8)[...]))
        #expect(try Fixture.table("^a: v\n").value(for: "abc", service: .regex) == .regex("^a"))
    }
}
