#if canImport(Glibc)
import Glibc
#endif

/// A regex table entry compiled once, matched as upstream table.c `table_regex_match` does: POSIX extended,
/// no sub-matches, `(?i)` prefix for case-insensitive; a pattern that does not compile never matches.
///
/// Regex entries cannot be indexed: a regex lookup tests every entry, like smtpd, but compiles each only once.
final class RegexPattern {
    private let regex = UnsafeMutablePointer<regex_t>.allocate(capacity: 1)
    let isValid: Bool

    init(pattern: [UInt8]) {
        var flags = REG_EXTENDED | REG_NOSUB
        var body = pattern[...]
        if body.starts(with: Array("(?i)".utf8)) {
            flags |= REG_ICASE
            body = body.dropFirst(4)
        }
        if body.contains(0) {
            isValid = false
            return
        }
        let regex = self.regex
        let code = (Array(body) + [0]).withUnsafeBufferPointer { p in
            p.withMemoryRebound(to: CChar.self) { regcomp(regex, $0.baseAddress, flags) }
        }
        isValid = code == 0
    }

    deinit {
        if isValid { regfree(regex) }
        regex.deallocate()
    }

    func matches(_ subject: ArraySlice<UInt8>) -> Bool {
        guard isValid, !subject.contains(0) else { return false }
        return (Array(subject) + [0]).withUnsafeBufferPointer { p in
            p.withMemoryRebound(to: CChar.self) { regexec(regex, $0.baseAddress, 0, nil, 0) == 0 }
        }
    }
}
