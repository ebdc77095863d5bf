/// One node of an expansion tree, as smtpd's lka_session builds it while it answers `RCPT TO`.
public struct ResolutionNode: Sendable, Equatable {
    /// What a node is (upstream smtpd.h `enum expand_type`): the kinds of alias value elements, one enum for
    /// both, since every node smtpd expands was read as one.
    public typealias Kind = ExpansionNode.Kind

    /// The node's index in `Resolution.nodes`.
    public var id: Int
    /// The node it was expanded from (nil for the recipient itself).
    public var parent: Int?
    /// What the node is.
    public var kind: Kind
    /// `user@domain`, the user name, the path, the command, or the `NNN text` of an error.
    public var value: String
    /// 0 for the recipient; smtpd refuses to expand a node at depth 10.
    public var depth: Int
    /// The table that produced the node (its name in smtpd.conf, or `~/.forward` / `:include:`), if any.
    public var table: String?
    /// The key that was found in `table` (or the path of the forward or include file).
    public var key: String?
    /// For address nodes: the match rule they went through.
    public var rule: String?
    /// For address nodes: the action that rule names (nil when it rejects).
    public var action: String?
    /// True when smtpd found the same node already in the tree and discarded this one.
    public var duplicate: Bool
    /// The keys looked up to expand this node, in the order smtpd tries them, with what each gave.
    public var lookups: [ResolutionLookup] = []

    /// A node from its parts, taken as given.
    public init(id: Int, parent: Int?, kind: Kind, value: String, depth: Int, table: String? = nil,
                key: String? = nil, rule: String? = nil, action: String? = nil, duplicate: Bool = false,
                lookups: [ResolutionLookup] = []) {
        self.id = id
        self.parent = parent
        self.kind = kind
        self.value = value
        self.depth = depth
        self.table = table
        self.key = key
        self.rule = rule
        self.action = action
        self.duplicate = duplicate
        self.lookups = lookups
    }
}

/// One key looked up while expanding a node (alias or virtual table), for explaining a resolution.
public struct ResolutionLookup: Sendable, Equatable {
    /// What the lookup gave.
    public enum Result: String, Sendable {
        /// The key is in the table (its value was expanded).
        case found
        /// The key is not in the table.
        case notFound = "not found"
        /// The key is there but its value is no valid alias list (smtpd's temporary failure).
        case invalid
    }

    /// The table's name in smtpd.conf.
    public var table: String
    /// The key as looked up (folded).
    public var key: String
    /// What the lookup gave.
    public var result: Result

    /// A lookup from its parts.
    public init(table: String, key: String, result: Result) {
        self.table = table
        self.key = key
        self.result = result
    }
}

/// A final delivery of a resolved recipient (an envelope smtpd would queue).
public enum Delivery: Sendable, Equatable {
    /// Local delivery through `action`'s own method (mda, lmtp, mbox, maildir) as `name`: a user of the userbase,
    /// or the user a bare `|` alias element runs as; `subaddress` is the part after the delimiter.
    case user(name: String, subaddress: String, action: String)
    /// Appended to a file, run as `user` (the forward file's owner, or smtpd's own user for aliases).
    case file(path: String, user: String, action: String)
    /// Piped to a command, run as `user`.
    case filter(command: String, user: String, action: String)
    /// Relayed to `address` by a `relay` action.
    case relay(address: String, action: String)
}

/// A queued delivery that smtpd's mda refuses (smtpd.c `forkmda`).
public struct DeliveryRefusal: Sendable, Equatable {
    /// The delivery, as in `Resolution.deliveries`.
    public var delivery: Delivery
    /// smtpd's message, e.g. `MDA not allowed to deliver to: root`.
    public var message: String

    public init(delivery: Delivery, message: String) {
        self.delivery = delivery
        self.message = message
    }
}

/// What smtpd would answer for one recipient and what it would queue.
public struct Resolution: Sendable, Equatable {
    /// The recipient as given.
    public var input: String
    /// The recipient as smtpd reads it (`user@domain`; a bare user takes the host name as its domain).
    public var address: String
    /// True when smtpd would answer `250` to `RCPT TO`.
    public var accepted: Bool
    /// smtpd's `RCPT TO` reply when not accepted, e.g. `550 Invalid recipient: <bob@example.org>`.
    public var reply: String?
    /// The first match rule the recipient hit, as written.
    public var rule: String?
    /// The action that rule names (nil for `reject`).
    public var action: String?
    /// Every node in the order smtpd created them (duplicates it discarded included, flagged).
    public var nodes: [ResolutionNode]
    /// The deliveries smtpd would queue when accepted (what expansion had produced so far otherwise).
    public var deliveries: [Delivery]
    /// Deliveries smtpd queues but its mda then refuses (a bounce after the `250`): a delivery as root
    /// through anything but an mbox action, with the message smtpd logs and bounces with.
    public var refusals: [DeliveryRefusal] = []
    /// The node whose expansion failed, if any.
    public var failedNode: Int?
    /// Why the recipient was refused, in words (the keys tried, the user missing from which userbase, the
    /// rule that rejected or that none matched, the depth limit); nil when accepted.
    public var reason: String? = nil

    /// The three-digit code of `reply` (250 when accepted).
    public var code: Int {
        guard let reply, let n = Int(reply.prefix(3)) else { return 250 }
        return n
    }
}
