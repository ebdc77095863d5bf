import Foundation
import SMTPDTables

/// The dovecot.conf reader (`DovecotConfig.parse`: comments, quotes, continuations, sections, both passdb syntaxes,
/// `!include`) on any bytes, and `check --dovecot-conf`'s passwd-file pass (`DovecotCheck`) on the same bytes as a
/// passwd file shared with smtpd, at 2.3 and 2.4, with and without a default scheme.
/// Properties checked: a parse either succeeds or throws a `.config` or `.io` TableError; an error and every place
/// in an accepted configuration name a line inside the input; findings name the passwd file and a line inside it,
/// and never quote a password field.
///
/// Runs in an empty temporary directory, so relative includes name nothing; keep device paths out of the corpus.
let workDirectory: String = {
    let dir = NSTemporaryDirectory() + "fuzzdovecotconfig-\(getpid())"
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    _ = FileManager.default.changeCurrentDirectoryPath(dir)
    return dir
}()

let passwdPath = workDirectory + "/passwd"

/// smtpd.conf whose listener authenticates against the passwd file, so the check treats it as shared.
let smtpd: SMTPDConfig = {
    let text = """
        table passwd file:\(passwdPath)
        pki mail.test cert "/nonexistent/cert.pem"
        pki mail.test key "/nonexistent/key.pem"
        listen on lo tls pki mail.test auth <passwd>
        action "l" mbox
        match for local action "l"

        """
    return try! SMTPDConfig.parse(bytes: Array(text.utf8), path: "smtpd.conf")
}()

/// 2.3 and 2.4 passdbs over the passwd file, with and without a default scheme.
let passdbConfigs: [DovecotConfig] = [
    "passdb {\n  driver = passwd-file\n  args = scheme=BLF-CRYPT \(passwdPath)\n}\n",
    "passdb {\n  driver = passwd-file\n  args = \(passwdPath)\n}\n",
    "dovecot_config_version = 2.4.1\npassdb passwd-file {\n  passwd_file_path = \(passwdPath)\n}\n",
    "dovecot_config_version = 2.4.1\npassdb passwd-file {\n  passwd_file_path = \(passwdPath)\n"
        + "  default_password_scheme = SHA512-CRYPT\n}\nauth_allow_weak_schemes = yes\n",
].map { try! DovecotConfig.parse($0, path: "dovecot.conf") }

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDovecotConfig(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let lines = bytes.reduce(1) { $0 + ($1 == 0x0A ? 1 : 0) }
    let text = String(decoding: bytes, as: UTF8.self)
    do {
        let config = try DovecotConfig.parse(text, path: "fuzz.conf")
        var places = config.otherSyntax + [config.firstSetting].compactMap { $0 }
        for passdb in config.passwdFilePassdbs {
            places += [passdb.place, passdb.pathPlace] + [passdb.schemePlace].compactMap { $0 }
        }
        for place in places where place.file == "fuzz.conf" {
            check(place.line >= 1 && place.line <= lines, "place \(place) outside the input (\(lines) lines)")
        }
        for version in DovecotVersion.allCases {
            _ = DovecotCheck(dovecot: config, version: version, smtpd: smtpd).run()
        }
    } catch {
        check(error.kind == .config || error.kind == .io, "unexpected error kind \(error.kind): \(error)")
        if error.path == "fuzz.conf", let line = error.line {
            check(line >= 1 && line <= lines + 1, "error line \(line) outside the input (\(lines) lines)")
        }
    }

    // The same bytes as the shared passwd file.
    guard FileManager.default.createFile(atPath: passwdPath, contents: Data(bytes)) else { return 0 }
    // Hash-like password fields (after any `{SCHEME}` prefix, which findings do name: 8 characters or more, with a
    // `$`) that are not also some line's user.
    // Split as bytes: in a String, "\r\n" is one Character and would not split.
    let split = bytes.split(separator: 0x0A)
        .map { String(decoding: $0, as: UTF8.self).split(separator: ":", omittingEmptySubsequences: false) }
    let users = split.compactMap(\.first)
    let fields = split.compactMap { parts -> [UInt8]? in
        guard parts.count > 1 else { return nil }
        var hash = parts[1]
        if hash.first == "{", let close = hash.firstIndex(of: "}") { hash = hash[hash.index(after: close)...] }
        guard hash.count >= 8, hash.contains("$") else { return nil }
        let bytes = Array(hash.utf8)
        return users.contains { contains(Array($0.utf8), bytes) } ? nil : bytes
    }
    for (i, config) in passdbConfigs.enumerated() {
        let findings = DovecotCheck(dovecot: config, version: i < 2 ? .v2_3 : .v2_4, smtpd: smtpd).run()
        for finding in findings where finding.file == passwdPath {
            if let line = finding.line { check(line >= 1 && line <= lines, "finding line \(line) outside the file") }
            for field in fields {
                check(!contains(Array(finding.message.utf8), field), "a finding quotes a password field: \(finding.code)")
            }
        }
    }
    return 0
}

/// Whether `needle` occurs in `haystack`, as bytes (Foundation's `contains` on a Substring with replaced invalid UTF-8
/// traps on an index: the harness compares bytes).
func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
    guard needle.count <= haystack.count else { return false }
    return (0...(haystack.count - needle.count)).contains { haystack[$0..<($0 + needle.count)].elementsEqual(needle) }
}
