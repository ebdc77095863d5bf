#if canImport(Glibc)
import Glibc
#endif

/// Two file descriptors carrying LF-terminated lines (the proc: backend's standard input and output), with the
/// system calls retried on EINTR and a write to a closed peer reported instead of raising SIGPIPE.
struct LineChannel {
    let input: Int32
    let output: Int32
    private var buffer: [UInt8] = []
    private var start = 0

    init(input: Int32, output: Int32) {
        self.input = input
        self.output = output
        // A peer that went away must give EPIPE (a clean exit), not kill the process.
        signal(SIGPIPE, SIG_IGN)
    }

    /// What a read ended with.
    enum ReadResult {
        /// Complete lines, without their final LF: one request, or several lines of one write (see `batch`).
        case lines([UInt8])
        /// End of input.
        case end
        /// A line longer than `limit` was discarded, through its LF.
        case tooLong
        case failed(SystemError)
    }

    /// One line (without its LF).
    mutating func line(limit: Int) -> ReadResult { read(limit: limit, wholeBatch: false) }

    /// Everything that has arrived up to its last LF, at least one line (without the final LF). smtpd writes a
    /// request with one flush and waits for the answer, so more than one line here means its key held a LF.
    mutating func batch(limit: Int) -> ReadResult { read(limit: limit, wholeBatch: true) }

    private mutating func read(limit: Int, wholeBatch: Bool) -> ReadResult {
        var discarding = false
        while true {
            let pending = buffer[start...]
            let lf = wholeBatch ? pending.lastIndex(of: 0x0A) : pending.firstIndex(of: 0x0A)
            if let lf {
                defer { start = lf + 1; compact() }
                if discarding || lf - start > limit { return .tooLong }
                return .lines(Array(buffer[start..<lf]))
            }
            if pending.count > limit {
                discarding = true
                buffer.removeAll(keepingCapacity: true)
                start = 0
            }
            var chunk = [UInt8](repeating: 0, count: 8192)
            let n = chunk.withUnsafeMutableBytes { Glibc.read(input, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                return .failed(SystemError("read", path: "standard input"))
            }
            if n == 0 { return .end }
            buffer += chunk[0..<n]
        }
    }

    private mutating func compact() {
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        } else if start > 65536 {
            buffer.removeFirst(start)
            start = 0
        }
    }

    /// Writes all of `bytes`.
    func write(_ bytes: [UInt8]) throws(SystemError) {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(output, $0.baseAddress! + done, $0.count - done) }
            if n < 0 {
                if errno == EINTR { continue }
                throw SystemError("write", path: "standard output")
            }
            done += n
        }
    }
}

/// Writes a diagnostic line to standard error (smtpd's log for a proc: backend).
func writeDiagnostic(_ text: String) {
    let bytes = Array((text + "\n").utf8)
    var done = 0
    while done < bytes.count {
        let n = bytes.withUnsafeBytes { Glibc.write(2, $0.baseAddress! + done, $0.count - done) }
        if n < 0, errno == EINTR { continue }
        if n <= 0 { return }
        done += n
    }
}
