import Foundation
import Testing
@testable import SMTPDTables

#if canImport(Glibc)
import Glibc
#endif

/// The real smtpd (Debian's 6.8) against our resolver: the same RCPT TO replies and the same user deliveries.
@Suite struct ResolverInteropTests {
    static let smtpd = TestSupport.system("smtpd")
    static var usable: Bool { smtpd != nil && getuid() == 0 && TestSupport.system("unshare") != nil }

    @Test(.enabled(if: usable, "needs root, unshare and Debian's smtpd"), .timeLimit(.minutes(5)))
    func sameRepliesAndDeliveriesAsSmtpd() throws {
        try TestSupport.withTemporaryDirectory { dir in
            try FileManager.default.createDirectory(atPath: dir + "/home", withIntermediateDirectories: true)
            try TestSupport.write("list1\nlist2@localhost\nbroken x y, list3\n", to: "members", in: dir)
            try TestSupport.write("""
                root: john
                postmaster: root
                john: john, carol
                loop1: loop2
                loop2: loop1
                chain1: chain2
                chain2: chain3
                chain3: chain4
                chain4: chain5
                chain5: chain6
                chain6: chain7
                chain7: chain8
                chain8: chain9
                chain9: john
                deep1: deep2
                deep2: deep3
                deep3: deep4
                deep4: deep5
                deep5: deep6
                deep6: deep7
                deep7: deep8
                deep8: deep9
                deep9: deep10
                deep10: john
                errl: error:550 go away
                tmperr: error:450 try later
                errmix: bogus, error:551 gone
                bad: a b # c
                both: Alice, alice
                brk: carol@[127.0.0.1]
                list: :include:\(dir)/members, john
                noinc: :include:\(dir)/missing
                tagged+x: carol
                tagged: john
                virt: someone@example.org
                ghost: nosuchuser
                twice: t1, t2
                t1: carol
                t2: carol
                again: carol, t2
                errlast: error:551 gone, carol
                k0: k1
                k1: k2
                k2: k3
                k3: k4
                k4: k5
                k5: k6
                k6: k7
                k7: k8
                k8: list3
                """, to: "aliases", in: dir)
            // Forward files (all owned by 102, smtpd's own user here): secure, empty, group writable, a
            // symbolic link, in a sticky or group-writable home.
            let forwards: [(String, String?, mode_t, mode_t)] = [
                ("fwd", "# note\nlist1, \\\n  list2\n:include:\(dir)/members\nfwd\n", 0o644, 0o755),
                ("fwdempty", "", 0o644, 0o755), ("fwdbad", "list1\n", 0o664, 0o755),
                ("fwdlink", nil, 0o644, 0o755), ("fwdsticky", "list1\n", 0o644, 0o1755),
                ("fwdwr", "list1\n", 0o644, 0o775)]
            var forwardUsers = ""
            for (name, content, mode, homeMode) in forwards {
                let home = "\(dir)/h\(name)"
                try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
                if let content {
                    let path = try TestSupport.write(content, to: ".forward", in: home)
                    chown(path, 102, 105)
                    chmod(path, mode)
                } else {
                    symlink("\(dir)/hfwd/.forward", "\(home)/.forward")
                }
                chown(home, 102, 105)
                chmod(home, homeMode)
                forwardUsers += "\(name) 102:105:\(home)\n"
            }
            try TestSupport.write("john 102:105:\(dir)/home\ncarol 102:105:\(dir)/home\nalice 102:105:\(dir)/home\n"
                + "list1 102:105:\(dir)/home\nlist2 102:105:\(dir)/home\nlist3 102:105:\(dir)/home\n"
                + "vuser 102:105:\(dir)/home\nopensmtpd 102:105:\(dir)/home\n" + forwardUsers, to: "userinfo", in: dir)
            try TestSupport.write("""
                alice@example.org vuser
                sales@example.org alice, carol@localhost
                @example.org vuser
                bob@example.net bob
                loopv@example.net loopv@example.org
                """, to: "vusers", in: dir)
            // The mda runs as the user (smtpd will not run it as root): a log anyone may append to.
            let log = try TestSupport.write("", to: "log", in: dir)
            chmod(log, 0o666)
            chmod(dir, 0o755)
            let port = UInt16(20000 + Int(getpid() % 20000))
            let mda = "/bin/sh -c 'cat >/dev/null; echo %{user.username} >> \(dir)/log'"
            let conf = try TestSupport.write("""
                table aliases file:\(dir)/aliases
                table userinfo file:\(dir)/userinfo
                table vusers file:\(dir)/vusers
                listen on 127.0.0.1 port \(port)
                action "local" mda "\(mda)" alias <aliases> userbase <userinfo>
                action "virtual" mda "\(mda)" virtual <vusers> userbase <userinfo>
                action "out" relay
                match from any for domain { example.org, example.net } action "virtual"
                match for local action "local"
                match from any for domain "relay.test" action "out"
                """, to: "smtpd.conf", in: dir)
            let script = try TestSupport.write("""
                mount --make-rprivate / && mount -t tmpfs tmpfs /var/spool && mkdir -m 711 /var/spool/smtpd \
                && exec \(Self.smtpd ?? "/usr/sbin/smtpd") -d -f \(conf) -T expand
                """, to: "run.sh", in: dir)

            let addresses = ["root@localhost", "postmaster@localhost", "john@localhost", "loop1@localhost",
                             "chain1@localhost", "deep1@localhost", "errl@localhost", "tmperr@localhost",
                             "errmix@localhost", "bad@localhost", "both@localhost", "brk@localhost",
                             "list@localhost", "noinc@localhost", "tagged+x@localhost", "tagged+y@localhost",
                             "john+box@localhost", "nobody@localhost", "ghost@localhost", "virt@localhost",
                             "alice@example.org", "sales@example.org", "Anyone@Example.ORG", "bob@example.net",
                             "nobody@example.net", "loopv@example.net", "x@relay.test", "x@elsewhere.test",
                             // added with ResolverRuleTests and ForwardFileTests
                             "twice@localhost", "again@localhost", "k1@localhost", "k0@localhost",
                             "errlast@localhost", "carol+box@localhost", "fwd@localhost", "fwdempty@localhost",
                             "fwdbad@localhost", "fwdlink@localhost", "fwdsticky@localhost", "fwdwr@localhost",
                             // a bare recipient takes the server's name; `for local` includes that name
                             "postmaster", "carol@\(HostFacts.systemHostname())"]

            let config = try SMTPDConfig.load(path: conf)
            let hostname = HostFacts.systemHostname()
            let resolver = try Resolver(config: config, options: .init(host: HostFacts(hostname: hostname, localAddresses: HostFacts.interfaceAddresses()), sender: .init(source: "127.0.0.1")))
            let ours = try addresses.map { try resolver.resolve($0) }

            let process = Process()
            process.executableURL = URL(fileURLWithPath: TestSupport.system("unshare") ?? "/usr/bin/unshare")
            process.arguments = ["-m", "/bin/sh", script]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle(forWritingAtPath: "/dev/null")
            try TestSupport.spawn(process)
            defer {
                if process.isRunning { process.terminate() }
                process.waitUntilExit()
            }

            var client: SMTPClient?
            for _ in 0..<100 {
                client = SMTPClient(port: port)
                if client != nil { break }
                usleep(100_000)
            }
            let smtp = try #require(client, "smtpd did not listen on port \(port)")
            #expect(smtp.reply().hasPrefix("220"))
            #expect(smtp.command("EHLO test").hasPrefix("250"))
            #expect(smtp.command("MAIL FROM:<>").hasPrefix("250"))
            var anyAccepted = false
            for (address, r) in zip(addresses, ours) {
                let reply = smtp.command("RCPT TO:<\(address)>")
                if r.accepted {
                    #expect(reply.hasPrefix("250"), "\(address): smtpd said \(reply), we accepted")
                    anyAccepted = anyAccepted || reply.hasPrefix("250")
                } else {
                    #expect(reply == (r.reply ?? ""), "\(address)")
                }
            }
            var expected: [String] = []
            for r in ours where r.accepted {
                for case .user(let name, _, _) in r.deliveries { expected.append(name) }
            }
            if anyAccepted {
                #expect(smtp.command("DATA").hasPrefix("354"))
                #expect(smtp.command("Subject: test\r\n\r\nhello\r\n.").hasPrefix("250"))
                _ = smtp.command("QUIT")
                var delivered: [String] = []
                for _ in 0..<100 {
                    let text = (try? String(contentsOfFile: dir + "/log", encoding: .utf8)) ?? ""
                    delivered = text.split(separator: "\n").map(String.init)
                    if delivered.count >= expected.count { break }
                    usleep(100_000)
                }
                usleep(300_000)
                let text = (try? String(contentsOfFile: dir + "/log", encoding: .utf8)) ?? ""
                delivered = text.split(separator: "\n").map(String.init)
                #expect(delivered.sorted() == expected.sorted())
            }
        }
    }
}
