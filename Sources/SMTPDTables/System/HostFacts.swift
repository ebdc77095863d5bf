#if canImport(Glibc)
import Glibc
#endif

/// What smtpd knows about the machine it runs on: its own name and its interface addresses, which it adds to
/// the built-in `<localnames>` and `<localhost>` tables (config.c `config_default`).
///
/// The resolver takes these explicitly, so that resolving is repeatable and does no I/O of its own;
/// `HostFacts.system()` reads them from this machine as smtpd does.
public struct HostFacts: Sendable, Equatable {
    /// smtpd's own name: the domain of bare recipients and a name of `for local`.
    public var hostname: String
    /// The machine's addresses as smtpd writes them (`127.0.0.1`, `[::1]`).
    public var localAddresses: [String]

    public init(hostname: String, localAddresses: [String] = []) {
        self.hostname = hostname
        self.localAddresses = localAddresses
    }

    /// This machine's facts: the name smtpd would give itself and the addresses of its interfaces.
    public static func system(mailnameFile: String = "/etc/mailname") -> HostFacts {
        HostFacts(hostname: systemHostname(mailnameFile: mailnameFile), localAddresses: interfaceAddresses())
    }

    /// The name smtpd gives itself (util.c `getmailname`): the first line of `mailnameFile`, else the host
    /// name, canonicalized through the resolver when it has no dot.
    public static func systemHostname(mailnameFile: String = "/etc/mailname") -> String {
        if let bytes = try? SystemFile.readRegular(mailnameFile, limit: 4096, what: "mailname file") {
            let line = bytes.prefix { $0 != 0x0A }
            if !line.isEmpty { return String(decoding: line, as: UTF8.self) }
        }
        var buf = [CChar](repeating: 0, count: 256)
        guard gethostname(&buf, buf.count) == 0 else { return "localhost" }
        let name = stringFromCBuffer(buf)
        if name.contains(".") { return name }
        var hints = addrinfo()
        hints.ai_flags = AI_CANONNAME
        var res: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(name, nil, &hints, &res) == 0, let res else { return name }
        defer { freeaddrinfo(res) }
        return res.pointee.ai_canonname.map { String(cString: $0) } ?? name
    }

    /// The machine's interface names (getifaddrs(3)): what `listen on NAME` may name.
    public static func interfaceNames() -> Set<String> {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0 else { return [] }
        defer { freeifaddrs(list) }
        var out: Set<String> = []
        var p = list
        while let cur = p {
            defer { p = cur.pointee.ifa_next }
            if let name = cur.pointee.ifa_name { out.insert(String(cString: name)) }
        }
        return out
    }

    /// The addresses `name` resolves to (getaddrinfo(3)), as `interfaceAddresses` writes them.
    public static func resolvedAddresses(_ name: String) -> [String] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var res: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(name, nil, &hints, &res) == 0 else { return [] }
        defer { freeaddrinfo(res) }
        var out: [String] = []
        var p = res
        while let cur = p {
            defer { p = cur.pointee.ai_next }
            guard let sa = cur.pointee.ai_addr, let text = addressText(sa) else { continue }
            out.append(text)
        }
        return out
    }

    /// The machine's interface addresses as smtpd writes them (getifaddrs(3)).
    public static func interfaceAddresses() -> [String] {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0 else { return [] }
        defer { freeifaddrs(list) }
        var out: [String] = []
        var p = list
        while let cur = p {
            defer { p = cur.pointee.ifa_next }
            guard let sa = cur.pointee.ifa_addr, let text = addressText(sa) else { continue }
            out.append(text)
        }
        return out
    }

    /// An IPv4 or IPv6 address as smtpd writes it (`127.0.0.1`, `[::1]`); nil for other families.
    static func addressText(_ sa: UnsafeMutablePointer<sockaddr>) -> String? {
        var buf = [CChar](repeating: 0, count: 64)
        switch Int32(sa.pointee.sa_family) {
        case AF_INET:
            sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin in
                var a = sin.pointee.sin_addr
                _ = inet_ntop(AF_INET, &a, &buf, 64)
            }
            return stringFromCBuffer(buf)
        case AF_INET6:
            sa.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { sin in
                var a = sin.pointee.sin6_addr
                _ = inet_ntop(AF_INET6, &a, &buf, 64)
            }
            return "[\(stringFromCBuffer(buf))]"
        default:
            return nil
        }
    }
}
