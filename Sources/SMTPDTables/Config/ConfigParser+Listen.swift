/// `listen on socket [options]` and `listen on INTERFACE [options]`.
extension ConfigParser {
    mutating func listenDirective() throws(TableError) {
        let first = try advance()
        try expect(.on)
        var given = GivenOptions()
        var listener = ListenerDeclaration(interface: "", location: location(first))
        if try accept(.socket) {
            listener.interface = "socket"
            while try sharedListenOption(&listener, &given) {}
            if hasSocketListener { throw semantic("socket listener already configured") }
            hasSocketListener = true
            config.listeners.append(listener)
            return
        }
        listener.interface = try expectString()
        var pkis: [String] = []
        var ca: String?
        while try interfaceOption(&listener, &given, &pkis, &ca) {}
        // create_if_listener and config_listener (smtpd exits there without a line number).
        let tls = given.contains("TLS mode")
        if given.contains("auth") && !tls { throw semantic("invalid listen option: auth requires tls/smtps") }
        if !pkis.isEmpty && !tls { throw semantic("invalid listen option: pki requires tls/smtps") }
        if pkis.isEmpty && tls && version.has(.listenerTLSOptions) {
            throw semantic("invalid listen option: pki required for tls/smtps")
        }
        // `pki` declarations are folded to lower case; before 7.3 a listener's names were folded too.
        for p in pkis where !pkiNames.contains(version.has(.pkiNamesAsWritten) ? p : p.lowercased()) {
            throw semantic("pki name not found: \(p)")
        }
        if let ca, !caNames.contains(ca.lowercased()) { throw semantic("ca name not found: \(ca)") }
        config.listeners.append(listener)
    }

    /// One option both kinds of listener take; false at anything else.
    private mutating func sharedListenOption(_ listener: inout ListenerDeclaration,
                                             _ given: inout GivenOptions) throws(TableError) -> Bool {
        switch tok.kind {
        case .keyword(.filter):
            _ = try advance()
            try once("filter", &given)
            if tok.isString {
                try checkFilterExists(try advance().text)
            } else {
                _ = try filterChain()
            }
        case .keyword(.maskSrc): try flagOption("mask-source", &given)
        case .keyword(.noDSN): try flagOption("no-dsn", &given)
        case .keyword(.tag):
            let t = try stringOption("tag", &given)
            if t.utf8.count >= 33 { throw semantic("tag name too long") }
            listener.tag = t
        default:
            return false
        }
        return true
    }

    /// One option of `listen on INTERFACE`; false at anything else.
    private mutating func interfaceOption(_ listener: inout ListenerDeclaration, _ given: inout GivenOptions,
                                          _ pkis: inout [String], _ ca: inout String?) throws(TableError) -> Bool {
        switch tok.kind {
        case .keyword(.inet4), .keyword(.inet6): try flagOption("address family", &given)
        case .keyword(.receivedAuth): try flagOption("received-auth", &given)
        case .keyword(.proxyV2): try flagOption("proxy-v2", &given)
        case .keyword(.port):
            _ = try advance()
            let port = tok
            if port.kind == .number || port.isKeyword(.smtp) || port.isKeyword(.smtps) {
                _ = try advance()
            } else {
                _ = try expectString()
            }
            try once("port", &given)
            if port.kind == .number, port.number <= 0 || port.number > 65535 {
                throw semantic("invalid port: \(port.number)")
            }
            if port.isString, !ConfigValues.isServiceName(port.text) { throw semantic("invalid port: \(port.text)") }
        case .keyword(.smtps), .keyword(.tls), .keyword(.tlsRequire):
            let verifiable = !tok.isKeyword(.tls)
            _ = try advance()
            if verifiable { _ = try accept(.verify) }
            try once("TLS mode", &given)
        case .keyword(.ciphers), .keyword(.protocols):
            guard version.has(.listenerTLSOptions) else { throw syntaxError() }
            _ = try stringOption(tok.text, &given)
        case .keyword(.pki):
            _ = try advance()
            pkis.append(try expectString())
            if pkis.count > 1 && !version.has(.listenerTLSOptions) { throw semantic("pki already specified") }
            if pkis.count > 32 { throw semantic("too many pki specified") }
        case .keyword(.ca):
            ca = try stringOption("ca", &given)
        case .keyword(.auth), .keyword(.authOptional):
            _ = try advance()
            let t: TableReference? = try tableStarts ? tables() : nil
            try once("auth", &given)
            listener.auth = t
        case .keyword(.hostname):
            listener.hostname = try stringOption("hostname", &given)
        case .keyword(.hostnames), .keyword(.senders):
            let senders = tok.isKeyword(.senders)
            _ = try advance()
            let t = try tables()
            if senders { _ = try accept(.masquerade) }
            try once(senders ? "senders" : "hostnames", &given)
            if tableKinds[t.name] == .list {
                throw semantic("invalid use of table \"\(t.name)\" as \(senders ? "SENDERS" : "HOSTNAMES") parameter")
            }
            if senders { listener.senders = t } else { listener.hostnames = t }
        default:
            return try sharedListenOption(&listener, &given)
        }
        return true
    }
}
