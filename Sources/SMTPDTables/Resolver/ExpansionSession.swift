#if canImport(Glibc)
import Glibc
#endif

/// One recipient's expansion (upstream lka_session.c `lka_expand`, `lka_submit`; expand.c `expand_insert`;
/// aliases.c `aliases_get`, `aliases_virtual_get`, `aliases_expand_include`; forward.c `forwards_get`).
struct ExpansionSession {
    static let maxDepth = 10
    static let maxForwardNodes = 100
    static let permfailList = "524 5.2.4 Mailing list expansion problem"
    static let tempfailList = "424 4.2.4 Mailing list expansion problem"

    /// A node as smtpd keeps it: the comparison fields of `expand_cmp` plus the flags lka_session sets.
    struct XNode {
        var kind: ResolutionNode.Kind
        /// `u.user` / `u.buffer`, or the address's user part (with the delimiter replaced by NUL once the
        /// tag was cut, as smtpd cuts it in place).
        var payload: [UInt8]
        var domain: [UInt8] = []
        var parent: Int?
        var depth = 0
        var rule: Int?
        var sameuser = false
        var realuser = false
        var realuserUID: UInt32 = 0
        var forwarded = false
        var subaddress = ""
        /// The account the userbase returned (smtpd delivers to it: `Alice` in an alias is user `alice`).
        var account: String?
        var duplicate = false
        var table: String?
        var key: String?
        /// The keys looked up to expand it (explanations only).
        var lookups: [ResolutionLookup] = []

        var user: String { String(decoding: payload.prefix { $0 != 0 }, as: UTF8.self) }
        /// The node as smtpd prints it: a user name stops at the NUL the tag cut left (`dave+box` is shown as
        /// `dave` once delivered, its tag is in `subaddress`).
        var text: String {
            switch kind {
            case .address:
                return "\(String(decoding: payload, as: UTF8.self))@\(String(decoding: domain, as: UTF8.self))"
            case .username: return user
            default: return String(decoding: payload, as: UTF8.self)
            }
        }
    }

    enum Failure { case perm, temp }

    let resolver: Resolver
    let recipient: MailAddress
    var nodes: [XNode] = []
    var queue: [Int] = []
    var head = 0
    var error: Failure?
    var message: String?
    /// Why it failed, in words (explanations only).
    var reason: String?
    var failed: Int?
    var deliveries: [Delivery] = []
    var refusals: [DeliveryRefusal] = []
    var ruleTexts: [Int: String] = [:]
    /// The envelope's recipient once SRS-decoded (before 7.3, only it was decoded; see `srsDecode`).
    var envelopeRecipient: MailAddress?
    var nodeCount = 0
    /// Verdicts of earlier resolutions that this one may take instead of expanding a user again (`check`);
    /// nil for a real resolution, which always expands everything.
    var memo: ExpansionMemo?
    /// Users not expanded because `memo` knew them to resolve: each stands for at least one delivery.
    var memoDeliveries = 0
    /// The deepest node expanded (or, for a user taken from `memo`, the deepest its expansion would reach).
    var deepest = 0
    /// Whether the verdict may differ from a full resolution's: a `~/.forward` was read, and smtpd's limit on
    /// the nodes a forward file may add counts every node of the session, which `memo` leaves out.
    var verdictUntrusted = false
    /// The context of insertions (smtpd's `expand->rule` and `expand->parent`).
    var currentRule: Int?
    var currentParent: Int?
    /// The nodes `insert` compares a new node with: the non-duplicate ones, by the fields of `same` that never
    /// change once inserted. A 100k-line include would otherwise compare every pair of nodes.
    private var comparable: [NodeKey: [Int]] = [:]

    /// Kind, domain and payload, with the subaddress delimiter read as NUL: cutting a tag writes a NUL over
    /// the delimiter in place, and the node must stay where it was filed.
    private struct NodeKey: Hashable {
        let kind: ResolutionNode.Kind
        let payload: [UInt8]
        let domain: [UInt8]
    }

    init(resolver: Resolver, recipient: MailAddress) {
        self.resolver = resolver
        self.recipient = recipient
    }

    var config: SMTPDConfig { resolver.config }
    var version: SMTPDVersion { resolver.options.smtpdVersion }

    mutating func run(input: String) throws(TableError) -> Resolution {
        insert(XNode(kind: .address, payload: Array(recipient.user.utf8), domain: Array(recipient.domain.utf8)))
        while error == nil, head < queue.count {
            let index = queue[head]
            head += 1
            deepest = max(deepest, nodes[index].depth)
            try expand(index)
            if error != nil, failed == nil { failed = index }
        }
        if error == nil, deliveries.isEmpty, memoDeliveries == 0 {
            error = .perm
            message = Self.permfailList
            if let loop = nodes.indices.first(where: { nodes[$0].duplicate }) {
                failed = failed ?? loop
                reason = "the expansion produced no delivery: \(nodes[loop].text) was reached again and discarded "
                    + "(a loop)"
            } else {
                failed = failed ?? 0
                reason = "the expansion produced no delivery"
            }
        }
        var reply: String?
        if let error {
            let line = message ?? (error == .perm ? "550 Invalid recipient" : "451 Temporary failure")
            reply = "\(line): <\(recipient)>"
        }
        let rootRule = nodes.first?.rule
        let out = nodes.enumerated().map { i, n in
            ResolutionNode(id: i, parent: n.parent, kind: n.kind, value: n.text, depth: n.depth, table: n.table,
                           key: n.key, rule: n.kind == .address ? n.rule.map { config.rules[$0].text } : nil,
                           action: n.kind == .address ? n.rule.flatMap { config.rules[$0].actionName } : nil,
                           duplicate: n.duplicate, lookups: n.lookups)
        }
        return Resolution(input: input, address: recipient.description, accepted: error == nil, reply: reply,
                          rule: rootRule.map { config.rules[$0].text },
                          action: rootRule.flatMap { config.rules[$0].actionName },
                          nodes: out, deliveries: deliveries, refusals: error == nil ? refusals : [],
                          failedNode: error == nil ? nil : failed, reason: error == nil ? nil : reason)
    }

    // MARK: expand.c

    private func ancestor(_ start: Int?, _ kind: ResolutionNode.Kind) -> Int? {
        var p = start
        while let i = p, nodes[i].kind != kind { p = nodes[i].parent }
        return p
    }

    /// expand.c `expand_cmp` == 0, against the node's current flags.
    private func same(_ a: XNode, _ b: XNode) -> Bool {
        guard a.kind == b.kind, a.sameuser == b.sameuser, a.realuser == b.realuser,
              a.payload == b.payload, a.domain == b.domain else { return false }
        if a.parent == b.parent { return true }
        guard let pa = a.parent, let pb = b.parent else { return false }
        guard ancestor(pa, .address) == ancestor(pb, .address) else { return false }
        if a.kind != .file && a.kind != .filter { return true }
        return ancestor(pa, .username) == ancestor(pb, .username)
    }

    private func nodeKey(_ n: XNode) -> NodeKey {
        let delimiter = config.subaddressingDelimiter
        let payload = n.payload.contains(delimiter) ? n.payload.map { $0 == delimiter ? 0 : $0 } : n.payload
        return NodeKey(kind: n.kind, payload: payload, domain: n.domain)
    }

    /// expand.c `expand_insert`; returns whether the node was new.
    @discardableResult
    private mutating func insert(_ node: XNode) -> Bool {
        var n = node
        n.rule = currentRule
        n.parent = currentParent
        if let p = currentParent {
            n.depth = nodes[p].depth + 1
            // strcmp: the parent's name stops at the NUL its cut tag left (`f2+tag` is `f2` by then).
            if n.kind == .username, nodes[p].kind == .username,
               nodes[p].payload.prefix(while: { $0 != 0 }).elementsEqual(n.payload.prefix(while: { $0 != 0 })) {
                n.sameuser = true
            }
        }
        let key = nodeKey(n)
        if let filed = comparable[key], filed.contains(where: { same(nodes[$0], n) }) {
            n.duplicate = true
            nodes.append(n)
            return false
        }
        nodes.append(n)
        comparable[key, default: []].append(nodes.count - 1)
        queue.append(nodes.count - 1)
        nodeCount += 1
        return true
    }

    private func xnode(_ e: ExpansionNode, table: String?, key: String?) -> XNode {
        var x = XNode(kind: e.kind, payload: Array(e.value.utf8))
        if e.kind == .address, let a = e.address {
            x.payload = Array(a.user.utf8)
            x.domain = Array(a.domain.utf8)
        }
        x.table = table
        x.key = key
        return x
    }

    /// expand.c `expand_line` with do_includes 0 (include and forward files): inserts nodes up to the first
    /// element that does not parse; returns false then.
    private mutating func insertLine(_ line: [UInt8], table: String, key: String) -> Bool {
        var ok = true
        var elements: [ArraySlice<UInt8>] = []
        ExpansionNode.splitList(line[...]) { element in
            elements.append(element)
            return true
        } onError: { _ in ok = false }
        // smtpd inserts as it splits; a split error only shows once the good elements are in.
        for element in elements {
            let item = trimmedCSpace(element)
            if item.isEmpty { continue }
            guard let node = ExpansionNode.parse(item) else { return false }
            if node.kind == .include { continue }
            insert(xnode(node, table: table, key: key))
        }
        return ok
    }

    // MARK: aliases.c

    private enum LookupResult { case found(Int), notFound, failed }

    /// Inserts the nodes of an alias value in smtpd's order (its expand tree: by kind, then bytes), expanding
    /// includes in place; the number counted as smtpd's `nbaliases`.
    private mutating func merge(_ value: [ExpansionNode], table: String, key: String) -> Int {
        func order(_ k: ExpansionNode.Kind) -> Int {
            switch k {
            case .username: return 1
            case .file: return 2
            case .filter: return 3
            case .include: return 4
            case .address: return 5
            case .error: return 6
            }
        }
        struct TreeKey: Hashable { let order: Int, payload: [UInt8], domain: [UInt8] }
        var tree: [(Int, XNode, ExpansionNode)] = []
        var inTree = Set<TreeKey>()
        for e in value {
            let x = xnode(e, table: table, key: key)
            let o = order(e.kind)
            guard inTree.insert(TreeKey(order: o, payload: x.payload, domain: x.domain)).inserted else { continue }
            tree.append((o, x, e))
        }
        tree.sort { a, b in
            if a.0 != b.0 { return a.0 < b.0 }
            if a.1.payload != b.1.payload { return a.1.payload.lexicographicallyPrecedes(b.1.payload) }
            return a.1.domain.lexicographicallyPrecedes(b.1.domain)
        }
        var count = 0
        for (_, x, e) in tree {
            if e.kind == .include {
                var shown = x
                shown.parent = currentParent
                shown.depth = currentParent.map { nodes[$0].depth + 1 } ?? 0
                shown.duplicate = false
                nodes.append(shown)  // shown in the tree, never expanded
                comparable[nodeKey(shown), default: []].append(nodes.count - 1)
                guard let lines = ForwardFile.includeLines(path: e.value) else { continue }
                for line in lines { _ = insertLine(line, table: ":include:", key: e.value) }
                count += 1
            } else {
                insert(x)
                count += 1
            }
        }
        return count
    }

    private mutating func lookupAlias(_ table: Table, name: String, key: String) -> LookupResult? {
        func log(_ result: ResolutionLookup.Result) {
            if let p = currentParent { nodes[p].lookups.append(ResolutionLookup(table: name, key: key, result: result)) }
        }
        do {
            guard let value = try table.value(for: key, service: .alias) else { log(.notFound); return nil }
            guard case .alias(let list) = value else { log(.invalid); return .failed }
            log(.found)
            return .found(merge(list, table: name, key: key))
        } catch {
            log(.invalid)
            return .failed
        }
    }

    /// aliases.c `aliases_get`: `user+tag`, then `user`.
    private mutating func aliasesGet(_ reference: TableReference, user: [UInt8]) throws(TableError) -> LookupResult {
        let table = try resolver.tables.table(reference)
        let folded = user.asciiLowercased()
        let delimiter = config.subaddressingDelimiter
        var keys = [folded]
        if let cut = folded.firstIndex(of: delimiter) { keys.append(Array(folded[..<cut])) }
        for key in keys {
            if let r = lookupAlias(table, name: reference.name, key: String(decoding: key, as: UTF8.self)) { return r }
        }
        return .notFound
    }

    /// aliases.c `aliases_virtual_get`: `user+tag@domain`, `user@domain`, `user+tag`, `user`, `@domain`, `@`.
    private mutating func virtualGet(_ reference: TableReference, user: [UInt8], domain: [UInt8]) throws(TableError)
        -> LookupResult
    {
        let table = try resolver.tables.table(reference)
        let delimiter = config.subaddressingDelimiter
        var u = user.asciiLowercased()
        let d = String(decoding: domain.asciiLowercased(), as: UTF8.self)
        var tag: String?
        if let cut = u.firstIndex(of: delimiter) {
            tag = String(decoding: u[(cut + 1)...], as: UTF8.self)
            u = Array(u[..<cut])
        }
        let name = String(decoding: u, as: UTF8.self), sep = String(decoding: [delimiter], as: UTF8.self)
        var keys: [String] = []
        if let tag, !tag.isEmpty { keys.append("\(name)\(sep)\(tag)@\(d)") }
        keys.append("\(name)@\(d)")
        if let tag, !tag.isEmpty { keys.append("\(name)\(sep)\(tag)") }
        keys.append(name)
        if !d.isEmpty { keys += ["@\(d)", "@"] }
        for key in keys {
            if let r = lookupAlias(table, name: reference.name, key: key) { return r }
        }
        return .notFound
    }

    // MARK: lka_session.c

    private mutating func fail(_ f: Failure, _ msg: String? = nil, why: String) {
        error = f
        if message == nil, let msg { message = msg }
        if reason == nil { reason = why }
    }

    /// `<t>: k1, k2 (not found)` for the lookups of node `index`, for reasons.
    private func tried(_ index: Int) -> String {
        let l = nodes[index].lookups
        guard let table = l.first?.table else { return "no key was looked up" }
        return "keys tried in <\(table)>: " + l.map { "\($0.key) (\($0.result.rawValue))" }.joined(separator: ", ")
    }

    /// The key of node `index` whose value is not a valid alias list.
    private func invalidValue(_ index: Int) -> String {
        guard let bad = nodes[index].lookups.last(where: { $0.result == .invalid }) else { return "a lookup failed" }
        return "the value of \(bad.table):\(bad.key) is not a valid alias list (smtpd answers 424, temporary)"
    }

    private func ruleText(_ rule: Int?) -> String { rule.map { "`\(config.rules[$0].text)`" } ?? "no rule" }

    private func action(_ rule: Int?) -> ActionDeclaration? {
        rule.flatMap { config.rules[$0].actionName }.flatMap { config.action(named: $0) }
    }

    private mutating func expand(_ index: Int) throws(TableError) {
        let xn = nodes[index]
        if xn.depth >= Self.maxDepth {
            error = .perm
            message = Self.permfailList
            if reason == nil {
                reason = "depth limit: \(xn.text) is at depth \(xn.depth); smtpd expands nothing at depth "
                    + "\(Self.maxDepth) (8 alias hops before the final user)"
            }
            return
        }
        switch xn.kind {
        case .include:
            return
        case .address:
            var dest = MailAddress(user: String(decoding: xn.payload, as: UTF8.self),
                                   domain: String(decoding: xn.domain, as: UTF8.self))
            var isInternal = xn.parent != nil
            if let decoded = srsDecode(index) {
                isInternal = true
                // 6.8 matched the rules on the address as received and delivered the decoded one.
                if version.has(.srsDecoding) { dest = decoded }
            }
            let xn = nodes[index]
            let matcher = RuleMatcher(tables: resolver.tables, sender: resolver.options.sender)
            let rule: Int
            switch try matcher.match(dest, isInternal: isInternal) {
            case .none:
                fail(.perm, why: "no match rule accepts \(dest) (from \(resolver.options.sender.source), "
                     + (xn.parent == nil ? "as received" : "produced by expansion, from local") + ")")
                return
            case .tempfail: fail(.temp, why: "a table of the match rules could not be read for \(dest)"); return
            case .matched(let r): rule = r
            }
            nodes[index].rule = rule
            guard let dsp = action(rule) else { fail(.perm, why: "the rule \(ruleText(rule)) rejects \(dest)"); return }
            if dsp.method == .relay {
                deliveries.append(.relay(address: xn.text, action: dsp.name))
            } else if let virtual = dsp.virtual {
                currentRule = rule
                currentParent = index
                switch try virtualGet(virtual, user: xn.payload, domain: xn.domain) {
                case .failed: fail(.temp, Self.tempfailList, why: invalidValue(index))
                case .notFound:
                    fail(.perm, Self.permfailList, why: "\(dest) is in no entry of the virtual table (\(tried(index)))")
                case .found(let n) where n == 0:
                    fail(.perm, Self.permfailList, why: "the virtual entry for \(dest) expands to nothing (\(tried(index)))")
                case .found: break
                }
            } else {
                currentRule = rule
                currentParent = index
                insert(XNode(kind: .username, payload: xn.payload.asciiLowercased()))
            }

        case .username:
            guard let dsp = action(xn.rule) else { fail(.perm, why: "the rule \(ruleText(xn.rule)) has no action"); return }
            if let memo, !xn.sameuser, let rule = xn.rule, let known = memo.deepest(rule: rule, user: xn.payload),
               xn.depth - 1 + known < Self.maxDepth {
                // This user, under this rule, resolved without failure on its own, and its whole expansion fits
                // below the depth limit from here: the verdict is the same without expanding it again.
                memoDeliveries += 1
                deepest = max(deepest, xn.depth - 1 + known)
                return
            }
            currentRule = xn.rule
            currentParent = index
            if !xn.sameuser, dsp.alias != nil || dsp.virtual != nil {
                var r = LookupResult.notFound
                if let alias = dsp.alias { r = try aliasesGet(alias, user: xn.payload) }
                if let virtual = dsp.virtual { r = try virtualGet(virtual, user: xn.payload, domain: []) }
                switch r {
                case .failed: fail(.temp, Self.tempfailList, why: invalidValue(index)); return
                case .found(let n) where n > 0: return
                default: break
                }
            }
            let delimiter = config.subaddressingDelimiter
            if let cut = xn.payload.firstIndex(of: delimiter) {
                nodes[index].payload[cut] = 0
                nodes[index].subaddress = String(decoding: xn.payload[(cut + 1)...], as: UTF8.self)
            }
            let user = nodes[index].user
            let userbase = try self.userbase(of: dsp)
            let base: String
            if let ref = dsp.userbase { base = "the userbase <\(ref.name)>" } else { base = "the system's passwd database" }
            let info: UserInfo?
            do { info = try userbase.lookup(user) } catch { fail(.temp, why: "\(base) could not be read for \(user)"); return }
            guard let info else {
                var why = "user '\(user)' is not in \(base) (action \"\(dsp.name)\")"
                if !nodes[index].lookups.isEmpty { why += "; no alias for it either (\(tried(index)))" }
                fail(.perm, why: why)
                return
            }
            nodes[index].realuser = true
            nodes[index].realuserUID = info.uid
            nodes[index].account = info.username
            if xn.sameuser, let p = xn.parent, nodes[p].forwarded { submit(index); return }
            if version.has(.actionUserSkipsForwards), let only = dsp.user, only != user { submit(index); return }
            nodes[index].forwarded = true
            try forward(index, info: info, action: dsp)

        case .file, .filter:
            if version.has(.rootForwardRefusesFilesAndPipes), let p = xn.parent, nodes[p].realuser,
               nodes[p].realuserUID == 0 {
                fail(.temp, why: "files and pipes are refused in root's ~/.forward (\(xn.text))")
                return
            }
            if action(xn.rule)?.method == .forwardOnly {
                fail(.temp, why: "a forward-only action delivers to no file or pipe (\(xn.text))")
                return
            }
            submit(index)

        case .error:
            if action(xn.rule)?.method == .forwardOnly {
                fail(.temp, why: "a forward-only action cannot return an error: entry")
                return
            }
            error = xn.payload.first == UInt8(ascii: "4") ? .temp : .perm
            message = xn.text
            if reason == nil { reason = "an error: entry" + (xn.table.map { " (\($0):\(xn.key ?? ""))" } ?? "") }
        }
    }

    /// lka_session.c's SRS step for an address node: with an `srs key` and an empty `MAIL FROM`, an
    /// `SRS0=`/`SRS1=` address is decoded and replaces the node's. Since 7.3 the node's own address is
    /// decoded (and the rules see the decoded one); before, the envelope's recipient, which only the first
    /// node carries until it is decoded. Returns the decoded address.
    private mutating func srsDecode(_ index: Int) -> MailAddress? {
        guard config.srs.key != nil, resolver.options.sender.mailFrom.isEmpty else { return nil }
        let candidate: MailAddress
        if version.has(.srsDecoding) {
            candidate = MailAddress(user: String(decoding: nodes[index].payload, as: UTF8.self),
                                    domain: String(decoding: nodes[index].domain, as: UTF8.self))
        } else {
            candidate = envelopeRecipient ?? recipient
        }
        guard SRS.looksEncoded(Array(candidate.user.utf8)) else { return nil }
        let now = resolver.options.now ?? Int64(time(nil))
        guard let text = SRS.decode(Array(candidate.description.utf8), keys: config.srs, now: now),
              let decoded = MailAddress(String(decoding: text, as: UTF8.self)) else {
            nodes[index].lookups.append(ResolutionLookup(table: "srs", key: candidate.description, result: .invalid))
            return nil
        }
        nodes[index].lookups.append(ResolutionLookup(table: "srs", key: candidate.description, result: .found))
        nodes[index].payload = Array(decoded.user.utf8)
        nodes[index].domain = Array(decoded.domain.utf8)
        if !version.has(.srsDecoding) { envelopeRecipient = decoded }
        return decoded
    }

    /// The parent's answer for `~/.forward` and `lka_session_forward_reply`.
    private mutating func forward(_ index: Int, info: UserInfo, action dsp: ActionDeclaration) throws(TableError) {
        let directory = resolver.options.homeRoot + info.directory
        func noForward(_ s: inout ExpansionSession) {
            switch dsp.method {
            case .forwardOnly: s.fail(.temp, Self.tempfailList, why: "forward-only action and no ~/.forward in \(directory)")
            case .expandOnly: s.fail(.perm, Self.permfailList, why: "expand-only action and no ~/.forward in \(directory)")
            default: s.submit(index)
            }
        }
        switch ForwardFile.open(directory: directory, uid: info.uid) {
        case .none: noForward(&self)
        case .refused:
            fail(.perm, Self.permfailList, why: "\(directory)/.forward refused by smtpd's checks (a link, group- or "
                 + "world-writable, or owned by another user)")
        case .failed: fail(.temp, Self.tempfailList, why: "\(directory)/.forward could not be read (too large, or a sticky home)")
        case .lines(let lines):
            if memo != nil, !lines.isEmpty { verdictUntrusted = true }
            let before = nodeCount
            let path = directory.hasSuffix("/") ? directory + ".forward" : directory + "/.forward"
            for line in lines {
                guard insertLine(line, table: "~/.forward", key: path) else {
                    fail(.temp, Self.tempfailList, why: "a line of \(path) is not a valid alias list")
                    return
                }
                if nodeCount > Self.maxForwardNodes {
                    fail(.temp, Self.tempfailList, why: "more than \(Self.maxForwardNodes) nodes with \(path)")
                    return
                }
            }
            if nodeCount == before { noForward(&self) }
        }
    }

    /// The action's `userbase <table>`, else the system's passwd database.
    private func userbase(of dsp: ActionDeclaration) throws(TableError) -> Userbase {
        guard let ref = dsp.userbase else { return .system }
        return .table(name: ref.name, try resolver.tables.table(ref))
    }

    /// lka_session.c `lka_submit`.
    private mutating func submit(_ index: Int) {
        guard let dsp = action(nodes[index].rule) else { return }
        let xn = nodes[index]
        let delivery: Delivery
        var uid: UInt32?
        switch xn.kind {
        case .username:
            delivery = .user(name: xn.account ?? xn.user, subaddress: xn.subaddress, action: dsp.name)
            uid = xn.realuserUID
        case .file, .filter:
            let parent = xn.parent.map { nodes[$0] }
            let user = parent.map { $0.realuser ? $0.user : resolver.options.smtpdUser } ?? resolver.options.smtpdUser
            uid = parent.flatMap { $0.realuser ? $0.realuserUID : nil }
            if xn.kind == .file {
                delivery = .file(path: xn.text, user: user, action: dsp.name)
            } else if xn.text.isEmpty {
                // A bare `|` leaves the envelope's mda command empty, and mda.c then keeps the action's own
                // delivery method: the action delivers as that user, as for a user of the userbase.
                delivery = .user(name: user, subaddress: "", action: dsp.name)
            } else {
                delivery = .filter(command: xn.text, user: user, action: dsp.name)
            }
        default:
            return
        }
        deliveries.append(delivery)
        if let message = mdaRefusal(delivery, userUID: uid, action: dsp) {
            refusals.append(DeliveryRefusal(delivery: delivery, message: message))
        }
    }

    /// smtpd.c `forkmda`'s refusal of root: the uid is the action's `user` (from the system's passwd) or
    /// the delivery user's (from the userbase). Before 7.5 a command or file of a root `user` ran as the
    /// delivery user instead, and only non-mbox actions were refused; since, a command or file as root is
    /// refused by mbox actions too.
    private func mdaRefusal(_ delivery: Delivery, userUID known: UInt32?, action dsp: ActionDeclaration) -> String? {
        let name: String, runsCommand: Bool
        switch delivery {
        case .user(let n, _, _): name = n; runsCommand = false
        case .file(_, let n, _), .filter(_, let n, _): name = n; runsCommand = true
        case .relay: return nil
        }
        func userbaseUID() -> UInt32? {
            if let known { return known }
            return (try? userbase(of: dsp).lookup(name))??.uid
        }
        var uid: UInt32?
        if let only = dsp.user { uid = (try? Userbase.system.lookup(only))??.uid } else { uid = userbaseUID() }
        let isMbox = dsp.method == .mbox
        if version.has(.mdaRootMessage) {
            guard uid == 0, !isMbox || runsCommand else { return nil }
            return "MDA not allowed to deliver to: \(name)"
        }
        if uid == 0, runsCommand { uid = userbaseUID() }
        guard uid == 0, !isMbox else { return nil }
        return "not allowed to deliver to: \(name)"
    }
}

/// What `check` learnt from the resolutions it made, so that resolving every entry of a fan-out alias table
/// costs the size of the table, not the product of its fan-outs: the users that resolved without failure
/// on their own (under a rule), with the deepest node their expansion reached (their own node at depth 1).
///
/// A resolution that meets such a user again, where its expansion would stay within the depth limit, takes
/// it as resolved instead of expanding it: its verdict (accepted or not) is the one a full resolution gives,
/// or, where taking a user changes the order of expansion, a failure that the caller confirms with a full
/// resolution. Only verdicts use it; the trees and messages shown always come from full resolutions.
final class ExpansionMemo {
    private struct Key: Hashable {
        let rule: Int
        let user: [UInt8]
    }
    private var resolved: [Key: Int] = [:]
    /// How many times a user was taken from the memo instead of expanded (for tests and benchmarks).
    private(set) var hits = 0

    func deepest(rule: Int, user: [UInt8]) -> Int? {
        let known = resolved[Key(rule: rule, user: user.asciiLowercased())]
        if known != nil { hits += 1 }
        return known
    }

    func record(rule: Int, user: [UInt8], deepest: Int) {
        resolved[Key(rule: rule, user: user.asciiLowercased())] = deepest
    }
}
