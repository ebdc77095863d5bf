import Foundation
import SMTPDTables

/// The smtpd.conf reader (`SMTPDConfig.parse(bytes:path:)`: lexer, macros, includes, grammar, at the newest and
/// the oldest release) and the old-grammar reader and translator (LegacyConfig) on any bytes, then
/// a resolver built on every configuration it accepts, resolving a few recipients (rule matching on inline
/// tables; file tables are missing, which the resolver must report as a TableError).
/// Properties checked: a parse either succeeds or throws a `.config` TableError naming a file that was read and a
/// line inside it; an accepted configuration's table references all resolve to a declared table.
///
/// Runs in an empty temporary directory, so relative `include` and table paths name nothing. Absolute paths are
/// opened as written (as smtpd does); a device path such as /dev/zero would read forever, so keep the corpus
/// free of them.
let workDirectory: String = {
    let dir = NSTemporaryDirectory() + "fuzzconfig-\(getpid())"
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    _ = FileManager.default.changeCurrentDirectoryPath(dir)
    return dir
}()

/// No home directory exists under homeRoot: no real ~/.forward is read.
let resolverOptions = Resolver.Options(hostname: "mx.example.org", homeRoot: "/nonexistent-fuzz-home",
                                       localAddresses: ["127.0.0.1", "::1"])

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    _ = workDirectory
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    // The old (6.0 to 6.3) grammar: its detection and migrate-config's translation take any text.
    let text = String(decoding: bytes, as: UTF8.self)
    _ = LegacyConfig.firstOldLine(in: text)
    _ = LegacyConfig.migrate(text)
    // The oldest release's grammar (one-line braces, listener rules before 7.3) on the same bytes.
    _ = try? SMTPDConfig.parse(bytes: bytes, path: "fuzz.conf", options: .init(smtpdVersion: .oldest))
    let config: SMTPDConfig
    do {
        config = try SMTPDConfig.parse(bytes: bytes, path: "fuzz.conf")
    } catch {
        check(error.kind == .config || error.kind == .io, "unexpected error kind \(error.kind): \(error)")
        if error.path == "fuzz.conf", let line = error.line {
            let lines = bytes.reduce(1) { $0 + ($1 == 0x0A ? 1 : 0) }
            // parse.y reports the line after a final newline at end of file: allow one more.
            check(line >= 0 && line <= lines + 1, "error line \(line) outside the input (\(lines) lines)")
        }
        return 0
    }
    for action in config.actions {
        for reference in [action.alias, action.virtual, action.userbase].compactMap({ $0 }) {
            check(config.table(reference) != nil, "action \(action.name) names a missing table \(reference.name)")
        }
        _ = action.text
    }
    for table in config.tables { _ = table.path; _ = table.inlineKind }

    guard let resolver = try? Resolver(config: config, options: resolverOptions) else { return 0 }
    for recipient in ["root", "bob@example.org", "<postmaster@mx.example.org>", "a+b@[127.0.0.1]"] {
        _ = try? resolver.resolve(recipient)
    }
    return 0
}
