#if canImport(Glibc)
import Glibc
#endif

/// Whether a table holds keys alone (a list, `# @list` or key-only lines) or key/value pairs (a mapping).
public enum TableKind: String, Sendable {
    case list
    case mapping
}

/// One parsed line: ranges into the table's byte storage. A value length of -1 means "no value" (a list entry).
struct EntrySpan {
    var keyStart: UInt32
    var keyLength: UInt32
    var valueStart: UInt32
    var valueLength: Int32
    var line: UInt32
}

/// The line grammar smtpd and makemap share (upstream util.c `parse_table_line`), over bytes, in each of the
/// forms upstream has had (`Grammar`, chosen by `Grammar.fileTable(_:)` and `Grammar.makemap(_:)`).
///
/// 7.6 and later: each LF-terminated line is trimmed of C white space; `#` lines are comments (`# @list`
/// decides a list while the kind is open); a `[` key runs through the first `]`, any other key ends at a
/// space, tab or `:`; the first entry decides list or mapping; in a mapping the separator is dropped, blanks
/// skipped, and the rest is the value. Before 7.6 (`.skipColonBlanks`) `[` is not special and, after the
/// separator, white space and any `:` followed by white space are skipped. 6.8's makemap (`.fparseln`) is in
/// TableLineParser+Legacy.swift. Keys are folded to ASCII lower case in place.
enum TableLineParser {
    /// smtpd keeps keys in a 1024-byte buffer with its NUL: 1023 bytes at most.
    static let maxKeyLength = 1023
    /// Entries hold 32-bit offsets and signed 32-bit value lengths: 2 GiB - 1 bytes at most, checked before
    /// reading (a sparse file can claim any size at no cost).
    static let maxFileSize = Int(Int32.max)

    /// What a parse yields: the kind and the entries in file order (duplicates included), with `storage`
    /// holding the file's bytes, keys folded.
    struct Result {
        var kind: TableKind
        var entries: [EntrySpan]
        /// From `parseUpToFailure`: the first malformed line; `entries` then holds the lines before it.
        var failure: TableError? = nil
    }

    /// Parses `storage` (the whole file) in place.
    /// - Parameters:
    ///   - kind: a kind fixed beforehand, or nil to let the file decide (empty files become mappings).
    ///   - path: the file name used in errors.
    ///   - grammar: the release's grammar (default: 7.6 and later).
    static func parse(_ storage: inout [UInt8], kind preset: TableKind? = nil, path: String,
                      grammar: Grammar = .singleSeparator) throws(TableError) -> Result {
        let result = try parseUpToFailure(&storage, kind: preset, path: path, grammar: grammar)
        if let failure = result.failure { throw failure }
        return result
    }

    /// `parse`, but a malformed line ends the parse without an error: the result holds the entries before it
    /// and the failure, as makemap reports the first bad line after storing those before it. Throws only for
    /// a file over `maxFileSize`.
    static func parseUpToFailure(_ storage: inout [UInt8], kind preset: TableKind? = nil, path: String,
                                 grammar: Grammar = .singleSeparator) throws(TableError) -> Result {
        guard storage.count <= maxFileSize else {
            throw TableError(.format, path: path, "file too large for a table (\(maxFileSize) bytes at most)")
        }
        if grammar == .fparseln { return parseFparseln(&storage, kind: preset ?? .mapping, path: path) }
        let brackets = grammar == .singleSeparator
        var kind = preset
        var entries: [EntrySpan] = []
        entries.reserveCapacity(storage.count / 24)
        let reserved = entries.capacity * MemoryLayout<EntrySpan>.stride
        entries.withUnsafeMutableBufferPointer { adviseHugePages($0.baseAddress, byteCount: reserved) }
        var failure: TableError?
        storage.withUnsafeMutableBufferPointer { buf in
            guard let base = buf.baseAddress else { return }
            let end = buf.count
            var lineStart = 0
            var lineNumber: UInt32 = 0
            while lineStart < end {
                lineNumber &+= 1
                var lineEnd: Int
                if let nl = memchr(base + lineStart, 0x0A, end - lineStart) {
                    lineEnd = base.distance(to: nl.assumingMemoryBound(to: UInt8.self))
                } else {
                    lineEnd = end
                }
                let next = lineEnd + 1
                defer { lineStart = next }

                var ks = lineStart
                while ks < lineEnd, isCSpace(base[ks]) { ks += 1 }
                if ks == lineEnd { continue }
                while lineEnd > ks, isCSpace(base[lineEnd - 1]) { lineEnd -= 1 }

                if memchr(base + ks, 0, lineEnd - ks) != nil {
                    failure = TableError(.invalidEntry, path: path, line: Int(lineNumber),
                                         "invalid entry (NUL byte in line)")
                    return
                }
                if base[ks] == UInt8(ascii: "#") {
                    if kind == nil {
                        var p = ks + 1
                        while p < lineEnd, isCSpace(base[p]) { p += 1 }
                        if lineEnd - p == 5, memcmp(base + p, "@list", 5) == 0 { kind = .list }
                    }
                    continue
                }

                var valueAt: Int
                if brackets, base[ks] == UInt8(ascii: "[") {
                    guard let close = memchr(base + ks, 0x5D, lineEnd - ks) else {
                        failure = TableError(.invalidEntry, path: path, line: Int(lineNumber),
                                             "invalid entry (no ']' after '[')")
                        return
                    }
                    valueAt = base.distance(to: close.assumingMemoryBound(to: UInt8.self)) + 1
                } else {
                    valueAt = ks
                    while valueAt < lineEnd {
                        let c = base[valueAt]
                        if c == 0x20 || c == 0x09 || c == 0x3A { break }
                        valueAt += 1
                    }
                }
                if kind == nil { kind = (valueAt == lineEnd) ? .list : .mapping }

                let keyEnd: Int
                var span = EntrySpan(keyStart: UInt32(ks), keyLength: 0, valueStart: 0, valueLength: -1,
                                     line: lineNumber)
                if kind == .list {
                    keyEnd = lineEnd
                } else {
                    keyEnd = valueAt
                    if valueAt < lineEnd {
                        valueAt += 1
                        if brackets {
                            while valueAt < lineEnd, isBlank(base[valueAt]) { valueAt += 1 }
                        } else {
                            // Before 7.6: white space, and a `:` that white space follows (`a : b`, `a:: b`).
                            while valueAt < lineEnd, isCSpace(base[valueAt])
                                    || (base[valueAt] == UInt8(ascii: ":") && valueAt + 1 < lineEnd
                                        && isCSpace(base[valueAt + 1])) {
                                valueAt += 1
                            }
                        }
                    }
                    if valueAt == lineEnd {
                        failure = TableError(.invalidEntry, path: path, line: Int(lineNumber),
                                             "invalid entry (a key without a value in a mapping)")
                        return
                    }
                    span.valueStart = UInt32(valueAt)
                    span.valueLength = Int32(lineEnd - valueAt)
                }
                let keyLength = keyEnd - ks
                if keyLength > maxKeyLength {
                    failure = TableError(.keyTooLong, path: path, line: Int(lineNumber),
                                         "key too long (\(keyLength) bytes, smtpd allows \(maxKeyLength))")
                    return
                }
                for i in ks..<keyEnd { base[i] = asciiLower(base[i]) }
                span.keyLength = UInt32(keyLength)
                entries.append(span)
            }
        }
        return Result(kind: kind ?? .mapping, entries: entries, failure: failure)
    }
}
