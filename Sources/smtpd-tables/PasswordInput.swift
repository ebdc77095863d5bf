import SMTPDTables

#if canImport(Glibc)
import Glibc
#endif

/// Reading a password: from the terminal without echo, or lines of standard input.
///
/// Bounded: a line longer than `maximumLength` stops the reading (`.tooLong`), so a hostile stream never
/// costs more memory than that. Linear: input is read in blocks and each byte is looked at once.
enum PasswordInput {
    /// The longest password read, in bytes without the newline: 1 MiB. (crypt(3) itself takes at most
    /// 511 bytes, bcrypt uses 72; the reading limit only bounds what a stream can cost.)
    static let maximumLength = 1 << 20

    /// What reading one line gave.
    enum Line: Equatable {
        case line([UInt8])
        /// End of input before any byte of a line.
        case end
        /// Over `maximumLength` bytes before its newline.
        case tooLong
        /// read(2) failed with this errno.
        case failed(Int32)
    }

    /// Lines (without their LF) of a descriptor, read in blocks.
    struct Reader {
        let fd: Int32
        private var buffer = [UInt8](repeating: 0, count: 1 << 16)
        private var start = 0
        private var end = 0
        private var atEnd = false

        init(fd: Int32 = STDIN_FILENO) { self.fd = fd }

        /// Bytes read from the descriptor but not yet returned in a line.
        var unreadCount: Int { end - start }

        mutating func next() -> Line {
            var line: [UInt8] = []
            while true {
                if start < end {
                    // Only the bytes not searched before: the cost is linear in the line, however long.
                    let newline = buffer[start..<end].firstIndex(of: UInt8(ascii: "\n"))
                    let stop = newline ?? end
                    guard line.count + (stop - start) <= PasswordInput.maximumLength else { return .tooLong }
                    line.append(contentsOf: buffer[start..<stop])
                    if let newline {
                        start = newline + 1
                        return .line(line)
                    }
                    start = end
                }
                if atEnd { return line.isEmpty ? .end : .line(line) }
                let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
                if n < 0 {
                    if errno == EINTR { continue }
                    return .failed(errno)
                }
                if n == 0 { atEnd = true }
                start = 0
                end = max(n, 0)
            }
        }
    }

    /// Reads one line from the terminal on stdin with echo turned off (termios), prompting on stderr.
    ///
    /// The terminal's settings come back on every way out: the return, and SIGINT (^C), SIGQUIT (^\),
    /// SIGTERM and SIGHUP, which restore them and end the process with 128 + the signal.
    static func readWithoutEcho(prompt: String) -> Line {
        var saved = termios()
        guard tcgetattr(STDIN_FILENO, &saved) == 0 else {
            writeStderr(prompt)
            defer { writeStderr("\n") }
            var reader = Reader()
            return reader.next()
        }
        // The handlers know the settings before echo goes off, so no signal can leave it off.
        TerminalRestore.arm(saved)
        var quiet = saved
        quiet.c_lflag &= ~tcflag_t(ECHO | ECHONL)
        quiet.c_lflag |= tcflag_t(ICANON)
        _ = tcsetattr(STDIN_FILENO, TCSANOW, &quiet)
        defer {
            _ = tcsetattr(STDIN_FILENO, TCSANOW, &saved)
            TerminalRestore.disarm()
            writeStderr("\n")
        }
        writeStderr(prompt)
        // A terminal in canonical mode gives at most one line per read: nothing past it is consumed.
        var reader = Reader()
        return reader.next()
    }

    /// A password from the terminal (prompting without echo) or else the first line of standard input.
    /// Standard input is read in blocks; when it is a regular file, the offset is put back to just after
    /// the line, so nothing past it is consumed.
    static func read(prompt: String = "Password: ") -> Line {
        if isatty(STDIN_FILENO) == 1 { return readWithoutEcho(prompt: prompt) }
        var reader = Reader()
        let line = reader.next()
        if reader.unreadCount > 0 { _ = lseek(STDIN_FILENO, off_t(-reader.unreadCount), SEEK_CUR) }
        return line
    }

    /// The message for a line that could not be read, for `command` (`encrypt: ...`), or nil for a line.
    static func problem(_ line: Line, command: String) -> String? {
        switch line {
        case .line: return nil
        case .end: return "\(command): no password given"
        case .tooLong: return "\(command): a password is limited to \(maximumLength) bytes (1 MiB)"
        case .failed(let code): return "\(command): cannot read standard input: \(SystemError("read", code: code).reason)"
        }
    }
}

/// Puts the terminal back when a signal ends the process at the prompt. Only async-signal-safe work in
/// the handler: tcsetattr(3), write(2), _exit(2) on storage allocated before it is installed.
private enum TerminalRestore {
    static let signals: [Int32] = [SIGINT, SIGQUIT, SIGTERM, SIGHUP]
    nonisolated(unsafe) static var previous: [(Int32, sigaction)] = []

    static func arm(_ settings: termios) {
        savedTerminal.pointee = settings
        for signal in signals {
            var action = sigaction(), old = sigaction()
            action.__sigaction_handler.sa_handler = restoreTerminalAndExit
            sigfillset(&action.sa_mask)
            if sigaction(signal, &action, &old) == 0 { previous.append((signal, old)) }
        }
    }

    static func disarm() {
        for (signal, old) in previous {
            var action = old
            _ = sigaction(signal, &action, nil)
        }
        previous = []
    }
}

/// The terminal's settings before the prompt; allocated once, read by the handler.
nonisolated(unsafe) private let savedTerminal = UnsafeMutablePointer<termios>.allocate(capacity: 1)

private func restoreTerminalAndExit(_ signal: Int32) {
    _ = tcsetattr(STDIN_FILENO, TCSANOW, savedTerminal)
    var newline = UInt8(ascii: "\n")
    _ = write(STDERR_FILENO, &newline, 1)
    _exit(128 + signal)
}

private func writeStderr(_ text: String) {
    let bytes = Array(text.utf8)
    var offset = 0
    bytes.withUnsafeBytes { raw in
        while offset < raw.count {
            let n = write(STDERR_FILENO, raw.baseAddress! + offset, raw.count - offset)
            if n < 0, errno == EINTR { continue }
            if n <= 0 { return }
            offset += n
        }
    }
}
