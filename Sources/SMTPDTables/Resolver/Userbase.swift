#if canImport(Glibc)
import Glibc
#endif

/// Where smtpd finds the system identity of a user name: the passwd database (its built-in `<getpwnam>`
/// table) or a `userbase <table>` userinfo table.
public enum Userbase {
    /// getpwnam_r(3), as upstream table_getpwnam.c.
    case system
    /// A userinfo table (`user  uid:gid:directory`).
    case table(name: String, Table)

    /// The user's identity, nil when unknown. Throws when the lookup itself fails (smtpd: a temporary error).
    /// smtpd folds the key to lower case first, for every backend.
    public func lookup(_ user: String) throws(TableError) -> UserInfo? {
        let key = String(decoding: Array(user.utf8).asciiLowercased(), as: UTF8.self)
        switch self {
        case .table(_, let table):
            guard case .userinfo(let info)? = try table.value(for: key, service: .userinfo) else { return nil }
            return info
        case .system:
            return try Userbase.getpwnam(key)
        }
    }

    /// The table name shown in resolution trees.
    var name: String {
        switch self {
        case .system: return "<getpwnam>"
        case .table(let name, _): return name
        }
    }

    private static func getpwnam(_ name: String) throws(TableError) -> UserInfo? {
        guard name.utf8.count < 1024 else { throw TableError(.keyTooLong, "lookup key too long") }
        var pwd = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var size = 4096
        while true {
            var buffer = [CChar](repeating: 0, count: size)
            let rc = getpwnam_r(name, &pwd, &buffer, size, &result)
            if rc == ERANGE, size < 1 << 20 { size *= 4; continue }
            if rc == EINTR { continue }
            guard rc == 0 || rc == ENOENT || rc == ESRCH else {
                throw TableError(.io, "getpwnam_r(\(name)): \(SystemError.text(rc))")
            }
            guard result != nil, let dir = pwd.pw_dir, let pwName = pwd.pw_name else { return nil }
            return UserInfo(username: String(cString: pwName), uid: pwd.pw_uid, gid: pwd.pw_gid,
                            directory: String(cString: dir))
        }
    }
}
