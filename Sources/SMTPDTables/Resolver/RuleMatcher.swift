/// The sender side of a resolution: what smtpd knows of the session a recipient arrived in.
public struct SenderContext: Sendable, Equatable {
    /// The client's address as smtpd writes it (`local` for mail submitted on this machine).
    public var source: String
    /// The client's reverse DNS name (nil: `<unknown>`).
    public var rdns: String?
    /// The `MAIL FROM` address (empty for `<>`).
    public var mailFrom: String
    /// The user name the client authenticated as, if any.
    public var authenticatedUser: String?
    /// The name given in `HELO`/`EHLO`.
    public var helo: String
    /// The tag of the listener the mail came in on.
    public var tag: String

    /// A session; the defaults are those of mail submitted on this machine.
    public init(source: String = "local", rdns: String? = nil, mailFrom: String = "",
                authenticatedUser: String? = nil, helo: String = "localhost", tag: String = "") {
        self.source = source
        self.rdns = rdns
        self.mailFrom = mailFrom
        self.authenticatedUser = authenticatedUser
        self.helo = helo
        self.tag = tag
    }
}

/// upstream ruleset.c `ruleset_match`: the first rule whose every condition holds.
struct RuleMatcher {
    enum Outcome {
        case matched(Int)
        case none
        /// A condition could not be evaluated (smtpd: EAGAIN, a temporary failure).
        case tempfail
    }

    let tables: ConfigTables
    let sender: SenderContext

    /// `isInternal` is smtpd's EF_INTERNAL: the address was produced by an expansion, its source is `local`.
    func match(_ dest: MailAddress, isInternal: Bool) throws(TableError) -> Outcome {
        for (index, rule) in tables.config.rules.enumerated() {
            switch try evaluate(rule, dest: dest, isInternal: isInternal) {
            case -1: return .tempfail
            case 0: continue
            default: return .matched(index)
            }
        }
        return .none
    }

    private struct Check {
        var table: TableReference?
        var service: TableService
        var negated: Bool
    }

    /// 1 matched, 0 not, -1 temporary failure; conditions in smtpd's order (tag, from, for, helo, auth, tls,
    /// mail-from, rcpt-to), whatever order they were written in.
    private func evaluate(_ rule: MatchRule, dest: MailAddress, isInternal: Bool) throws(TableError) -> Int {
        var tag: Check?, helo: Check?, auth: Check?, mailFrom: Check?, rcptTo: Check?
        var tls: Bool?
        var from: (table: TableReference?, service: TableService, negated: Bool, socket: Bool, rdns: Bool)?
        var forTable: Check?
        let localhost = TableReference.named("<localhost>"), anyhost = TableReference.named("<anyhost>")
        let localnames = TableReference.named("<localnames>"), anydest = TableReference.named("<anydestination>")
        for c in rule.conditions {
            let n = c.negated
            switch c.kind {
            case .fromAny: from = (anyhost, .netaddr, n, false, false)
            case .fromLocal: from = (localhost, .netaddr, n, false, false)
            case .fromSocket: from = (nil, .netaddr, n, true, false)
            case .fromSource(let t, let r): from = (t, r ? .regex : .netaddr, n, false, false)
            case .fromRDNS(let t, let r): from = (t, r ? .regex : .netaddr, n, false, true)
            case .fromAuth(let t, let r):
                from = (anyhost, .netaddr, false, false, false)
                auth = Check(table: t, service: r ? .regex : .string, negated: n)
            case .fromMailFrom(let t, let r):
                from = (anyhost, .netaddr, false, false, false)
                mailFrom = Check(table: t, service: r ? .regex : .mailaddr, negated: n)
            case .forAny: forTable = Check(table: anydest, service: .domain, negated: n)
            case .forLocal: forTable = Check(table: localnames, service: .domain, negated: n)
            case .forDomain(let t, let r): forTable = Check(table: t, service: r ? .regex : .domain, negated: n)
            case .forRcptTo(let t, let r):
                forTable = Check(table: anydest, service: .domain, negated: false)
                rcptTo = Check(table: t, service: r ? .regex : .mailaddr, negated: n)
            case .tag(let t, let r): tag = Check(table: t, service: r ? .regex : .string, negated: n)
            case .helo(let t, let r): helo = Check(table: t, service: r ? .regex : .domain, negated: n)
            case .tls: tls = n
            case .auth(let t, let r): auth = Check(table: t, service: r ? .regex : .string, negated: n)
            case .mailFrom(let t, let r): mailFrom = Check(table: t, service: r ? .regex : .mailaddr, negated: n)
            case .rcptTo(let t, let r): rcptTo = Check(table: t, service: r ? .regex : .mailaddr, negated: n)
            }
        }
        if rule.matchesFromLocalByDefault { from = (localhost, .netaddr, false, false, false) }
        if rule.matchesForLocalByDefault { forTable = Check(table: localnames, service: .domain, negated: false) }

        func result(_ r: Bool, _ negated: Bool) -> Int { (r != negated) ? 1 : 0 }
        func lookup(_ t: TableReference?, _ service: TableService, _ key: String) throws(TableError) -> Bool {
            guard let t else { return true }
            return try tables.table(t).contains(key, service: service)
        }

        if let tag, try result(lookup(tag.table, tag.service, sender.tag), tag.negated) == 0 { return 0 }
        if let from {
            var key = sender.source
            let service = from.service
            if isInternal {
                guard from.table != nil else { return 0 }
                key = "local"
            } else if from.rdns {
                let has = sender.rdns != nil
                if from.table == nil { if result(has, from.negated) == 0 { return 0 } else { key = "" } }
                else if !has { return 0 }
                else { key = sender.rdns ?? "" }
            } else if from.socket {
                if key == "local" { if from.negated { return 0 } } else if !from.negated { return 0 }
            }
            if !from.socket, !(from.rdns && from.table == nil && !isInternal),
               try result(lookup(from.table, service, key), from.negated) == 0 { return 0 }
        }
        if let forTable, try result(lookup(forTable.table, forTable.service, dest.domain), forTable.negated) == 0 {
            return 0
        }
        if let helo, try result(lookup(helo.table, helo.service, sender.helo), helo.negated) == 0 { return 0 }
        if let auth {
            var r = false
            if let user = sender.authenticatedUser {
                let service: TableService = auth.service == .regex ? .regex : (user.contains("@") ? .mailaddr : .string)
                r = try lookup(auth.table, service, user)
            }
            if result(r, auth.negated) == 0 { return 0 }
        }
        if tls != nil { return -1 }
        if let mailFrom, try result(lookup(mailFrom.table, mailFrom.service, sender.mailFrom), mailFrom.negated) == 0 {
            return 0
        }
        if let rcptTo, try result(lookup(rcptTo.table, rcptTo.service, "\(dest.user)@\(dest.domain)"),
                                  rcptTo.negated) == 0 { return 0 }
        return 1
    }
}
