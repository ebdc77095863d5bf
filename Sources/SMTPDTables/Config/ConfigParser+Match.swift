/// A short name for the condition constructors the helpers below are given.
private typealias Condition = MatchConditionKind

/// `match [!]condition ... action NAME | reject`: the rules, in order.
extension ConfigParser {
    mutating func matchDirective() throws(TableError) {
        let first = try advance()
        var conditions: [MatchCondition] = []
        var given = GivenOptions(" for this rule")
        while true {
            var negated = false
            if tok.isChar("!") {
                _ = try advance()
                negated = true
            }
            let kind: MatchConditionKind
            switch tok.kind {
            case .keyword(.tag): kind = try condition("tag", &given, Condition.tag)
            case .keyword(.helo): kind = try condition("helo", &given, Condition.helo)
            case .keyword(.tls):
                try flagOption("tls", &given)
                kind = .tls
            case .keyword(.auth): kind = try optionalCondition("auth", &given, mapping: true, Condition.auth)
            case .keyword(.mailFrom): kind = try condition("mail-from", &given, mapping: true, Condition.mailFrom)
            case .keyword(.rcptTo): kind = try condition("rcpt-to", &given, mapping: true, Condition.rcptTo)
            case .keyword(.from):
                _ = try advance()
                switch tok.kind {
                case .keyword(.socket): try flagOption("from", &given); kind = .fromSocket
                case .keyword(.local): try flagOption("from", &given); kind = .fromLocal
                case .keyword(.any): try flagOption("from", &given); kind = .fromAny
                case .keyword(.src): kind = try condition("from", &given, Condition.fromSource)
                case .keyword(.rdns): kind = try optionalCondition("from", &given, lookup: "rdns", Condition.fromRDNS)
                case .keyword(.auth):
                    kind = try optionalCondition("from", &given, lookup: "from", Condition.fromAuth)
                    // smtpd reads it as `from any` and `auth`: a later `auth` is given twice.
                    given.names.insert("auth")
                case .keyword(.mailFrom):
                    kind = try condition("from", &given, mapping: true, Condition.fromMailFrom)
                    given.names.insert("mail-from")
                default:
                    throw syntaxError()
                }
            case .keyword(.for):
                _ = try advance()
                switch tok.kind {
                case .keyword(.local): try flagOption("for", &given); kind = .forLocal
                case .keyword(.any): try flagOption("for", &given); kind = .forAny
                case .keyword(.domain): kind = try condition("for", &given, lookup: "'for'", Condition.forDomain)
                case .keyword(.rcptTo):
                    kind = try condition("for", &given, mapping: true, Condition.forRcptTo)
                    given.names.insert("rcpt-to")
                default:
                    throw syntaxError()
                }
            default:
                if negated { throw syntaxError() }
                let decision: MatchDecision
                if try accept(.reject) {
                    decision = .reject
                } else if try accept(.action) {
                    let name = try expectString()
                    if !actionNames.contains(name) { throw semantic("no such dispatcher: \(name)") }
                    decision = .action(name)
                } else {
                    throw syntaxError()
                }
                config.rules.append(MatchRule(conditions: conditions, decision: decision,
                                              text: text(from: first), location: location(first)))
                return
            }
            conditions.append(MatchCondition(negated: negated, kind))
        }
    }

    /// `KEYWORD [regex] <table>`: marks `what` as given and checks the table's kind for `lookup` lookups
    /// (`what` unless named): a list, or a mapping too where `mapping` and no regex.
    private mutating func condition(_ what: String, _ given: inout GivenOptions, lookup: String? = nil,
                                    mapping: Bool = false,
                                    _ kind: (TableReference, Bool) -> MatchConditionKind) throws(TableError)
        -> MatchConditionKind {
        _ = try advance()
        let (t, regex) = try regexTable()
        try checkCondition(t, regex: regex, what, &given, lookup: lookup, mapping: mapping)
        return kind(t, regex)
    }

    /// `KEYWORD [[regex] <table>]`: as `condition`, the table optional.
    private mutating func optionalCondition(_ what: String, _ given: inout GivenOptions, lookup: String? = nil,
                                            mapping: Bool = false,
                                            _ kind: (TableReference?, Bool) -> MatchConditionKind) throws(TableError)
        -> MatchConditionKind {
        _ = try advance()
        let (t, regex) = try optionalRegexTable()
        try checkCondition(t, regex: regex, what, &given, lookup: lookup, mapping: mapping)
        return kind(t, regex)
    }

    private func checkCondition(_ t: TableReference?, regex: Bool, _ what: String, _ given: inout GivenOptions,
                                lookup: String?, mapping: Bool) throws(TableError) {
        try once(what, &given)
        // Mapping tables (a user's allowed addresses) came with 7.5.
        let mappings = mapping && !regex && version.has(.matchMappingTables)
        if let t { try check(t, allow: mappings ? [.list, .mapping] : [.list], lookup ?? what) }
    }
}
