#if canImport(Glibc)
import Glibc
#endif

/// `table NAME ...` declarations, and the `<table>` arguments of actions, rules, filters and listeners.
extension ConfigParser {
    mutating func tableDirective() throws(TableError) {
        let first = try advance()
        let name = try expectString()
        if tableIndex[name] != nil {
            throw semantic("table \"\(name)\" already defined")
        }
        if tok.isChar("{") {
            _ = try advance()
            try skipNewlinesAfterBrace()
            addTable(TableDeclaration(name: name, backend: .inline, config: nil, entries: try tableValues(),
                                      location: location(first)))
            return
        }
        // `BACKEND:CONFIG`, `BACKEND` alone, or a bare absolute path (a file table).
        let spec = try expectString()
        let backendName: Substring
        var configString: String?
        if spec.hasPrefix("/") {
            backendName = "file"
            configString = spec
        } else if let colon = spec.firstIndex(of: ":") {
            backendName = spec[..<colon]
            configString = String(spec[spec.index(after: colon)...])
        } else {
            backendName = spec[...]
        }
        let backend: TableBackend
        switch backendName {
        case "file", "static": backend = .file
        case "db": backend = .db
        default: backend = .other(String(backendName))
        }
        if let c = configString, !c.hasPrefix("/") {
            throw semantic("invalid backend parameter for table: \(name)")
        }
        // smtpd's table_config opens file and db tables: a file table must parse (its kind is then checked
        // against its uses), a db must be readable.
        var kind: TableKind?
        if checkTableFiles, backend == .file || backend == .db {
            let path = configString ?? ""
            if backend == .file {
                kind = ConfigValues.fileTableKind(path: path)
            }
            if configString == nil || (backend == .file ? kind == nil : access(path, R_OK) != 0) {
                throw semantic("invalid configuration file \(configString ?? "(null)") for table \(name)")
            }
        }
        addTable(TableDeclaration(name: name, backend: backend, config: configString, location: location(first)),
                 kind: kind)
    }

    /// Records a table; an inline table's kind is known from its entries.
    mutating func addTable(_ decl: TableDeclaration, kind: TableKind? = nil) {
        tableIndex[decl.name] = config.tables.count
        tableKinds[decl.name] = kind ?? decl.inlineKind
        config.tables.append(decl)
    }

    /// `tableval_list '}'`: a list of words, or of `key = value` (or `key => value`) pairs, separated by
    /// commas, newlines or nothing; the opening brace is already read.
    mutating func tableValues() throws(TableError) -> [InlineTableEntry] {
        var entries: [InlineTableEntry] = []
        var mapping: Bool?
        while true {
            let key = try expectString()
            let isPair = tok.isChar("=") || tok.kind == .arrow
            if mapping == nil { mapping = isPair }
            if isPair != mapping { throw syntaxError() }
            if isPair {
                _ = try advance()
                entries.append(InlineTableEntry(key: key, value: try expectString()))
            } else {
                entries.append(InlineTableEntry(key: key))
            }
            if try endOfList() { return entries }
        }
    }

    /// After an element of a braced list: `',' optnl` (more follows), or `nl`/nothing then either another
    /// element or `optnl '}'`. True when the closing brace was read.
    mutating func endOfList() throws(TableError) -> Bool {
        if !version.has(.multiLineBraces) {
            // Before 7.5 (parse.y `comma: ',' | nl | empty`): a newline separates two elements, alone; none
            // after a comma, after `{` or before `}`.
            if try accept(char: ",") { return false }
            if tok.kind == .newline {
                try skipNewlines()
                if tok.isChar("}") { throw syntaxError() }
                return false
            }
            if try accept(char: "}") { return true }
            return false
        }
        if tok.isChar(",") {
            _ = try advance()
            try skipNewlines()
            return false
        }
        try skipNewlines()
        guard tok.isChar("}") else { return false }
        _ = try advance()
        return true
    }

    /// `tables`: `<name>`, `{ ... }` or a single word (an anonymous list of one).
    mutating func tables() throws(TableError) -> TableReference {
        if tok.isChar("<") {
            _ = try advance()
            let name = try expectString()
            try expectChar(">")
            guard tableIndex[name] != nil else { throw semantic("no such table: \(name)") }
            return .named(name)
        }
        let first = tok
        let entries: [InlineTableEntry]
        if tok.isChar("{") {
            _ = try advance()
            try skipNewlinesAfterBrace()
            entries = try tableValues()
        } else if tok.isString {
            entries = [InlineTableEntry(key: try advance().text)]
        } else {
            throw syntaxError()
        }
        let decl = TableDeclaration(name: "<dynamic:\(anonymousCount)>", backend: .inline, config: nil,
                                    entries: entries, isAnonymous: true, location: location(first))
        anonymousCount += 1
        addTable(decl)
        return .inline(decl)
    }

    /// True when a table may start here (after an optional-table keyword such as `auth` or `rdns`).
    var tableStarts: Bool { tok.isString || tok.isChar("{") || tok.isChar("<") }

    /// `[regex] tables`: a table of patterns when `regex` is given.
    mutating func regexTable() throws(TableError) -> (TableReference, regex: Bool) {
        let regex = try accept(.regex)
        return (try tables(), regex)
    }

    /// `[[regex] tables]`: the table is optional, unless `regex` is given.
    mutating func optionalRegexTable() throws(TableError) -> (TableReference?, regex: Bool) {
        let regex = try accept(.regex)
        guard regex || tableStarts else { return (nil, false) }
        return (try tables(), regex)
    }

    /// smtpd's `table_check_use`: a table whose kind is known must be one of `allow`.
    func check(_ t: TableReference, allow: Set<TableKind>, _ message: String) throws(TableError) {
        if let kind = tableKinds[t.name], !allow.contains(kind) {
            throw semantic("table \"\(t.name)\" may not be used for \(message) lookups")
        }
    }
}
