/// 6.8's makemap grammar (`Grammar.fparseln`): makemap.c before upstream commit 5270a72a (7.5) read its source
/// with `fparseln(fp, ..., FPARSELN_UNESCCOMM)` and split each line itself.
///
/// Logical lines, as fparseln(3) makes them from physical (LF-terminated) lines:
/// - an unescaped `#` (one preceded by an even number of `\`) cuts the rest of the physical line, LF included;
/// - the final LF is dropped; a final unescaped `\` is dropped and the next physical line is appended
///   (continuation); an empty next line, or one that is all comment, ends the logical line instead;
/// - a physical line that is all comment, first in a logical line, is skipped (the next line starts over);
/// - then `\#` becomes `#` (other `\` pairs are kept as written); CR and trailing blanks stay.
/// The line number of a logical line is the count of physical lines read so far (a continuation that meets
/// the end of the file counts one more, as fparseln counts its failed read).
///
/// Each logical line: leading white space skipped, an empty line skipped. `-t set` (kind `.list`): the rest is
/// the key. Otherwise the key ends at the first space, tab or `:`, a line without one is an invalid entry;
/// then every `:` and white space is skipped and the rest, to the end of the line, is the value (none: an
/// invalid entry).
extension TableLineParser {
    static func parseFparseln(_ storage: inout [UInt8], kind: TableKind, path: String) -> Result {
        let (text, lines) = fparselnLines(storage)
        storage = text
        var entries: [EntrySpan] = []
        entries.reserveCapacity(lines.count)
        func invalid(_ line: UInt32, _ why: String) -> Result {
            Result(kind: kind, entries: entries,
                   failure: TableError(.invalidEntry, path: path, line: Int(line), "invalid entry (\(why))"))
        }
        for (start, end, line) in lines {
            var ks = start
            while ks < end, isCSpace(storage[ks]) { ks += 1 }
            if ks == end { continue }
            if storage[ks..<end].contains(0) { return invalid(line, "NUL byte in line") }
            var span = EntrySpan(keyStart: UInt32(ks), keyLength: 0, valueStart: 0, valueLength: -1, line: line)
            var keyEnd = end
            if kind == .mapping {
                guard let separator = storage[ks..<end].firstIndex(where: { $0 == 0x20 || $0 == 0x09 || $0 == 0x3A })
                else { return invalid(line, "a key without a value") }
                keyEnd = separator
                var v = separator + 1
                while v < end, storage[v] == UInt8(ascii: ":") || isCSpace(storage[v]) { v += 1 }
                if v == end { return invalid(line, "a key without a value") }
                span.valueStart = UInt32(v)
                span.valueLength = Int32(end - v)
            }
            let keyLength = keyEnd - ks
            if keyLength > maxKeyLength {
                return Result(kind: kind, entries: entries, failure: TableError(
                    .keyTooLong, path: path, line: Int(line),
                    "key too long (\(keyLength) bytes, smtpd allows \(maxKeyLength))"))
            }
            for i in ks..<keyEnd { storage[i] = asciiLower(storage[i]) }
            span.keyLength = UInt32(keyLength)
            entries.append(span)
        }
        return Result(kind: kind, entries: entries)
    }

    /// fparseln(3)'s logical lines of `source` (see above), each unescaped (`\#` -> `#`) and followed by an LF,
    /// in one buffer: (buffer, [(start, end, line number)]).
    static func fparselnLines(_ source: [UInt8]) -> ([UInt8], [(Int, Int, UInt32)]) {
        let backslash = UInt8(ascii: "\\"), hash = UInt8(ascii: "#"), newline = UInt8(ascii: "\n")
        var out: [UInt8] = []
        out.reserveCapacity(source.count)
        var lines: [(Int, Int, UInt32)] = []
        var position = 0
        var lineNumber: UInt32 = 0

        /// Whether the byte at `i` follows an odd number of backslashes that start at or after `lineStart`.
        func escaped(_ i: Int, from lineStart: Int) -> Bool {
            var n = 0, j = i - 1
            while j >= lineStart, source[j] == backslash { n += 1; j -= 1 }
            return n & 1 == 1
        }

        while true {
            let start = out.count
            var started = false  // fparseln's buf != NULL
            var more = true
            while more {
                more = false
                lineNumber &+= 1
                guard position < source.count else { break }
                let lineStart = position
                let lineEnd = source[position...].firstIndex(of: newline).map { $0 + 1 } ?? source.count
                position = lineEnd
                var end = lineEnd
                var i = lineStart
                while i < end {
                    if source[i] == hash, !escaped(i, from: lineStart) {
                        end = i
                        more = end == lineStart && !started
                        break
                    }
                    i += 1
                }
                if end > lineStart, source[end - 1] == newline { end -= 1 }
                if end > lineStart, source[end - 1] == backslash, !escaped(end - 1, from: lineStart) {
                    end -= 1
                    more = true
                }
                if end == lineStart && started { continue }
                out.append(contentsOf: source[lineStart..<end])
                started = true
            }
            guard started else { break }
            // FPARSELN_UNESCCOMM: in each `\` pair, `\#` loses its `\`; a `\` with nothing after it is dropped.
            if out[start...].contains(backslash) {
                var read = start, write = start
                while read < out.count {
                    if out[read] != backslash {
                        out[write] = out[read]
                        write += 1
                        read += 1
                        continue
                    }
                    guard read + 1 < out.count else { break }
                    if out[read + 1] != hash {
                        out[write] = backslash
                        write += 1
                    }
                    out[write] = out[read + 1]
                    write += 1
                    read += 2
                }
                out.removeSubrange(write...)
            }
            lines.append((start, out.count, lineNumber))
            // A byte between lines, where makemap's writer puts each value's NUL.
            out.append(newline)
        }
        return (out, lines)
    }
}
