/// smtpd.conf in the grammar of OpenSMTPD 6.0 to 6.3 (`accept ... deliver to ...`, `pki NAME certificate`,
/// `expire`, `relay via`), which 6.4 replaced with `action` and `match`: recognised, so that the reader can say
/// so, and rewritten in the 6.4+ grammar (`smtpd-tables migrate-config`).
///
/// The old grammar is read from parse.y of 6.0.3 (rule: `accept decision lookup action params` or
/// `reject decision`). Only the line structure is read here (continuations, comments, quoted strings, `<t>`
/// and `{ ... }` tables); the rewritten text is then read by the real parser like any configuration.
public enum LegacyConfig {
    /// A line written in the old grammar.
    public struct Finding: Sendable, Equatable {
        /// 1-based line of `path`.
        public var line: Int
        /// The construct, in words (`accept ... deliver to`, `pki ... certificate`).
        public var construct: String
    }

    /// The result of a migration: the new text, and what could not be translated exactly (also written as
    /// `# migrate-config:` comments in the text).
    public struct Migration: Sendable {
        /// The configuration in the 6.4+ grammar.
        public var text: String
        /// `(line of the old file, what is not exact)`.
        public var notes: [(line: Int, message: String)]
        /// How many rules (`accept`/`reject`) became `match` lines.
        public var rules: Int
    }

    // MARK: lines and tokens

    struct Token {
        var text: String
        var isQuoted: Bool { text.hasPrefix("\"") || text.hasPrefix("'") }
        /// `<name>`, `{ ... }`.
        var isTable: Bool { text.hasPrefix("<") || text.hasPrefix("{") }
        /// The word without its quotes.
        var value: String { isQuoted ? String(text.dropFirst().dropLast()) : text }
    }

    struct Line {
        var number: Int
        /// The logical line as written (continuations joined, comment kept), for `# was:` comments.
        var raw: String
        var tokens: [Token]
        /// A comment-only or blank line, kept as written.
        var isBlank: Bool { tokens.isEmpty }
    }

    /// Logical lines: a `\` before the line feed joins the next line; `#` outside quotes starts a comment.
    static func lines(_ text: String) -> [Line] {
        var out: [Line] = []
        let physical = text.split(separator: "\n", omittingEmptySubsequences: false)
        var i = 0
        while i < physical.count {
            let start = i + 1
            var raw = String(physical[i])
            while raw.hasSuffix("\\"), i + 1 < physical.count {
                raw.removeLast()
                i += 1
                raw += " " + physical[i]
            }
            i += 1
            if i == physical.count, raw.isEmpty { break }
            out.append(Line(number: start, raw: raw, tokens: tokens(raw)))
        }
        return out
    }

    static func tokens(_ line: String) -> [Token] {
        let c = Array(line)
        var out: [Token] = []
        var i = 0
        while i < c.count {
            let ch = c[i]
            if ch == " " || ch == "\t" || ch == "\r" { i += 1; continue }
            if ch == "#" { break }
            var j = i + 1
            switch ch {
            case "\"", "'":
                while j < c.count, c[j] != ch { if c[j] == "\\" { j += 1 }; j += 1 }
                j = min(j + 1, c.count)
            case "<":
                while j < c.count, c[j] != ">" { j += 1 }
                j = min(j + 1, c.count)
            case "{":
                var quote: Character?
                while j < c.count {
                    if let q = quote { if c[j] == q { quote = nil } }
                    else if c[j] == "\"" || c[j] == "'" { quote = c[j] }
                    else if c[j] == "}" { break }
                    j += 1
                }
                j = min(j + 1, c.count)
            case "!", ",", "=":
                break
            default:
                while j < c.count, !" \t\r#!,=<{\"'".contains(c[j]) { j += 1 }
            }
            out.append(Token(text: String(c[i..<j])))
            i = j
        }
        return out
    }

    // MARK: detection

    /// Top-level directives that exist only in the old grammar, and what 6.4 calls them.
    static let oldDirectives: [String: String] = [
        "accept": "accept ... deliver to (6.4+: action and match)",
        "reject": "reject (6.4+: match ... reject)",
        "expire": "expire (6.4+: queue ttl)",
        "max-message-size": "max-message-size (6.4+: smtp max-message-size)",
        "subaddressing-delimiter": "subaddressing-delimiter (6.4+: smtp sub-addr-delim)",
        "bounce-warn": "bounce-warn (6.4+: bounce warn-interval)",
        "ciphers": "ciphers (6.4+: smtp ciphers)",
        "max-mta-deferred": "max-mta-deferred (6.4+: mta max-deferred)",
    ]

    /// The first line of `text` in the old grammar.
    public static func firstOldLine(in text: String) -> Finding? {
        for line in lines(text) {
            guard let first = line.tokens.first?.text else { continue }
            if let what = oldDirectives[first] {
                // `limit` and the others are unambiguous; `reject` only starts a line in the old grammar.
                return Finding(line: line.number, construct: what)
            }
            if (first == "pki" || first == "ca"), line.tokens.count >= 3, line.tokens[2].text == "certificate" {
                return Finding(line: line.number, construct: "\(first) NAME certificate (6.4+: \(first) NAME cert)")
            }
        }
        return nil
    }

    /// The error the reader gives for a configuration in the old grammar: the first such line, named.
    static func error(for text: String, path: String) -> TableError? {
        guard let found = firstOldLine(in: text) else { return nil }
        return TableError(.config, path: path, line: found.line,
                          "\(found.construct): this is the grammar of OpenSMTPD 6.0 to 6.3, which 6.4 replaced; "
                          + "`smtpd-tables migrate-config -f \(path)` writes it in the 6.4+ grammar")
    }

    /// The `table NAME BACKEND:CONFIG` declarations of an old configuration, as (name, spec): enough for
    /// newaliases, whose table syntax did not change.
    public static func tableSpecs(in text: String) -> [(name: String, spec: String)] {
        lines(text).compactMap { line in
            let t = line.tokens
            guard t.count >= 3, t[0].text == "table", !t[2].isTable else { return nil }
            return (t[1].value, t[2].value)
        }
    }

    /// Reads the configuration at `path` as text (with the reader's guards: a regular file, bounded).
    public static func readText(path: String) throws(TableError) -> String {
        String(decoding: try ConfigSource.read(path: path), as: UTF8.self)
    }

    /// Replaces `target` atomically with `text`, taking the mode and owner of `source` (the old configuration).
    public static func write(_ text: String, to target: String, modeOf source: String) throws(TableError) {
        let attributes = try? AtomicFile.Attributes(ofFileAt: source)
        do {
            try AtomicFile.replace(target, attributes: attributes) { temporaryPath in
                try AtomicFile.writeAll(Array(text.utf8), to: temporaryPath, name: target)
            }
        } catch let error as TableError {
            throw error
        } catch {
            throw TableError(.io, path: target, "\(error)")
        }
    }

    // MARK: migration

    /// Rewrites `text` (old grammar) in the 6.4+ grammar: `action` + `match` pairs in rule order (each action
    /// declared before its first use, identical actions shared), listeners, pki and the global settings
    /// translated, everything else kept; what is not exact gets a `# migrate-config:` comment.
    public static func migrate(_ text: String) -> Migration {
        var out: [String] = []
        var notes: [(Int, String)] = []
        var actions: [String: String] = [:]  // action body -> name
        var usedNames: Set<String> = []
        var rules = 0
        // A listener's `pki` whose name was lost (as in configurations copied from web pages) can stand
        // for the configuration's only pki.
        let pkiNames = Set(lines(text).compactMap { l in
            l.tokens.count >= 3 && l.tokens[0].text == "pki" ? l.tokens[1].value.lowercased() : nil
        })

        func note(_ line: Int, _ message: String) {
            notes.append((line, message))
            out.append("# migrate-config: \(message)")
        }

        for line in lines(text) {
            let t = line.tokens
            guard let first = t.first?.text else {
                out.append(line.raw)
                continue
            }
            switch first {
            case "accept", "reject":
                rules += 1
                var rule = RuleTranslation(tokens: t, line: line.number)
                rule.translate()
                out.append("# was: \(line.raw.trimmingBlanks)")
                for n in rule.notes { note(line.number, n) }
                if first == "reject" {
                    out.append((["match"] + rule.conditions + ["reject"]).joined(separator: " "))
                    continue
                }
                let body = rule.actionBody.joined(separator: " ")
                let name: String
                if let existing = actions[body] {
                    name = existing
                } else {
                    var candidate = rule.actionName
                    var n = 2
                    while usedNames.contains(candidate) { candidate = "\(rule.actionName)\(n)"; n += 1 }
                    usedNames.insert(candidate)
                    actions[body] = candidate
                    name = candidate
                    out.append("action \"\(name)\" \(body)")
                }
                out.append((["match"] + rule.conditions + ["action", "\"\(name)\""]).joined(separator: " "))
            case "pki", "ca":
                var words = t.map(\.text)
                if words.count >= 3, words[2] == "certificate" { words[2] = "cert" }
                out.append(words.joined(separator: " "))
            case "expire":
                out.append((["queue", "ttl"] + t.dropFirst().map(\.text)).joined(separator: " "))
            case "max-message-size", "ciphers":
                out.append((["smtp"] + t.map(\.text)).joined(separator: " "))
            case "subaddressing-delimiter":
                out.append((["smtp", "sub-addr-delim"] + t.dropFirst().map(\.text)).joined(separator: " "))
            case "bounce-warn":
                out.append((["bounce", "warn-interval"] + t.dropFirst().map(\.text)).joined(separator: " "))
            case "max-mta-deferred":
                out.append((["mta", "max-deferred"] + t.dropFirst().map(\.text)).joined(separator: " "))
            case "limit":
                note(line.number, "`limit` settings changed in 6.4 (smtp limit, mta limit); not translated")
                out.append("# " + line.raw)
            case "listen":
                var words: [String] = []
                var i = 0
                while i < t.count {
                    let w = t[i].text
                    if w == "pki", i + 1 == t.count || keywords.contains(t[i + 1].text) {
                        if pkiNames.count == 1, let only = pkiNames.first {
                            note(line.number, "`pki` without a name on this listener: \(only), the only pki declared, used")
                            words += ["pki", only]
                        } else {
                            note(line.number, "`pki` without a name dropped from this listener: declare `pki NAME cert ...` "
                                 + "and add `pki NAME` here (6.4+ requires a pki for tls)")
                        }
                        i += 1
                        continue
                    }
                    if w == "filter", i + 1 < t.count {
                        note(line.number, "listener filter \(t[i + 1].text): filters changed in 6.4 (filter ... proc); dropped")
                        i += 2
                        continue
                    }
                    words.append(w)
                    i += 1
                }
                out.append(words.joined(separator: " "))
            default:
                out.append(line.raw)
            }
        }
        var header = ["# Migrated from the OpenSMTPD 6.0-6.3 grammar by smtpd-tables migrate-config."]
        if !notes.isEmpty { header.append("# \(notes.count) `# migrate-config:` note(s) below mark what is not exact.") }
        return Migration(text: (header + out).joined(separator: "\n") + "\n", notes: notes, rules: rules)
    }

    /// Words that are keywords of the old grammar (a `pki` followed by one has lost its name).
    static let keywords: Set<String> = [
        "auth", "auth-optional", "tls", "tls-require", "smtps", "port", "inet4", "inet6", "hostname", "hostnames",
        "tag", "mask-source", "received-auth", "no-dsn", "senders", "ca", "filter", "verify", "pki",
    ]

    /// One `accept`/`reject` rule read and rewritten.
    struct RuleTranslation {
        var tokens: [Token]
        var line: Int
        var i = 1
        var conditions: [String] = []
        var actionBody: [String] = []
        var actionName = "deliver"
        var notes: [String] = []
        var hasFor = false
        var lookups: [String] = []
        var params: [String] = []

        init(tokens: [Token], line: Int) {
            self.tokens = tokens
            self.line = line
        }

        var current: String? { i < tokens.count ? tokens[i].text : nil }

        mutating func next() -> String? {
            defer { i += 1 }
            return current
        }

        /// A table argument: `<t>`, `{ ... }`, or a bare word (an anonymous one-entry table).
        mutating func table() -> String { next() ?? "" }

        mutating func translate() {
            var method: [String]?
            while let word = current {
                switch word {
                case "!":
                    _ = next()
                    if current == "authenticated" { _ = next(); conditions += ["!", "auth"] }
                    else { notes.append("a '!' where none is expected; dropped") }
                case "from", "for", "sender", "recipient", "tagged":
                    _ = next()
                    var negated = false
                    if current == "!" { negated = true; _ = next() }
                    let prefix = negated ? ["!"] : []
                    switch word {
                    case "from":
                        let what = next() ?? ""
                        if what == "source" { conditions += prefix + ["from", "src", table()] }
                        else { conditions += prefix + ["from", what] }
                    case "for":
                        hasFor = true
                        let what = next() ?? ""
                        if what == "domain" { conditions += prefix + ["for", "domain", table()] }
                        else { conditions += prefix + ["for", what] }
                    case "sender": conditions += prefix + ["mail-from", table()]
                    case "recipient": conditions += prefix + ["rcpt-to", table()]
                    default: conditions += prefix + ["tag", next() ?? ""]
                    }
                case "authenticated":
                    _ = next()
                    conditions.append("auth")
                case "alias", "virtual", "userbase":
                    _ = next()
                    lookups += [word, table()]
                    if word == "virtual" { actionName = "virtual" }
                    else if word == "alias", actionName != "virtual" { actionName = "local" }
                case "deliver":
                    _ = next()
                    if current == "to" { _ = next() }
                    method = deliverMethod()
                case "relay":
                    _ = next()
                    method = relayMethod()
                    actionName = "relay"
                case "expire":
                    _ = next()
                    params += ["ttl", next() ?? ""]
                case "forward-only":
                    _ = next()
                    params.append("forward-only")
                default:
                    notes.append("'\(word)' not understood in this rule; dropped")
                    _ = next()
                }
            }
            if !hasFor { conditions += ["for", "local"] }
            var chosen = method ?? []
            if params.contains("forward-only") {
                params.removeAll { $0 == "forward-only" }
                if method == nil { chosen = ["forward-only"] }
                else { notes.append("forward-only with a delivery method: smtpd 6.0 refused that; kept the method") }
            } else if method == nil, tokens.first?.text == "accept" {
                chosen = ["mbox"]
                notes.append("this rule named no delivery method: mbox, as 6.0 delivered local users, assumed")
            }
            actionBody = chosen + lookups + params
        }

        mutating func deliverMethod() -> [String] {
            let kind = next() ?? ""
            var words: [String]
            switch kind {
            case "maildir":
                words = ["maildir"]
                if let w = current, tokens[i].isQuoted || w.hasPrefix("/") || w.hasPrefix("~") { words.append(next()!) }
                if actionName == "deliver" { actionName = "maildir" }
            case "mbox":
                words = ["mbox"]
                if actionName == "deliver" { actionName = "mbox" }
            case "lmtp":
                words = ["lmtp", next() ?? ""]
                if current == "rcpt-to" { words.append(next()!) }
                if actionName == "deliver" { actionName = "lmtp" }
            case "mda":
                words = ["mda", next() ?? ""]
                if actionName == "deliver" { actionName = "mda" }
            default:
                notes.append("unknown delivery method '\(kind)'; mbox written")
                words = ["mbox"]
            }
            if current == "as" {
                _ = next()
                words += ["user", next() ?? ""]
            }
            return words
        }

        mutating func relayMethod() -> [String] {
            var words = ["relay"]
            var tls: String?
            var via = false
            if current == "via" {
                _ = next()
                words += ["host", next() ?? ""]
                via = true
            }
            while let w = current {
                switch w {
                case "backup":
                    _ = next()
                    words.append("backup")
                    if let mx = current, !relayWords.contains(mx) { words += ["mx", next()!] }
                case "as": _ = next(); words += ["mail-from", next() ?? ""]
                case "source": _ = next(); words += ["src", table()]
                case "hostname": _ = next(); words += ["helo", next() ?? ""]
                case "hostnames": _ = next(); words += ["helo-src", table()]
                case "pki", "ca": _ = next(); words += [w, next() ?? ""]
                case "auth": _ = next(); words += ["auth", table()]
                case "tls":
                    _ = next()
                    if current == "verify" { _ = next(); tls = "tls" } else { tls = "tls no-verify" }
                case "verify":
                    _ = next()
                    tls = via ? "" : "tls"
                default:
                    return words + (tls.map { $0.isEmpty ? [] : [$0] } ?? [])
                }
            }
            if via, tls == nil {
                notes.append("relay via: 6.4+ verifies the relay's certificate when the URL asks for TLS; "
                             + "6.0 did only with `verify` (add `tls no-verify` to keep the old behaviour)")
            }
            return words + (tls.map { $0.isEmpty ? [] : [$0] } ?? [])
        }

        let relayWords: Set<String> = ["as", "source", "hostname", "hostnames", "pki", "ca", "auth", "tls", "verify",
                                       "expire", "forward-only"]
    }
}

extension String {
    fileprivate var trimmingBlanks: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" { s.removeLast() }
        return String(s)
    }
}
