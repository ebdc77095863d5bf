import Testing
@testable import SMTPDTables

/// The exact-key services and the typed values smtpd builds from them (upstream table.c `table_parse_lookup`,
/// to.c `text_to_userinfo`, `text_to_relayhost`, mailaddr.c `mailaddr_line`).
@Suite("Foundation: exact-key services and typed values")
struct ValueServiceTests {
    private func value(_ text: String, _ key: String, _ service: TableService) throws(TableError) -> LookupValue? {
        try Fixture.table(text).value(for: key, service: service)
    }

    private func fails(_ text: String, _ key: String, _ service: TableService) -> Bool {
        do {
            _ = try value(text, key, service)
            return false
        } catch {
            return error.kind == .invalidValue && error.line != nil
        }
    }

    @Test func credentials() throws {
        #expect(try value("alice: alice:$2b$10$abcdefghij\n", "alice", .credentials)
                == .credentials(Credentials(username: "alice", password: "$2b$10$abcdefghij")))
        // A hash alone: the (folded) key is the user.
        #expect(try value("Bob: $2b$10$xyz\n", "BOB", .credentials)
                == .credentials(Credentials(username: "bob", password: "$2b$10$xyz", hadUsername: false)))
        // Dovecot's extra fields stay in the password, so smtpd's crypt(3) check fails on them.
        #expect(try value("carol: carol:{BLF-CRYPT}$2b$05$abc::::\n", "carol", .credentials)
                == .credentials(Credentials(username: "carol", password: "{BLF-CRYPT}$2b$05$abc::::")))
        #expect(try value("d: abc\n", "d", .credentials) == .credentials(Credentials(username: "d", password: "abc", hadUsername: false)))
        #expect(try value("d: a:b\n", "d", .credentials) == .credentials(Credentials(username: "a", password: "b")))
        #expect(fails("d: ab\n", "d", .credentials))                     // under 3 bytes
        #expect(fails("e: :secret\n", "e", .credentials))                // empty user
        #expect(fails("f: user:\n", "f", .credentials))                  // empty password
        #expect(fails("g: " + String(repeating: "x", count: 2048) + "\n", "g", .credentials))
        #expect(try value("g: " + String(repeating: "x", count: 2047) + "\n", "g", .credentials) != nil)
        #expect(try value("h: x\n", "nobody", .credentials) == nil)
    }

    @Test func userinfo() throws {
        #expect(try value("Joe: 1000:100:/home/joe\n", "joe", .userinfo)
                == .userinfo(UserInfo(username: "joe", uid: 1000, gid: 100, directory: "/home/joe")))
        #expect(try value("j: 0:0:/a:b c\n", "j", .userinfo)
                == .userinfo(UserInfo(username: "j", uid: 0, gid: 0, directory: "/a:b c")))
        #expect(try value("j: 4294967295:1:/\n", "j", .userinfo) != nil)
        for bad in ["x:100:/h", "1000:100", "-1:100:/h", "4294967296:1:/h", "1:2x:/h", ":1:/h"] {
            #expect(fails("j: \(bad)\n", "j", .userinfo), "\(bad)")
        }
    }

    @Test func sourceAddresses() throws {
        guard case .source(let v4)? = try value("k: 192.0.2.1\n", "k", .source) else {
            Issue.record("no IPv4 source")
            return
        }
        #expect(v4.family == .inet && v4.bytes == [192, 0, 2, 1])
        for text in ["2001:db8::1", "[2001:db8::1]", "IPv6:2001:db8::1", "[IPv6:2001:db8::1]"] {
            guard case .source(let v6)? = try value("k: \(text)\n", "k", .source) else {
                Issue.record("no IPv6 source for \(text)")
                continue
            }
            #expect(v6.family == .inet6 && v6.description == "2001:db8::1", "\(text)")
        }
        for bad in ["10.1", "host.example", "192.0.2.256", "[10.0.0.1"] {
            #expect(fails("k: \(bad)\n", "k", .source), "\(bad)")
        }
    }

    @Test func addrname() throws {
        guard case .addrname(let a, let name)? = try value("[::1]: Localhost.Example\n", "[::1]", .addrname) else {
            Issue.record("no addrname")
            return
        }
        #expect(a.family == .inet6 && a.description == "::1")
        #expect(name == "Localhost.Example")
        guard case .addrname(let b, _)? = try value("192.0.2.7 mx.example.org\n", "192.0.2.7", .addrname) else {
            Issue.record("no IPv4 addrname")
            return
        }
        #expect(b.bytes == [192, 0, 2, 7])
        #expect(fails("notanip name\n", "notanip", .addrname))
        // HOST_NAME_MAX + 1 bytes with the NUL: 64 on Linux, where the Debian build we match runs.
        #expect(fails("192.0.2.7 " + String(repeating: "n", count: 65) + "\n", "192.0.2.7", .addrname))
        #expect(try value("192.0.2.7 " + String(repeating: "n", count: 64) + "\n", "192.0.2.7", .addrname) != nil)
    }

    @Test func mailaddrmap() throws {
        #expect(try value("k: a@b, @c, d,, \"q\"@e\n", "k", .mailaddrmap) == .mailaddrmap([
            MailAddress(user: "a", domain: "b"), MailAddress(user: "", domain: "c"),
            MailAddress(user: "d", domain: ""), MailAddress(user: "\"q\"", domain: "e"),
        ]))
        #expect(fails("k: a@b, \"x\n", "k", .mailaddrmap))
        #expect(fails("k: a@b, x\\\n", "k", .mailaddrmap))
        #expect(fails("k: " + String(repeating: "u", count: 256) + "@d\n", "k", .mailaddrmap))
    }

    @Test func relayhost() throws {
        func relay(_ text: String) throws -> RelayHost? {
            guard case .relayhost(let r)? = try value("k: \(text)\n", "k", .relayhost) else { return nil }
            return r
        }
        let cases: [(String, RelayHost.Scheme, String?, String, Int)] = [
            ("mx.example.org", .smtp, nil, "mx.example.org", 25),
            ("MX.Example.ORG:2525", .smtp, nil, "MX.Example.ORG", 2525),
            ("smtp://mx.example.org", .smtp, nil, "mx.example.org", 25),
            ("smtp+tls://label@mx:587", .smtpTLS, "label", "mx", 587),
            ("SMTP+TLS://mx", .smtpTLS, nil, "mx", 25),
            ("smtp+notls://mx", .smtpNoTLS, nil, "mx", 25),
            ("lmtp://localhost:24", .lmtp, nil, "localhost", 24),
            ("smtps://mx", .smtps, nil, "mx", 465),
            ("smtps://secret@mx:4650", .smtps, "secret", "mx", 4650),
            ("smtp://[192.0.2.1]:26", .smtp, nil, "[192.0.2.1]", 26),
            ("smtp://[IPv6:2001:db8::1]", .smtp, nil, "[IPv6:2001:db8::1]", 25),
            ("smtp://mx_1.example.org", .smtp, nil, "mx_1.example.org", 25),
            // Host names as glibc res_hnok(3) takes them: only a leading dash of the whole name is refused.
            ("smtp://a.-b", .smtp, nil, "a.-b", 25), ("smtp://mx-", .smtp, nil, "mx-", 25),
        ]
        for (text, scheme, label, host, port) in cases {
            let r = try relay(text)
            #expect(r?.scheme == scheme, "\(text)")
            #expect(r?.authLabel == label, "\(text)")
            #expect(r?.host == host, "\(text)")
            #expect(r?.port == port, "\(text)")
        }
        for bad in ["lmtp://localhost", "smtp://label@mx", "smtp+notls://l@mx", "foo://mx", "smtp://mx:0",
                    "smtp://mx:65536", "smtp://mx:25x", "smtp://-mx", "smtp://mx.example.org.", "smtp://",
                    "smtp://[192.0.2.1", "smtp://[not-an-ip]"] {
            #expect(fails("k: \(bad)\n", "k", .relayhost), "\(bad)")
        }
    }

    @Test func stringsAndExactKeys() throws {
        let t = try Fixture.table("Key: Some Value\nkey2: x\n")
        #expect(try t.value(for: "KEY", service: .string) == .string("Some Value"))
        #expect(try t.value(for: "key ", service: .string) == nil)
        #expect(try t.value(for: "ke", service: .string) == nil)
        // Exact services never treat keys as patterns.
        let p = try Fixture.table("*.org: v\n")
        for service in TableService.allCases where !service.isPattern {
            #expect(try p.lookup("a.org", service: service) == nil, "\(service)")
            #expect(try p.lookup("*.ORG", service: service)?.value == "v", "\(service)")
        }
        #expect(Set(TableService.allCases.filter(\.isPattern)) == [.domain, .netaddr, .mailaddr, .regex])
    }
}

@Test func relayAndAddrnameHostNamesFollowLinuxHostNameMax() throws {
    // HOST_NAME_MAX is 64 on glibc: smtpd's buffer holds 64 bytes and its NUL.
    let ok = String(repeating: "a", count: 60) + ".org"
    let long = String(repeating: "a", count: 61) + ".org"
    #expect(try RelayHost(ok).host == ok)
    #expect(throws: TableError.self) { try RelayHost(long) }
    let t = try Table(contents: Array("127.0.0.1 \(ok)\n::2 x\n".utf8))
    #expect(try t.value(for: "127.0.0.1", service: .addrname) != nil)
    let t2 = try Table(contents: Array("127.0.0.1 \(long)\n".utf8))
    #expect(throws: TableError.self) { try t2.value(for: "127.0.0.1", service: .addrname) }
}
