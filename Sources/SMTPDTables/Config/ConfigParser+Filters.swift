/// `filter NAME ...` declarations (proc, proc-exec, phase checks, chains) and the filters actions and
/// listeners name.
extension ConfigParser {
    mutating func filterDirective() throws(TableError) {
        _ = try advance()
        let name = try expectString()
        func checkNew() throws(TableError) {
            if filters[name] != nil { throw semantic("filter already exists with that name: \(name)") }
        }
        switch tok.kind {
        case .keyword(.proc):
            _ = try advance()
            let p = try expectString()
            try checkNew()
            if !processors.contains(p) { throw semantic("no processor exist with that name: \(p)") }
            filters[name] = (false, p)
        case .keyword(.procExec):
            _ = try advance()
            _ = try expectString()
            try checkNew()
            filters[name] = (false, name)
            try procParams()
            processors.insert(name)
        case .keyword(.phase):
            _ = try advance()
            try checkNew()
            filters[name] = (false, nil)
            try filterPhase()
        case .keyword(.chain):
            _ = try advance()
            try checkNew()
            _ = try filterChain()
            filters[name] = (true, nil)
        default:
            throw syntaxError()
        }
    }

    func checkFilterExists(_ name: String) throws(TableError) {
        if filters[name] == nil { throw semantic("no filter exist with that name: \(name)") }
    }

    /// `'{' optnl filter_list '}'`: the names of a filter chain.
    mutating func filterChain() throws(TableError) -> [String] {
        try expectChar("{")
        try skipNewlinesAfterBrace()
        var names: [String] = []
        var procs: Set<String> = []
        repeat {
            let name = try expectString()
            guard let f = filters[name] else { throw semantic("no filter exist with that name: \(name)") }
            if f.chain { throw semantic("no filter chain allowed within a filter chain: \(name)") }
            if names.contains(name) { throw semantic("no filter allowed twice within a filter chain: \(name)") }
            if let p = f.proc {
                if procs.contains(p) { throw semantic("no proc allowed twice within a filter chain: \(p)") }
                procs.insert(p)
            }
            names.append(name)
        } while try !endOfList()
        return names
    }

    /// `filter NAME phase PHASE match [!]CHECK [...] DECISION`.
    private mutating func filterPhase() throws(TableError) {
        // Which checks each phase accepts (parse.y filter_phase_*_options).
        let global: Set<String> = ["fcrdns", "rdns", "src"]
        let allowed: Set<String>
        var junk = true
        switch tok.kind {
        case .keyword(.connect): allowed = global
        case .keyword(.helo), .keyword(.ehlo): allowed = global.union(["helo"])
        case .keyword(.auth): allowed = global.union(["helo", "auth"])
        case .keyword(.mailFrom), .keyword(.data): allowed = global.union(["helo", "auth", "mail-from"])
        case .keyword(.rcptTo): allowed = global.union(["helo", "auth", "mail-from", "rcpt-to"])
        case .keyword(.commit):
            allowed = global.union(["helo", "auth", "mail-from"])
            junk = false
        default: throw syntaxError()
        }
        _ = try advance()
        try expect(.match)
        if tok.isChar("!") { _ = try advance() }
        let check: String
        switch tok.kind {
        case .keyword(.fcrdns), .keyword(.rdns), .keyword(.src), .keyword(.helo), .keyword(.auth),
             .keyword(.mailFrom), .keyword(.rcptTo):
            check = tok.text
        default: throw syntaxError()
        }
        guard allowed.contains(check) else { throw syntaxError() }
        _ = try advance()
        switch check {
        case "fcrdns": break
        case "rdns", "auth": _ = try optionalRegexTable()
        default: _ = try regexTable()
        }
        switch tok.kind {
        case .keyword(.junk), .keyword(.bypass):
            guard junk else { throw syntaxError() }
            _ = try advance()
        case .keyword(.reject), .keyword(.disconnect), .keyword(.rewrite), .keyword(.report):
            _ = try advance()
            _ = try expectString()
        default:
            throw syntaxError()
        }
    }
}
