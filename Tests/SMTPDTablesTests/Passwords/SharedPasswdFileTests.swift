import Testing
@testable import SMTPDTables

/// One passwd file shared by smtpd (`auth <passwd>`, a file table looked up as credentials) and Dovecot
/// (passwd-file passdb): who accepts what.
@Suite("Shared passwd file: smtpd split vs Dovecot split")
struct SharedPasswdFileTests {
    static let password = "s3cret pass"

    /// smtpd's verdict for a line of the shared file and a password.
    func smtpdAccepts(_ line: String, _ password: String = password) throws -> Bool {
        let (key, value) = smtpdFileLine(line)
        return try Credentials(key: key, value: value).accepts(password: password)
    }

    /// Dovecot's verdict for a line, cross-checked with doveadm when installed.
    func dovecot(_ line: String, _ password: String = password, scheme: String = "CRYPT",
                 sourceLocation: SourceLocation = #_sourceLocation) throws -> PasswordVerdict {
        let entry = try #require(DovecotPasswdEntry(line: line))
        let verdict = DovecotPasswords.verify(password: Array(password.utf8), entry: entry, defaultScheme: scheme)
        if case .unsupportedScheme = verdict { return verdict }
        if Doveadm.path != nil, let field = entry.password, !field.isEmpty {
            let (s, stored) = DovecotPasswords.scheme(of: field, defaultScheme: scheme)
            let theirs = try Doveadm.verifies("{\(s)}\(stored)", password: password)
            #expect(theirs == (verdict == .accepted), "doveadm disagrees on {\(s)}", sourceLocation: sourceLocation)
        }
        return verdict
    }

    @Test("Dovecot's full line with trailing fields: Dovecot accepts, smtpd cannot")
    func trailingFields() throws {
        let h = try PasswordHasher.hash(Self.password)
        for line in ["alice@example.org:\(h)::::::", "alice@example.org:\(h):1000:1000::/home/alice::userdb_quota_rule=*:storage=1G"] {
            #expect(try dovecot(line, scheme: "BLF-CRYPT") == .accepted)
            #expect(try dovecot(line, "wrong", scheme: "BLF-CRYPT") == .rejected)
            #expect(try !smtpdAccepts(line))
            let (key, value) = smtpdFileLine(line)
            #expect(key == "alice@example.org")
            let creds = try Credentials(key: key, value: value)
            // smtpd splits at the first colon: the hash becomes the "user", the trailing fields the "hash".
            #expect(creds.usernameBytes == Array(h.utf8))
            #expect(creds.problems.count == 1)
            #expect(creds.problems[0].contains("extra ':' fields"))
            #expect(!creds.problems[0].contains(h))
        }
    }

    @Test("user:hash alone works for both (the form to write in a shared file)")
    func bareHash() throws {
        for scheme in PasswordScheme.allCases {
            let h = try PasswordHasher.hash(Self.password, scheme: scheme, rounds: scheme == .bcrypt ? 4 : nil)
            let line = "bob:\(h)"
            #expect(try smtpdAccepts(line))
            #expect(try !smtpdAccepts(line, "wrong"))
            #expect(try dovecot(line) == .accepted)   // Dovecot's own default, CRYPT
            #expect(try dovecot(line, scheme: scheme.dovecotName) == .accepted)
            let (key, value) = smtpdFileLine(line)
            #expect(try Credentials(key: key, value: value).problems.isEmpty)
        }
    }

    @Test("a {BLF-CRYPT} prefix: Dovecot accepts, smtpd refuses")
    func schemePrefix() throws {
        let h = try PasswordHasher.hash(Self.password, rounds: 4)
        let line = "carol:{BLF-CRYPT}\(h)"
        #expect(try dovecot(line, scheme: "PLAIN") == .accepted)   // the prefix wins over the default
        #expect(try !smtpdAccepts(line))
        let (key, value) = smtpdFileLine(line)
        let problems = try Credentials(key: key, value: value).problems
        #expect(problems.count == 1 && problems[0].contains("{BLF-CRYPT} prefix"))
        // The same with Dovecot's trailing fields: reported as the extra-fields problem.
        let (k2, v2) = smtpdFileLine(line + "::::::")
        #expect(try Credentials(key: k2, value: v2).problems[0].contains("extra ':' fields"))
    }

    @Test("plain text: Dovecot with PLAIN/CLEARTEXT accepts, smtpd never")
    func plainText() throws {
        #expect(try dovecot("dave:{PLAIN}\(Self.password)") == .accepted)
        #expect(try dovecot("dave:{CLEARTEXT}\(Self.password)", "other") == .rejected)
        #expect(try dovecot("dave:\(Self.password)", scheme: "plain") == .accepted)
        #expect(try dovecot("dave:\(Self.password)", scheme: "CLEARTEXT") == .accepted)
        #expect(try !smtpdAccepts("dave:\(Self.password)"))
        let (key, value) = smtpdFileLine("dave:\(Self.password)")
        let problems = try Credentials(key: key, value: value).problems
        #expect(problems.count == 1 && problems[0].contains("not a crypt(3) hash"))
        #expect(!problems[0].contains(Self.password))
    }

    @Test("default scheme BLF-CRYPT refuses non-bcrypt hashes; SHA512-CRYPT takes any crypt(3) hash")
    func defaultSchemes() throws {
        let sha = try PasswordHasher.hash(Self.password, scheme: .sha512)
        let bf = try PasswordHasher.hash(Self.password, rounds: 4)
        #expect(try dovecot("erin:\(sha)", scheme: "BLF-CRYPT") == .rejected)
        #expect(try dovecot("erin:\(sha)", scheme: "blf-crypt") == .rejected)
        #expect(try dovecot("erin:\(bf)", scheme: "SHA512-CRYPT") == .accepted)
        #expect(try dovecot("erin:{SHA512-CRYPT}\(sha)", scheme: "BLF-CRYPT") == .accepted)
    }

    @Test("a bare $1$ hash is MD5-CRYPT whatever the default; libpam-pwdfile [13] is CRYPT",
          .enabled(if: Doveadm.path != nil, "\(Doveadm.missing)"))
    func autoDetected() throws {
        let md5 = String(try Doveadm.generate("MD5-CRYPT", password: Self.password).dropFirst("{MD5-CRYPT}".count))
        #expect(DovecotPasswords.scheme(of: md5, defaultScheme: "BLF-CRYPT").scheme == "MD5-CRYPT")
        #expect(try dovecot("fred:\(md5)", scheme: "BLF-CRYPT") == .accepted)
        #expect(try Doveadm.verifies(md5, password: Self.password))   // doveadm needs no prefix for $1$
        #expect(try smtpdAccepts("fred:\(md5)"))                        // and crypt(3) takes md5-crypt
        #expect(HashAnalysis(md5).isWeak)
        #expect(try dovecot("gina:JBOZ0DgmtucwE[13]:::", "08/15!test~4711", scheme: "PLAIN") == .accepted)
    }

    @Test("schemes we do not check are reported, not guessed")
    func unsupported() throws {
        #expect(try dovecot("hank:{SSHA512}AAAA") == .unsupportedScheme("SSHA512"))
        #expect(try dovecot("hank:{argon2id}$argon2id$v=19$m=65536,t=3,p=1$c2FsdA$aGFzaA") == .unsupportedScheme("ARGON2ID"))
        #expect(try dovecot("hank:whatever", scheme: "SHA256") == .unsupportedScheme("SHA256"))
        #expect(try dovecot("hank:{BLF-CRYPT.b64}JDJi") == .unsupportedScheme("BLF-CRYPT.B64"))
    }

    @Test("passwd-file parsing: fields, comments, missing password")
    func passwdFileParsing() throws {
        let e = try #require(DovecotPasswdEntry(line: "ivy:{PLAIN}x:1000:1001:Ivy:/home/ivy:/bin/sh:userdb_mail=maildir:~/M quota=1G\n"))
        #expect(e.user == "ivy" && e.password == "{PLAIN}x" && e.uid == "1000" && e.gid == "1001")
        #expect(e.gecos == "Ivy" && e.home == "/home/ivy" && e.shell == "/bin/sh")
        #expect(e.extraFields == "userdb_mail=maildir:~/M quota=1G")
        #expect(DovecotPasswdEntry(line: "# comment") == nil)
        #expect(DovecotPasswdEntry(line: "") == nil)
        #expect(DovecotPasswdEntry(line: ":x") == nil)
        let onlyUser = try #require(DovecotPasswdEntry(line: "jack"))
        #expect(onlyUser.password == nil)
        #expect(DovecotPasswords.verify(password: Array("".utf8), entry: onlyUser) == .rejected)
        #expect(try dovecot("jack::::", "anything") == .rejected)
    }

    @Test("smtpd credentials values: user:hash, bare hash, and what table.c refuses")
    func smtpdValues() throws {
        let h = try PasswordHasher.hash(Self.password, rounds: 4)
        // A relay credentials-style value: the user comes from the value, the key is a label.
        let labelled = try Credentials(key: "relay1", value: "bob@example.org:\(h)")
        #expect(labelled.usernameBytes == Array("bob@example.org".utf8) && labelled.hadUsername)
        #expect(labelled.accepts(password: Self.password))
        let bare = try Credentials(key: "bob", value: h)
        #expect(bare.usernameBytes == Array("bob".utf8) && !bare.hadUsername)
        #expect(bare.accepts(password: Self.password) && !bare.accepts(password: "x"))
        for bad in ["ab", ":abc", "abc:", String(repeating: "a", count: Credentials.lineMax)] {
            #expect(throws: TableError.self) { try Credentials(key: "k", value: bad) }
        }
        do { _ = try Credentials(key: "k", value: ":hunter2") } catch {
            #expect(error.kind == .invalidValue && !error.description.contains("hunter2"))
        }
        // A Dovecot passwd-file line's fields after the hash: the hash becomes the password with them.
        let dovecotLine = try Credentials(key: "bob", value: "\(h)::::::")
        #expect(!dovecotLine.accepts(password: Self.password))
        // 2047 bytes is still allowed.
        _ = try Credentials(key: "k", value: String(repeating: "a", count: Credentials.lineMax - 1))
    }
}
