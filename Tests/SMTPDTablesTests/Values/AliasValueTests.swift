import Testing
@testable import SMTPDTables

/// Alias values (upstream expand.c `expand_line`, to.c `text_to_expandnode` and the `alias_is_*` tests).
@Suite("Foundation: alias values")
struct AliasValueTests {
    private func nodes(_ value: String) throws -> [ExpansionNode] {
        let table = try Fixture.table("k: \(value)\n")
        guard case .alias(let nodes)? = try table.value(for: "k", service: .alias) else {
            Issue.record("no alias value for '\(value)'")
            return []
        }
        return nodes
    }

    private func isInvalid(_ value: String) -> Bool {
        (try? Fixture.table("k: \(value)\n").value(for: "k", service: .alias)) == nil
    }

    private func node(_ kind: ExpansionNode.Kind, _ value: String) -> ExpansionNode {
        if kind == .address, let at = value.firstIndex(of: "@") {
            return ExpansionNode(kind: kind, value: value, address: MailAddress(
                user: String(value[..<at]), domain: String(value[value.index(after: at)...])))
        }
        return ExpansionNode(kind: kind, value: value)
    }

    @Test func everyNodeKind() throws {
        let value = #"|/usr/bin/proc arg, "|/bin/q x", /var/mail/box, :include:/etc/list, include:/etc/l2, "#
            + "error:550 No such user, :error:421 Try later, John@Example.ORG, Bob.Smith+x"
        #expect(try nodes(value) == [
            node(.filter, "/usr/bin/proc arg"), node(.filter, "/bin/q x"), node(.file, "/var/mail/box"),
            node(.include, "/etc/list"), node(.include, "/etc/l2"), node(.error, "550 No such user"),
            node(.error, "421 Try later"), node(.address, "John@Example.ORG"), node(.username, "Bob.Smith+x"),
        ])
        // Prefixes compare without case; the text after them is kept.
        #expect(try nodes("ERROR:550 Gone, :Include:/x, INCLUDE:/y") == [
            node(.error, "550 Gone"), node(.include, "/x"), node(.include, "/y"),
        ])
    }

    @Test func errorRules() throws {
        #expect(try nodes("error:450 4.2.0 try later") == [node(.error, "450 4.2.0 try later")])
        #expect(try nodes("error:599 x") == [node(.error, "599 x")])
        for bad in ["error:550", "error:550 ", "error:250 ok", "error:650 no", "error:5x0 no", "error:550-no",
                    "error:550  two", "error:550 -x", "error:550 é", "error: 550 x", ":error:55 x", "error:"] {
            #expect(isInvalid(bad), "\(bad)")
        }
    }

    @Test func quotesAndEscapes() throws {
        // A comma inside quotes does not split; quotes stay in the element.
        #expect(try nodes(#""|/bin/echo a, b", bob"#) == [node(.filter, "/bin/echo a, b"), node(.username, "bob")])
        // '\' escapes the next byte and is dropped.
        #expect(try nodes(#"|/bin/printf a\,b"#) == [node(.filter, "/bin/printf a,b")])
        #expect(try nodes(#"|/bin/echo \"x, alice"#) == [node(.filter, "/bin/echo \"x"), node(.username, "alice")])
        #expect(try nodes(#"|/bin/echo a\\b"#) == [node(.filter, #"/bin/echo a\b"#)])
        // Single quotes inside double quotes are plain bytes, and the other way round.
        #expect(try nodes(#""|/bin/echo it's, ok""#) == [node(.filter, "/bin/echo it's, ok")])
        // Unbalanced quotes and a trailing '\' make the whole value invalid.
        for bad in [#"alice, "bob"#, "alice, 'bob", #"alice, bob\"#, #""|/bin/x"#, #"'|/bin/x, y"#] {
            #expect(isInvalid(bad), "\(bad)")
        }
    }

    @Test func filters() throws {
        #expect(try nodes("|/bin/cat") == [node(.filter, "/bin/cat")])
        #expect(try nodes(#""|/bin/cat -u""#) == [node(.filter, "/bin/cat -u")])
        // Unquoted, a trailing quote belongs to the command.
        #expect(try nodes("|/bin/cat x\"\"") == [node(.filter, "/bin/cat x\"\"")])
        #expect(try nodes("|") == [node(.filter, "")])
        #expect(isInvalid(#""|/bin/x"y"#))
        #expect(isInvalid(#""/bin/x""#))
    }

    @Test func filesAndIncludes() throws {
        #expect(try nodes("/dev/null, /var/mail/a b") == [node(.file, "/dev/null"), node(.file, "/var/mail/a b")])
        #expect(isInvalid(":include:list"))
        #expect(isInvalid("include:"))
        #expect(isInvalid("var/mail/x"))
    }

    @Test func addressCharacterSets() throws {
        let user = "a!#$%*/?|^{}`~&''+-=_.z"
        #expect(try nodes("\(user)@ex-am.ple9") == [node(.address, "\(user)@ex-am.ple9")])
        #expect(try nodes("a@b") == [node(.address, "a@b")])
        for bad in ["a b@c", "@d", "u@", "a(b)@c", "a\u{E9}@b"] {
            #expect(isInvalid(bad), "\(bad)")
        }
        // alias_is_address cuts its (shared) buffer at the first '@' before checking the characters, so the
        // username test that follows sees only the user part (semantics.md section 6, seen on the real smtpd).
        for (cut, user) in [("a@b_c", "a"), ("u@@d", "u"), ("u@d@e", "u"), ("a@[10.0.0.1]", "a")] {
            #expect(try nodes(cut) == [node(.username, user)], "\(cut)")
        }
    }

    @Test func usernames() throws {
        #expect(try nodes("a_b.c-d+e, UPPER, 0") == [node(.username, "a_b.c-d+e"), node(.username, "UPPER"),
                                                       node(.username, "0")])
        #expect(try nodes(String(repeating: "u", count: 255)) == [node(.username, String(repeating: "u", count: 255))])
        #expect(isInvalid(String(repeating: "u", count: 256)))
        for bad in ["a:b", "a/b", "a b", "a=b", "a'b'"] {
            #expect(isInvalid(bad), "\(bad)")
        }
    }

    @Test func invalidElementFailsWholeList() throws {
        #expect(isInvalid("alice, b c@d, carol"))
        #expect(isInvalid("alice, carol, a b"))
        let table = try Fixture.table("ok: alice\nbad: alice, b c@d\n")
        #expect(throws: TableError.self) { try table.value(for: "bad", service: .alias) }
        do {
            _ = try table.value(for: "bad", service: .alias)
        } catch {
            #expect(error.kind == .invalidValue)
            #expect(error.line == 2)
            #expect(error.description.hasPrefix("mem:2: "))
        }
    }

    @Test func emptyElementsSkipped() throws {
        #expect(try nodes("alice,, ,bob,") == [node(.username, "alice"), node(.username, "bob")])
        #expect(try nodes(",") == [])
    }

    @Test func valueLengthLimit() throws {
        let ok = String(repeating: "ab,", count: 682) + "a"      // 2047 bytes
        #expect(ok.utf8.count == 2047)
        #expect(try nodes(ok).count == 683)
        #expect(isInvalid(ok + "b"))
        #expect(throws: TableError.self) { try ExpansionNode.parseList(ok + "b") }
    }

    @Test func singleElements() {
        #expect(ExpansionNode(element: "alice")?.kind == .username)
        #expect(ExpansionNode(element: "a@b")?.kind == .address)
        #expect(ExpansionNode(element: "a@b")?.address == MailAddress(user: "a", domain: "b"))
        #expect(ExpansionNode(element: "a b") == nil)
    }
}
