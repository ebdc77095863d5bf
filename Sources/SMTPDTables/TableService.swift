/// The lookup services of smtpd's tables (upstream table.c `table_service_name`).
///
/// Exact-key services compare the folded key; pattern services (`domain`, `netaddr`, `mailaddr`, `regex`)
/// test each entry's key as a pattern against the query, as smtpd does, but through indexes.
public enum TableService: String, Sendable, CaseIterable {
    case alias, domain, credentials, netaddr, userinfo, source, mailaddr, addrname, mailaddrmap, relayhost, string,
        regex

    /// Whether entries are patterns tested against the query rather than keys compared with it.
    public var isPattern: Bool {
        switch self {
        case .domain, .netaddr, .mailaddr, .regex: return true
        default: return false
        }
    }
}

/// A typed lookup result, as smtpd's `table_parse_lookup` turns the text it found into a value.
public enum LookupValue: Sendable, Equatable {
    case alias([ExpansionNode])
    /// For pattern services: the entry (key) that matched.
    case domain(String)
    case credentials(Credentials)
    case netaddr(NetworkAddress)
    case userinfo(UserInfo)
    case source(SocketAddress)
    case mailaddr(MailAddress)
    case addrname(address: SocketAddress, name: String)
    case mailaddrmap([MailAddress])
    case relayhost(RelayHost)
    case string(String)
    case regex(String)
}

extension LookupValue {
    /// Builds the typed value of a match found for `service`; throws (without file and line) when the text is
    /// not valid for the service, as smtpd's lookup fails.
    static func make(service: TableService, match: TableMatch) throws(TableError) -> LookupValue {
        let text = match.value ?? match.key
        switch service {
        case .alias:
            return .alias(try ExpansionNode.parseList(Array(text.utf8)[...]))
        case .domain:
            return .domain(match.key)
        case .regex:
            return .regex(match.key)
        case .netaddr:
            guard let n = NetworkAddress(match.key) else { throw TableError(.invalidValue, "invalid network address") }
            return .netaddr(n)
        case .mailaddr:
            guard let m = MailAddress(match.key) else { throw TableError(.invalidValue, "invalid mail address") }
            return .mailaddr(m)
        case .credentials:
            return .credentials(try Credentials(key: match.keyBytes, value: match.valueBytes ?? match.keyBytes))
        case .userinfo:
            return .userinfo(try UserInfo(key: match.key, value: text))
        case .source:
            guard let a = SocketAddress(text) else { throw TableError(.invalidValue, "invalid IP address '\(text)'") }
            return .source(a)
        case .addrname:
            guard let a = SocketAddress(match.key) else {
                throw TableError(.invalidValue, "invalid IP address key '\(match.key)'")
            }
            guard text.utf8.count <= hostNameMax else {
                throw TableError(.invalidValue, "host name too long (\(hostNameMax) bytes at most)")
            }
            return .addrname(address: a, name: text)
        case .mailaddrmap:
            var list: [MailAddress] = []
            var failure: TableError?
            let bytes = Array(text.utf8)
            ExpansionNode.splitList(bytes[...]) { element in
                let item = trimmedCSpace(element)
                if item.isEmpty { return true }
                guard let m = MailAddressBytes(item) else {
                    failure = TableError(.invalidValue, "invalid mail address '\(String(lossyBytes: item))'")
                    return false
                }
                list.append(MailAddress(user: String(lossyBytes: m.user), domain: String(lossyBytes: m.domain)))
                return true
            } onError: { failure = TableError(.invalidValue, $0) }
            if let failure { throw failure }
            return .mailaddrmap(list)
        case .relayhost:
            guard text.utf8.count < 2048 else { throw TableError(.invalidValue, "relay host too long") }
            return .relayhost(try RelayHost(text))
        case .string:
            return .string(text)
        }
    }
}
