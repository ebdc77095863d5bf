#if canImport(Glibc)
import Glibc
#endif

/// Reading `~/.forward` and `:include:` files the way smtpd does (smtpd.c `parent_forward_open`,
/// util.c `secure_file`, forward.c `forwards_get`, aliases.c `aliases_expand_include`).
enum ForwardFile {
    /// What smtpd's parent process answers for a user's forward file.
    enum Opened {
        /// No file (or no home directory): plain delivery.
        case none
        /// The file's lines (fparseln with `\` escape and continuation and `#` comments); empty when the
        /// file is empty.
        case lines([[UInt8]])
        /// smtpd refuses the file (insecure, a symbolic link, unreadable): a permanent failure.
        case refused(String)
        /// A temporary failure (sticky home directory, file over 4 KiB, I/O error).
        case failed(String)
    }

    static let maxSize = 4 * 1024

    /// Opens `directory/.forward` for the user with `uid`, with smtpd's ownership and mode checks.
    static func open(directory: String, uid: UInt32) -> Opened {
        let path = directory.hasSuffix("/") ? directory + ".forward" : directory + "/.forward"
        var sb = stat()
        if stat(directory, &sb) == -1 {
            return errno == ENOENT ? .none : .refused(SystemError("stat", path: directory).description)
        }
        if sb.st_mode & S_ISVTX != 0 { return .failed("\(directory) is sticky") }
        let fd: Int32
        do {
            fd = try SystemFile.open(path, flags: O_NOFOLLOW)
        } catch {
            if error.code == ENOENT { return .none }
            if [EMFILE, ENFILE, EIO].contains(error.code) { return .failed(error.description) }
            return .refused(error.description)
        }
        defer { close(fd) }
        guard secure(fd: fd, path: path, home: directory, uid: uid) else { return .refused("\(path): insecure file") }
        var st = stat()
        guard fstat(fd, &st) == 0 else { return .failed("\(path): fstat failed") }
        if st.st_size == 0 { return .lines([]) }
        if st.st_size >= maxSize { return .failed("\(path): forward file exceeds max size") }
        guard let bytes = try? SystemFile.readRegular(fd: fd, path: path, limit: maxSize - 1, what: "forward file") else {
            return .failed("\(path): read error")
        }
        return .lines(parseLines(bytes, escape: UInt8(ascii: "\\"), continuation: UInt8(ascii: "\\"),
                                 comment: UInt8(ascii: "#")))
    }

    /// The lines of an `:include:` file (`\` escape, `#` continuation, no comments); nil when it cannot be read.
    /// Only a regular file of at most `SystemFile.maxIncludeFileSize` bytes is read: a FIFO, a device
    /// (`:include:/dev/zero`) or a huge file is refused at once instead of blocking or filling memory.
    static func includeLines(path: String) -> [[UInt8]]? {
        guard let bytes = try? SystemFile.readRegular(path, limit: SystemFile.maxIncludeFileSize, what: "include file")
        else { return nil }
        return parseLines(bytes, escape: UInt8(ascii: "\\"), continuation: UInt8(ascii: "#"), comment: nil)
    }

    /// util.c `secure_file` with `mayread`: a regular file owned by `uid`, not group or world writable, in
    /// directories owned by root or `uid` and not group or world writable, up to the home directory.
    private static func secure(fd: Int32, path: String, home: String, uid: UInt32) -> Bool {
        guard let real = realpath(path, nil) else { return false }
        var buf = String(cString: real)
        free(real)
        var homedir = ""
        if let h = realpath(home, nil) { homedir = String(cString: h); free(h) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG, st.st_uid == uid, st.st_mode & 0o022 == 0
        else { return false }
        while true {
            let parent = buf.lastIndex(of: "/").map { $0 == buf.startIndex ? "/" : String(buf[..<$0]) } ?? "."
            buf = parent
            guard stat(buf, &st) == 0, st.st_uid == 0 || st.st_uid == uid, st.st_mode & 0o022 == 0 else { return false }
            if buf == homedir || buf == "/" || buf == "." { return true }
        }
    }

    /// fparseln(3) with flags 0: comments (an unescaped `comment` to the end of the line) are cut, a line
    /// that was only a comment is skipped, a line ending in an unescaped `continuation` is joined with the
    /// next one; escapes are left in place.
    static func parseLines(_ bytes: [UInt8], escape: UInt8, continuation: UInt8, comment: UInt8?) -> [[UInt8]] {
        var raw: [ArraySlice<UInt8>] = []
        var start = 0
        for i in bytes.indices where bytes[i] == 0x0A {
            raw.append(bytes[start...i])
            start = i + 1
        }
        if start < bytes.count { raw.append(bytes[start...]) }

        func escaped(_ line: ArraySlice<UInt8>, _ at: Int) -> Bool {
            var n = 0, i = at - 1
            while i >= line.startIndex, line[i] == escape { n += 1; i -= 1 }
            return n % 2 == 1
        }

        var result: [[UInt8]] = []
        // The joined line so far, appended to in place (joining by concatenation was quadratic in the number of
        // continued lines); `joining` says whether a line has been started (an empty one counts).
        var buffer: [UInt8] = []
        var joining = false
        var index = 0
        while index < raw.count {
            var more = false
            repeat {
                guard index < raw.count else { more = false; break }
                var line = raw[index]
                index += 1
                more = false
                if let comment, let c = line.indices.first(where: { line[$0] == comment && !escaped(line, $0) }) {
                    line = line[line.startIndex..<c]
                    more = line.isEmpty && !joining
                }
                if line.last == 0x0A { line = line.dropLast() }
                if let last = line.indices.last, line[last] == continuation, !escaped(line, last) {
                    line = line.dropLast()
                    more = true
                }
                if line.isEmpty && joining { continue }
                buffer.append(contentsOf: line)
                joining = true
            } while more
            if joining { result.append(buffer) }
            buffer = []
            joining = false
        }
        return result
    }
}
