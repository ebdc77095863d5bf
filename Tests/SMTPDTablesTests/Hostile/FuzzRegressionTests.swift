import Foundation
import Testing
@testable import SMTPDTables

/// Inputs the fuzz targets (Fuzz/) found, kept small, each with the bug it showed.
@Suite("fuzz findings")
struct FuzzRegressionTests {
    /// FuzzMatchers: query bytes 06 00 00 00 against the table `*`. A trailing `*` made hostnameMatches scan
    /// for a 0 byte (C's end of string), so it stopped at the NUL inside the query and said no, while the
    /// domain index said yes. A trailing star now takes the rest of the host, as it does in C.
    @Test("domain '*' matches a host with a NUL byte, the index and the walk agree")
    func trailingStarWithNul() throws {
        let table = try Table(contents: Array("*\n".utf8))
        let query: [UInt8] = [0x06, 0x00, 0x00, 0x00]
        #expect(try table.lookup(bytes: query, service: .domain)?.key == "*")
        #expect(table.scanReference(query, service: .domain)?.key == "*")
        for (host, pattern, expected) in [("a\u{0}b", "a*", true), ("foo", "foo*", false), ("x.y", "*", true),
                                          ("a.b.example.org", "*.example.org", false)] {
            let hit = Array(host.utf8).withUnsafeBytes { h in
                Array(pattern.utf8).withUnsafeBytes { hostnameMatches(h, pattern: $0) }
            }
            #expect(hit == expected, "\(pattern) vs \(host)")
        }
    }

    /// FuzzTableFile: a one-line list whose key, used as a regex, was `\xff` x 8 + `++++++*+++++++++++*++++@*`.
    /// glibc's regcomp takes time and memory exponential in the number of stacked repetition operators
    /// (the input ran out of 2 GB; `x` + 21 `+` alone takes 2 s and 1.4 GB). Such patterns are now refused
    /// before regcomp and never match, as a pattern regcomp rejects.
    @Test("a regex with stacked repetition operators is refused at once")
    func stackedRepetitions() throws {
        let key: [UInt8] = [UInt8](repeating: 0xFF, count: 8) + Array("++++++*+++++++++++*++++@*".utf8)
        let table = try Table(contents: key)
        let start = Date()
        #expect(try table.lookup("root", service: .regex) == nil)
        #expect(try table.lookup(bytes: key, service: .regex) == nil)
        #expect(Date().timeIntervalSince(start) < 2)
    }

    @Test("patterns that would hang or exhaust glibc are refused; ordinary ones still work", arguments: [
        ("x+++++++++++++++++++++", false),          // exponential regcomp
        ("x*+++++++++++", false),
        ("(a*)\\1\\1\\1b", false),                  // back-references: exponential regexec
        ("(.*)(.*)(.*)\\3\\2\\1b", false),
        ("((a{1000}){1000}){1000}", false),         // 10^9 states: gigabytes, then REG_ESPACE
        ("a{32767}{32767}", false),
        ("l{,9916}K", false),                       // FuzzMatchers: 9916 nested optional copies, 758 MB in regcomp
        ("l{5000,9916}K", false),
        ("l{0,1000}K", true),                       // 9 MB
        ("l{9000}K", true),                         // fixed copies stay linear: 3 MB
        ("(?i)^spam.*@example\\.org$", true),
        (".*?", true),                              // two operators in a row: allowed
        ("[*+?]+x", true),                          // operators inside a bracket are members
        ("[[:alpha:]]+@[]a-z]{2,5}", true),
        ("([a-z0-9-]{1,63}\\.){1,10}example\\.org", true),
        ("\\\\1", true),                            // an escaped backslash, then a 1
    ])
    func regexGuard(pattern: String, compiles: Bool) {
        #expect(RegexPattern(pattern: Array(pattern.utf8)).isValid == compiles)
    }

    @Test("a regex table still matches")
    func regexStillMatches() throws {
        let table = try Table(contents: Array("(?i)^spam.*@example\\.org$ x\n^[a-z]+$ y\n".utf8))
        #expect(try table.lookup("Spam-Offer@Example.ORG", service: .regex)?.key == "(?i)^spam.*@example\\.org$")
        #expect(try table.lookup("root", service: .regex)?.key == "^[a-z]+$")
        #expect(try table.lookup("ro ot", service: .regex) == nil)
    }

    /// FuzzAddresses: `33/33333333333`. glibc's inet_net_pton sums the prefix digits in an int with no overflow
    /// check and returns -1026405035, a "valid" network; smtpd's mask loop makes that /0, so the entry matches
    /// every IPv4 address. We answer as smtpd does (no crash, no trap on the negative length) and `check`
    /// warns about the entry.
    @Test("an IPv4 prefix length that overflows int matches as smtpd makes it match, and check warns")
    func prefixOverflow() throws {
        let overflow = try #require(NetworkAddress("33/33333333333"))
        #expect(overflow.prefixLength < 0)
        #expect(NetworkAddress("10.0.0.0/4294967304")?.prefixLength == 8)   // 2^32 + 8 wraps to /8
        #expect(NetworkAddress("10.0.0.0/33") == nil)                       // inet_net_pton refuses > 32
        #expect(NetworkAddress("10.0.0.0/8")?.prefixLength == 8)
        #expect(NetworkAddress("10/8")?.prefixLength == 8)
        #expect(NetworkAddress("10.1.0.0/016")?.prefixLength == 16)
        let table = try Table(contents: Array("33/33333333333\n10.0.0.0/8\n".utf8))
        #expect(try table.lookup("192.168.1.1", service: .netaddr)?.key == "33/33333333333")
        #expect(table.scanReference(Array("192.168.1.1".utf8), service: .netaddr)?.key == "33/33333333333")
        #expect(try table.lookup("10.9.8.7", service: .netaddr)?.key == "10.0.0.0/8")
        #expect(NetworkAddress.overflowingPrefix(Array("33/33333333333".utf8)[...]) == "33333333333")
        #expect(NetworkAddress.overflowingPrefix(Array("10.0.0.0/8".utf8)[...]) == nil)
    }
}
