#if canImport(Glibc)
import Glibc
#endif

/// Reading a password: from the terminal without echo, or the first line of standard input.
enum PasswordInput {
    /// Reads one line from the terminal on stdin with echo turned off (termios), prompting on stderr.
    static func readWithoutEcho(prompt: String) -> [UInt8]? {
        var saved = termios()
        let haveTermios = tcgetattr(STDIN_FILENO, &saved) == 0
        if haveTermios {
            var quiet = saved
            quiet.c_lflag &= ~tcflag_t(ECHO | ECHONL)
            quiet.c_lflag |= tcflag_t(ICANON)
            _ = tcsetattr(STDIN_FILENO, TCSANOW, &quiet)
        }
        defer {
            if haveTermios { _ = tcsetattr(STDIN_FILENO, TCSANOW, &saved) }
            writeStderr("\n")
        }
        writeStderr(prompt)
        return readLine(fd: STDIN_FILENO)
    }

    /// One line (without its LF) from `fd`, read a byte at a time so nothing past it is consumed.
    static func readLine(fd: Int32) -> [UInt8]? {
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while true {
            let n = Glibc.read(fd, &byte, 1)
            if n < 0, errno == EINTR { continue }
            if n <= 0 { return line.isEmpty ? nil : line }
            if byte == UInt8(ascii: "\n") { return line }
            line.append(byte)
        }
    }

    /// A password from the terminal (prompting without echo) or else the first line of standard input.
    static func read(prompt: String = "Password: ") -> [UInt8]? {
        isatty(STDIN_FILENO) == 1 ? readWithoutEcho(prompt: prompt) : readLine(fd: STDIN_FILENO)
    }
}

private func writeStderr(_ text: String) {
    var bytes = Array(text.utf8)
    while !bytes.isEmpty {
        let n = bytes.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
        if n < 0, errno == EINTR { continue }
        if n <= 0 { return }
        bytes.removeFirst(n)
    }
}
