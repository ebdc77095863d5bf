/// `action NAME METHOD [options]`: a dispatcher and its local or relay options.
extension ConfigParser {
    mutating func actionDirective() throws(TableError) {
        let first = try advance()
        let name = try expectString()
        if actionNames.contains(name) {
            throw semantic("dispatcher already declared with that name: \(name)")
        }
        let method: DeliveryMethod
        switch tok.kind {
        case .keyword(.mbox): _ = try advance(); method = .mbox
        case .keyword(.forwardOnly): _ = try advance(); method = .forwardOnly
        case .keyword(.expandOnly): _ = try advance(); method = .expandOnly
        case .keyword(.relay): _ = try advance(); method = .relay
        case .keyword(.maildir):
            _ = try advance()
            let path: String? = try tok.isString ? advance().text : nil
            method = .maildir(path: path, junk: try accept(.junk))
        case .keyword(.lmtp):
            _ = try advance()
            let dest = try expectString()
            method = .lmtp(destination: dest, rcptTo: try accept(.rcptTo))
        case .keyword(.mda):
            _ = try advance()
            method = .mda(command: try expectString())
        default:
            throw syntaxError()
        }
        var options: [ActionOption] = []
        var given = GivenOptions(" for this dispatcher")
        if method.isLocal {
            try localOptions(method, &options, &given)
        } else {
            try relayOptions(&options, &given)
        }
        while try accept(.ttl) {
            let d = try expectString()
            try once("ttl", &given)
            if ConfigValues.delay(d) == nil { throw semantic("ttl delay \"\(d)\" is invalid") }
            options.append(.ttl(d))
        }
        actionNames.insert(name)
        config.actions.append(ActionDeclaration(name: name, method: method, options: options,
                                                text: text(from: first), location: location(first)))
    }

    /// `KEYWORD tables` for an option given at most once: reads both, marks `what` as given, applies `refuse`
    /// (a message when the option may not be given beside the others), then checks the table's kind.
    mutating func tableOption(_ what: String, _ given: inout GivenOptions, allow: Set<TableKind>, lookup: String,
                              refuse: (GivenOptions) -> String? = { _ in nil }) throws(TableError) -> TableReference {
        _ = try advance()
        let t = try tables()
        try once(what, &given)
        if let message = refuse(given) { throw semantic(message) }
        try check(t, allow: allow, lookup)
        return t
    }

    private mutating func localOptions(_ method: DeliveryMethod, _ options: inout [ActionOption],
                                       _ given: inout GivenOptions) throws(TableError) {
        /// alias and virtual exclude each other.
        func other(_ what: String) -> (GivenOptions) -> String? {
            { $0.contains(what) ? "\(what) already specified for this dispatcher" : nil }
        }
        while true {
            switch tok.kind {
            case .keyword(.user):
                _ = try advance()
                let u = try expectString()
                if method == .mbox { throw semantic("user may not be specified for this dispatcher") }
                if method == .forwardOnly { throw semantic("user may not be specified for forward-only") }
                if method == .expandOnly { throw semantic("user may not be specified for expand-only") }
                try once("user", &given)
                options.append(.user(u))
            case .keyword(.alias):
                options.append(.alias(try tableOption("alias mapping", &given, allow: [.mapping], lookup: "alias",
                                                      refuse: other("virtual mapping"))))
            case .keyword(.virtual):
                options.append(.virtual(try tableOption("virtual mapping", &given, allow: [.mapping],
                                                        lookup: "virtual", refuse: other("alias mapping"))))
            case .keyword(.userbase):
                options.append(.userbase(try tableOption("userbase mapping", &given, allow: [.mapping],
                                                         lookup: "userbase")))
            case .keyword(.wrapper):
                _ = try advance()
                let w = try expectString()
                if !mdaWrappers.contains(w) { throw semantic("no mda wrapper with that name: \(w)") }
                options.append(.wrapper(w))
            default:
                return
            }
        }
    }

    private mutating func relayOptions(_ options: inout [ActionOption],
                                       _ given: inout GivenOptions) throws(TableError) {
        while true {
            switch tok.kind {
            case .keyword(.helo): options.append(.helo(try stringOption("helo", &given)))
            case .keyword(.pki): options.append(.pki(try stringOption("pki", &given)))
            case .keyword(.ca): options.append(.ca(try stringOption("ca", &given)))
            case .keyword(.ciphers): options.append(.ciphers(try stringOption("ciphers", &given)))
            case .keyword(.protocols): options.append(.protocols(try stringOption("protocols", &given)))
            case .keyword(.mailFrom): options.append(.mailFrom(try stringOption("mail-from", &given)))
            case .keyword(.heloSrc):
                options.append(.heloSource(try tableOption("helo-source mapping", &given, allow: [.mapping],
                                                           lookup: "helo-source")))
            case .keyword(.src):
                options.append(.source(try tableOption("source mapping", &given, allow: [.list, .mapping],
                                                       lookup: "source")))
            case .keyword(.backup):
                _ = try advance()
                let mx: String? = try accept(.mx) ? expectString() : nil
                try once("backup", &given)
                if given.contains("host mapping") { throw semantic("backup and host are mutually exclusive") }
                options.append(.backup(mx: mx))
            case .keyword(.host), .keyword(.domain):
                let isHost = tok.isKeyword(.host)
                let t = try tableOption("host mapping", &given, allow: isHost ? [.list] : [.mapping], lookup: "host") {
                    $0.contains("backup") ? "backup and \(isHost ? "host" : "domain") are mutually exclusive" : nil
                }
                options.append(isHost ? .host(t) : .domain(t))
            case .keyword(.tls):
                _ = try advance()
                let noVerify = try accept(.noVerify)
                try once("tls", &given)
                options.append(.tls(verify: !noVerify))
            case .keyword(.auth):
                // Given twice needs a host the first time, so checking once before the host changes no verdict.
                options.append(.auth(try tableOption("auth mapping", &given, allow: [.mapping], lookup: "auth") {
                    $0.contains("host mapping") ? nil : "auth may not be specified without host on a dispatcher"
                }))
            case .keyword(.filter):
                _ = try advance()
                if tok.isString {
                    let f = try advance().text
                    try once("filter", &given)
                    try checkFilterExists(f)
                    options.append(.filter(name: f, chain: []))
                } else {
                    try once("filter", &given)
                    options.append(.filter(name: nil, chain: try filterChain()))
                }
            case .keyword(.srs):
                _ = try advance()
                if !hasSRSKey { throw semantic("an srs key is required for srs to be specified in an action") }
                try once("srs", &given)
                options.append(.srs)
            default:
                return
            }
        }
    }
}
