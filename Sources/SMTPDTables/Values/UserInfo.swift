/// A virtual user's system identity, from a userinfo table: `key  uid:gid:directory`.
///
/// upstream table.c K_USERINFO joins key and value as `key:uid:gid:directory` and reads it with
/// to.c `text_to_userinfo`.
public struct UserInfo: Hashable, Sendable {
    /// The user (the table key).
    public var username: String
    /// The system user id mail is delivered as.
    public var uid: UInt32
    /// The system group id mail is delivered as.
    public var gid: UInt32
    /// The home directory (where `~/.forward` is looked for).
    public var directory: String

    /// A user info from its parts.
    public init(username: String, uid: UInt32, gid: UInt32, directory: String) {
        self.username = username
        self.uid = uid
        self.gid = gid
        self.directory = directory
    }

    /// Reads the value found under `key`; throws when smtpd would refuse it.
    public init(key: String, value: String) throws(TableError) {
        let joined = Array(key.utf8) + [UInt8(ascii: ":")] + Array(value.utf8)
        guard joined.count < 2048 else { throw TableError(.invalidValue, "userinfo entry too long") }
        let fields = joined.split(separator: UInt8(ascii: ":"), maxSplits: 3, omittingEmptySubsequences: false)
        guard fields.count == 4 else {
            throw TableError(.invalidValue, "userinfo value must be uid:gid:directory")
        }
        guard fields[0].count < 256 else { throw TableError(.invalidValue, "userinfo user name too long") }
        guard let uid = strtonum(fields[1], in: 0...Int64(UInt32.max)) else {
            throw TableError(.invalidValue, "invalid uid '\(String(lossyBytes: fields[1]))'")
        }
        guard let gid = strtonum(fields[2], in: 0...Int64(UInt32.max)) else {
            throw TableError(.invalidValue, "invalid gid '\(String(lossyBytes: fields[2]))'")
        }
        guard fields[3].count < 4096 else { throw TableError(.invalidValue, "userinfo directory too long") }
        username = String(lossyBytes: fields[0])
        self.uid = UInt32(uid)
        self.gid = UInt32(gid)
        directory = String(lossyBytes: fields[3])
    }
}
