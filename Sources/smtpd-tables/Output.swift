import SMTPDTables

#if canImport(Glibc)
import Glibc
#endif

/// Buffered standard output for bulk answers, and messages on standard error.
enum Output {
    static func error(_ message: String) {
        let line = message.hasSuffix("\n") ? message : message + "\n"
        // Messages quote keys and values from tables: escaped on a terminal, like standard output.
        var text: [UInt8] = []
        if isatty(2) == 1 { TerminalEscape.append(line.utf8, to: &text, keepingLineFeeds: true) }
        else { text = Array(line.utf8) }
        text.withUnsafeBytes { _ = write(2, $0.baseAddress, $0.count) }
    }

    /// `smtpd-tables: message`, as the tool's diagnostics read.
    static func warn(_ message: String) {
        error("smtpd-tables: \(message)")
    }
}

/// Collects output bytes and writes them in large blocks (a line at a time is far too slow for millions).
///
/// Bytes that come from tables go through `appendField` or `appendText`: on a terminal, their control
/// characters are shown escaped (`TerminalEscape`), so a value cannot move the cursor, retitle the window
/// or clear the screen; through a pipe or into a file they go out unchanged, as scripts expect.
struct OutputBuffer {
    private var buffer: [UInt8] = []
    private let fd: Int32
    /// Whether `fd` is a terminal (decided once).
    let escapesControls: Bool

    init(fd: Int32 = 1) {
        self.fd = fd
        escapesControls = isatty(fd) == 1
        buffer.reserveCapacity(1 << 16)
    }

    /// Bytes of the format itself (separators), never escaped.
    mutating func append<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        buffer.append(contentsOf: bytes)
        if buffer.count >= 1 << 16 { flush() }
    }

    mutating func append(_ string: String) { append(Array(string.utf8)) }

    /// A key or value: on a terminal every control character in it is escaped, tab and LF included.
    mutating func appendField<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        if escapesControls { TerminalEscape.append(bytes, to: &buffer, keepingLineFeeds: false) }
        else { buffer.append(contentsOf: bytes) }
        if buffer.count >= 1 << 16 { flush() }
    }

    /// Text whose only control characters of its own are its LFs (resolve's report): on a terminal every
    /// other one is escaped.
    mutating func appendText(_ string: String) {
        if escapesControls { TerminalEscape.append(string.utf8, to: &buffer, keepingLineFeeds: true) }
        else { buffer.append(contentsOf: string.utf8) }
        if buffer.count >= 1 << 16 { flush() }
    }

    mutating func flush() {
        var offset = 0
        buffer.withUnsafeBytes { raw in
            while offset < raw.count {
                let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += n
            }
        }
        buffer.removeAll(keepingCapacity: true)
    }
}

/// How control characters are shown on a terminal: C0 bytes, DEL and the UTF-8 form of C1 (U+0080-U+009F,
/// which some terminals obey as controls) become `\xHH` per byte. `\` itself is kept, so regex values stay
/// legible; the escaped form is for reading, a pipe gives the exact bytes.
enum TerminalEscape {
    private static let hex = Array("0123456789abcdef".utf8)

    static func append<C: Collection>(_ bytes: C, to out: inout [UInt8], keepingLineFeeds: Bool) where C.Element == UInt8 {
        var afterC2 = false
        for byte in bytes {
            // A C1 control is 0xC2 followed by 0x80...0x9F: the 0xC2 has been held back, write both escaped.
            if afterC2 {
                afterC2 = false
                if (0x80...0x9F).contains(byte) {
                    escape(0xC2, to: &out)
                    escape(byte, to: &out)
                    continue
                }
                out.append(0xC2)
            }
            switch byte {
            case 0x0A where keepingLineFeeds: out.append(byte)
            case 0x00..<0x20, 0x7F: escape(byte, to: &out)
            case 0xC2: afterC2 = true
            default: out.append(byte)
            }
        }
        if afterC2 { out.append(0xC2) }
    }

    private static func escape(_ byte: UInt8, to out: inout [UInt8]) {
        out += [UInt8(ascii: "\\"), UInt8(ascii: "x"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
    }
}

/// Reads standard input as lines of bytes without building Strings.
struct LineReader {
    private var buffer = [UInt8](repeating: 0, count: 1 << 16)
    private var pending: [UInt8] = []
    private var start = 0
    private var end = 0
    private var eof = false
    private let fd: Int32

    init(fd: Int32 = 0) { self.fd = fd }

    /// The next line without its LF (and without a CR before it), or nil at the end.
    mutating func next() -> [UInt8]? {
        pending.removeAll(keepingCapacity: true)
        while true {
            if start < end {
                if let nl = buffer[start..<end].firstIndex(of: 0x0A) {
                    pending.append(contentsOf: buffer[start..<nl])
                    start = nl + 1
                    if pending.last == 0x0D { pending.removeLast() }
                    return pending
                }
                pending.append(contentsOf: buffer[start..<end])
                start = end
            }
            if eof { return pending.isEmpty ? nil : pending }
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { eof = true; continue }
            start = 0
            end = n
        }
    }
}
