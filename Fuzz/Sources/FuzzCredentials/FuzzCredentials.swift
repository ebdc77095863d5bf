import SMTPDTables

/// Credentials and userinfo values, Dovecot passwd-file lines and hash analysis on any bytes. The input is
/// `key NUL value` (no NUL: the key is "user"). Passwords are never checked (crypt(3) with a hostile cost is
/// slow by design, in smtpd too).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCredentials(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    var key = Array("user".utf8), value = bytes
    if let nul = bytes.firstIndex(of: 0) {
        key = Array(bytes[..<nul])
        value = Array(bytes[(nul + 1)...])
    }
    let keyText = String(decoding: key, as: UTF8.self), valueText = String(decoding: value, as: UTF8.self)

    if let c = try? Credentials(key: key, value: value) {
        check(!c.passwordBytes.isEmpty && (!c.usernameBytes.isEmpty || key.isEmpty), "empty credentials part")
        check(c.passwordBytes.count < Credentials.lineMax, "over-long hash accepted")
        _ = c.analysis
        _ = c.problems
    }
    if let u = try? UserInfo(key: keyText, value: valueText) {
        check(u.directory.utf8.count < 4096, "over-long directory accepted")
    }
    if let entry = DovecotPasswdEntry(line: valueText) {
        _ = DovecotPasswords.scheme(of: entry.password ?? "")
    }
    _ = DovecotPasswords.scheme(of: valueText)
    let analysis = HashAnalysis(value)
    if let cost = analysis.cost { check(cost >= 0, "negative cost") }
    return 0
}
