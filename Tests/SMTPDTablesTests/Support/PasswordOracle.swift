import Foundation
@testable import SMTPDTables

/// Dovecot's `doveadm pw` (Debian package dovecot-core), an implementation of the crypt schemes
/// independent of ours: BLF-CRYPT has its own bcrypt, MD5-CRYPT its own md5-crypt.
enum Doveadm {
    static let path: String? = TestSupport.system("doveadm")
    static let missing = "doveadm is not installed (apt-get install dovecot-core); Dovecot cross-checks skipped"

    /// `doveadm pw -t HASH -p PASSWORD`: true when Dovecot says "(verified)".
    static func verifies(_ hash: String, password: String) throws -> Bool {
        guard let path else { return false }
        let r = try TestSupport.run(path, ["pw", "-t", hash, "-p", password])
        return r.status == 0 && r.stdout.contains("(verified)")
    }

    /// `doveadm pw -s SCHEME -p PASSWORD`: the `{SCHEME}hash` line it prints.
    static func generate(_ scheme: String, password: String, rounds: Int? = nil) throws -> String {
        guard let path else { return "" }
        var args = ["pw", "-s", scheme, "-p", password]
        if let rounds { args += ["-r", String(rounds)] }
        let r = try TestSupport.run(path, args)
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// How smtpd's file-table parser (semantics.md section 1) splits one line of a shared passwd file
/// into key and value: the key ends at the first space, tab or ':', the separator is dropped and
/// spaces and tabs (not colons) are skipped.
func smtpdFileLine(_ line: String) -> (key: String, value: String) {
    let bytes = Array(line.utf8)
    let end = bytes.firstIndex { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") || $0 == UInt8(ascii: ":") } ?? bytes.count
    var i = min(end + 1, bytes.count)
    while i < bytes.count, bytes[i] == UInt8(ascii: " ") || bytes[i] == UInt8(ascii: "\t") { i += 1 }
    return (String(decoding: bytes[..<end], as: UTF8.self).lowercased(), String(decoding: bytes[i...], as: UTF8.self))
}
