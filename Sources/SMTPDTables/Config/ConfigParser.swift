/// The smtpd.conf grammar (parse.y), as a recursive-descent parser over `ConfigLexer`'s tokens.
/// It stops at the first error, which names the file and line as smtpd's `yyerror` would.
///
/// This file holds the core and the directive dispatch; each part of the grammar is an extension in its own
/// file (`+Tables`, `+Actions`, `+Match`, `+Filters`, `+Listen`, `+Settings`).
struct ConfigParser {
    var lexer: ConfigLexer
    var tok: ConfigToken
    var previous: ConfigToken
    let checkTableFiles: Bool
    let topPath: String
    /// The release whose grammar is read (Versions.swift).
    let version: SMTPDVersion

    var config: SMTPDConfig

    var tableIndex: [String: Int] = [:]
    /// The kind of each table whose kind smtpd knows while parsing (inline tables, and file tables when they
    /// are opened); absent for the others, which every use accepts.
    var tableKinds: [String: TableKind] = [:]
    var anonymousCount = 0
    var actionNames: Set<String> = []
    var mdaWrappers: Set<String> = []
    var processors: Set<String> = []
    /// Filter name -> (is a chain, its processor).
    var filters: [String: (chain: Bool, proc: String?)] = [:]
    var pkiNames: Set<String> = []
    var caNames: Set<String> = []
    var hasSRSKey = false
    var hasSocketListener = false

    init(text: [UInt8], path: String, checkTableFiles: Bool, version: SMTPDVersion = .newest) throws(TableError) {
        lexer = ConfigLexer(text: text, path: path)
        self.checkTableFiles = checkTableFiles
        self.version = version
        topPath = path
        config = SMTPDConfig(path: path)
        let first = ConfigToken(kind: .newline, text: "", file: path, line: 1)
        tok = first
        previous = first
        tok = try lexer.next()
    }

    // MARK: token helpers

    mutating func advance() throws(TableError) -> ConfigToken {
        previous = tok
        tok = try lexer.next()
        return previous
    }

    func fail(_ message: String, at token: ConfigToken) -> TableError {
        TableError(.config, path: token.file, line: token.line, message)
    }

    /// An error at the current token (a syntax error, where yacc saw it).
    func syntaxError() -> TableError {
        fail("syntax error", at: tok)
    }

    /// An error in what was just read (a check in a grammar action).
    func semantic(_ message: String) -> TableError {
        fail(message, at: previous)
    }

    mutating func expectString() throws(TableError) -> String {
        guard tok.isString else { throw syntaxError() }
        return try advance().text
    }

    mutating func expect(_ k: ConfigKeyword) throws(TableError) {
        guard tok.isKeyword(k) else { throw syntaxError() }
        _ = try advance()
    }

    mutating func expectChar(_ c: Character) throws(TableError) {
        guard tok.isChar(c) else { throw syntaxError() }
        _ = try advance()
    }

    mutating func expectNumber() throws(TableError) -> ConfigToken {
        guard tok.kind == .number else { throw syntaxError() }
        return try advance()
    }

    mutating func accept(_ k: ConfigKeyword) throws(TableError) -> Bool {
        if tok.isKeyword(k) {
            _ = try advance()
            return true
        }
        return false
    }

    mutating func skipNewlines() throws(TableError) {
        while tok.kind == .newline { _ = try advance() }
    }

    /// After the `{` of a table or filter chain: newlines, from 7.5 on (before, the first element follows).
    mutating func skipNewlinesAfterBrace() throws(TableError) {
        if version.has(.multiLineBraces) { try skipNewlines() }
    }

    /// Reads the character `c` if it is next.
    mutating func accept(char c: Character) throws(TableError) -> Bool {
        guard tok.isChar(c) else { return false }
        _ = try advance()
        return true
    }

    /// `KEYWORD STRING` for an option given at most once: reads both, then marks `what` as given.
    mutating func stringOption(_ what: String, _ given: inout GivenOptions) throws(TableError) -> String {
        _ = try advance()
        let value = try expectString()
        try once(what, &given)
        return value
    }

    /// An option that is its keyword alone, given at most once.
    mutating func flagOption(_ what: String, _ given: inout GivenOptions) throws(TableError) {
        _ = try advance()
        try once(what, &given)
    }

    // MARK: options given once

    /// The options of one directive given so far, for smtpd's "X already specified" checks.
    struct GivenOptions {
        /// What follows "already specified" in the message (" for this dispatcher", " for this rule", ...).
        let scope: String
        var names: Set<String> = []

        init(_ scope: String = "") {
            self.scope = scope
        }

        func contains(_ what: String) -> Bool { names.contains(what) }
    }

    /// Marks `what` as given, refusing it the second time with smtpd's "`what` already specified" message.
    func once(_ what: String, _ given: inout GivenOptions) throws(TableError) {
        guard given.names.insert(what).inserted else { throw semantic("\(what) already specified\(given.scope)") }
    }

    // MARK: directive text

    /// The source text from `first` to the last token read, continuation lines joined.
    func text(from first: ConfigToken) -> String {
        guard let start = first.start, let end = previous.end, previous.file == first.file, end >= start,
              let bytes = lexer.bytes(of: first.file), end <= bytes.count
        else {
            return first.text
        }
        let slice = String(decoding: bytes[start..<end], as: UTF8.self)
        var parts: [Substring] = []
        for var line in slice.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasSuffix("\\") { line = line.dropLast() }
            let trimmed = ConfigValues.trimmingBlanks(line)
            if !trimmed.isEmpty { parts.append(trimmed) }
        }
        return parts.joined(separator: " ")
    }

    func location(_ t: ConfigToken) -> ConfigLocation {
        ConfigLocation(file: t.file, line: t.line)
    }

    // MARK: grammar

    mutating func parse() throws(TableError) -> SMTPDConfig {
        while true {
            switch tok.kind {
            case .end:
                config.macros = lexer.macros.map { m in
                    config.macros.first(where: { $0.name == m.name && $0.value == m.value })
                        ?? MacroDefinition(name: m.name, value: m.value, location: ConfigLocation(file: topPath, line: 0))
                }
                config.includedFiles = Array(lexer.filesRead.dropFirst())
                if config.rules.isEmpty {
                    throw TableError(.config, path: topPath, "no rules, nothing to do")
                }
                return config
            case .newline:
                _ = try advance()
                continue
            default:
                try directive()
                guard tok.kind == .newline else { throw syntaxError() }
                _ = try advance()
            }
        }
    }

    /// One directive. Tables, actions and rules go into the model; every other directive is checked by its
    /// part of the grammar and kept as written.
    private mutating func directive() throws(TableError) {
        let first = tok
        switch tok.kind {
        case .keyword(.include):
            _ = try advance()
            let path = try expectString()
            do {
                try lexer.include(path)
            } catch var e {
                e.path = first.file
                e.line = previous.line
                throw e
            }
            return
        case .string:
            let name = try advance().text
            try expectChar("=")
            let value = try expectString()
            if name.contains(where: { $0.isWhitespace }) {
                throw semantic("macro name cannot contain whitespace")
            }
            lexer.define(name, value)
            config.macros.removeAll { $0.name == name }
            config.macros.append(MacroDefinition(name: name, value: value, location: location(first)))
            return
        case .keyword(.table): try tableDirective(); return
        case .keyword(.action): try actionDirective(); return
        case .keyword(.match): try matchDirective(); return
        case .keyword(.listen): try listenDirective()
        case .keyword(.filter): try filterDirective()
        case .keyword(.bounce): try bounceDirective()
        case .keyword(.admd): try admdDirective()
        case .keyword(.ca): try caDirective()
        case .keyword(.pki): try pkiDirective()
        case .keyword(.mda): try mdaDirective()
        case .keyword(.mta): try mtaDirective()
        case .keyword(.proc): try procDirective()
        case .keyword(.queue): try queueDirective()
        case .keyword(.scheduler): try schedulerDirective()
        case .keyword(.smtp): try smtpDirective()
        case .keyword(.srs): try srsDirective()
        default: throw syntaxError()
        }
        config.otherDirectives.append(RawDirective(keyword: first.text, text: text(from: first),
                                                   location: location(first)))
    }
}
