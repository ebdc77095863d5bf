import SMTPDTables

#if canImport(Glibc)
import Glibc
#endif

/// Buffered standard output for bulk answers, and messages on standard error.
enum Output {
    static func error(_ message: String) {
        let text = Array((message.hasSuffix("\n") ? message : message + "\n").utf8)
        text.withUnsafeBytes { _ = write(2, $0.baseAddress, $0.count) }
    }

    /// `smtpd-tables: message`, as the tool's diagnostics read.
    static func warn(_ message: String) {
        error("smtpd-tables: \(message)")
    }
}

/// Collects output bytes and writes them in large blocks (a line at a time is far too slow for millions).
struct OutputBuffer {
    private var buffer: [UInt8] = []
    private let fd: Int32

    init(fd: Int32 = 1) {
        self.fd = fd
        buffer.reserveCapacity(1 << 16)
    }

    mutating func append<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        buffer.append(contentsOf: bytes)
        if buffer.count >= 1 << 16 { flush() }
    }

    mutating func append(_ string: String) { append(Array(string.utf8)) }

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
