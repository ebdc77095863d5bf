#if canImport(Glibc)
import Glibc
#endif

// The library's one system layer: every file the library reads (tables, db headers, configs, includes, forward
// files, password input) is opened, checked and read here, so the guards (regular files only, sizes bounded
// before and while reading, never a hang on a FIFO or a device) and the error messages are the same everywhere.

/// A failed system call: which call, on which path, and the errno it set.
public struct SystemError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The C function that failed (`open`, `read`, `fstat`, ...).
    public var call: String
    /// The path it was given, if any.
    public var path: String?
    /// The errno value.
    public var code: Int32

    public init(_ call: String, path: String? = nil, code: Int32 = errno) {
        self.call = call
        self.path = path
        self.code = code
    }

    /// strerror(3) of `code`.
    public var reason: String { SystemError.text(code) }

    /// `PATH: reason` as the tools print it (the call is kept for programs, not shown: users know the path).
    public var description: String { path.map { "\($0): \(reason)" } ?? "\(call): \(reason)" }

    /// The same failure as a `TableError` of kind `.io`.
    var tableError: TableError { TableError(.io, path: path, reason) }

    static func text(_ code: Int32) -> String { strerror(code).map { String(cString: $0) } ?? "error \(code)" }
}

/// What identifies one version of a file: reopen when any of it changes (smtpd looks at the mtime).
struct FileStamp: Equatable, Sendable {
    var device: UInt64
    var inode: UInt64
    var size: Int64
    var mtimeSeconds: Int
    var mtimeNanoseconds: Int

    init(_ st: stat) {
        device = UInt64(st.st_dev)
        inode = UInt64(st.st_ino)
        size = Int64(st.st_size)
        mtimeSeconds = Int(st.st_mtim.tv_sec)
        mtimeNanoseconds = Int(st.st_mtim.tv_nsec)
    }

    static func of(path: String) -> FileStamp? { SystemFile.status(path).map(FileStamp.init) }
}

/// Reading files with the guards every reader of the library shares.
enum SystemFile {
    /// The largest file a table, a config or an include may be (the line parser indexes with 32 bits).
    static let maxTableFileSize = Int(Int32.max)
    /// The largest smtpd.conf (with each included file): far above any real config, small enough that a
    /// mistaken path (a log, an image) is refused at once instead of parsed.
    static let maxConfigFileSize = 64 << 20
    /// The largest `:include:` file read by the resolver (smtpd has no limit; a list of a million addresses fits).
    static let maxIncludeFileSize = 256 << 20

    /// stat(2); nil when it fails.
    static func status(_ path: String) -> stat? {
        var st = stat()
        return stat(path, &st) == 0 ? st : nil
    }

    /// Why the regular file at `path` cannot be read (missing, not a regular file, no permission), or nil.
    static func readProblem(_ path: String) -> String? {
        guard let st = status(path) else { return errnoText(errno) }
        guard (st.st_mode & S_IFMT) == S_IFREG else { return "not a regular file" }
        return access(path, R_OK) == 0 ? nil : errnoText(errno)
    }

    /// Whether `path` is a regular file this process may execute.
    static func isExecutable(_ path: String) -> Bool {
        guard let st = status(path), (st.st_mode & S_IFMT) == S_IFREG else { return false }
        return access(path, X_OK) == 0
    }

    /// open(2) for reading, retried on EINTR; always close-on-exec, and non-blocking unless asked (a FIFO then
    /// opens at once instead of waiting for a writer; the type is checked before any read). Blocking is for
    /// streams the user named on purpose (`makemap FIFO`).
    static func open(_ path: String, flags: Int32 = 0, blocking: Bool = false) throws(SystemError) -> Int32 {
        var fd: Int32
        let mode = O_RDONLY | O_CLOEXEC | flags | (blocking ? 0 : O_NONBLOCK)
        repeat { fd = Glibc.open(path, mode) } while fd == -1 && errno == EINTR
        guard fd >= 0 else { throw SystemError("open", path: path) }
        return fd
    }

    /// Reads the regular file at `path` whole, refusing directories, FIFOs and devices (which could block or
    /// never end) and files over `limit` bytes, before reading where the size is known and while reading
    /// where the file grows. `what` names the file's role in messages ("not a regular file, not a table file").
    static func readRegular(_ path: String, limit: Int = maxTableFileSize, what: String = "table file")
        throws(TableError) -> [UInt8]
    {
        let fd: Int32
        do { fd = try open(path) } catch { throw error.tableError }
        defer { close(fd) }
        return try readRegular(fd: fd, path: path, limit: limit, what: what)
    }

    /// The open-file form of `readRegular(_:limit:what:)`.
    static func readRegular(fd: Int32, path: String, limit: Int, what: String) throws(TableError) -> [UInt8] {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw SystemError("fstat", path: path).tableError }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            let kind = (st.st_mode & S_IFMT) == S_IFDIR ? "a directory" : "not a regular file"
            throw TableError(.io, path: path, "\(kind), not a \(what)")
        }
        // Refuse before allocating: a sparse file claims any size at no cost.
        guard st.st_size <= limit else {
            throw TableError(.format, path: path, "file too large for a \(what) (\(st.st_size) bytes, \(limit) at most)")
        }
        return try readBounded(fd: fd, name: path, limit: limit, sizeHint: Int(st.st_size), what: what)
    }

    /// Reads `fd` to its end, at most `limit` bytes (a stream: standard input, a FIFO the user named). The
    /// memory used is bounded by the limit: past it the read stops with an error. Blocking descriptors block;
    /// a non-blocking one that has no data is waited for with poll(2).
    ///
    /// `stopAtNUL` ends the read after the first NUL byte: for text formats where a NUL is already an error at
    /// its line, so that `/dev/zero` or `/dev/urandom` given as a table is refused at once instead of read to
    /// the limit.
    static func readBounded(fd: Int32, name: String, limit: Int, sizeHint: Int = 0, what: String = "file",
                            stopAtNUL: Bool = false) throws(TableError) -> [UInt8]
    {
        var stopped = false
        return try readBounded(fd: fd, name: name, limit: limit, sizeHint: sizeHint, what: what,
                               stopAtNUL: stopAtNUL, stoppedAtNUL: &stopped)
    }

    /// `readBounded`, saying whether the read stopped at a NUL byte: it then ends with the line that holds
    /// the NUL (as far as the read that brought it), and the rest of the stream is unread, so the caller must
    /// refuse the input even where that line is valid (a NUL in a comment).
    static func readBounded(fd: Int32, name: String, limit: Int, sizeHint: Int = 0, what: String = "file",
                            stopAtNUL: Bool, stoppedAtNUL: inout Bool) throws(TableError) -> [UInt8]
    {
        let size = min(max(sizeHint, 0), limit)
        var failure: Int32 = 0
        var total = 0
        // The expected size in one read, into storage allocated once (tables are read at start-up and on reload).
        var bytes = [UInt8](unsafeUninitializedCapacity: size) { buf, initialized in
            adviseHugePages(buf.baseAddress, byteCount: size)
            while total < size {
                let n = read(fd, buf.baseAddress! + total, size - total)
                if n < 0 {
                    if errno == EINTR { continue }
                    if errno == EAGAIN, waitReadable(fd) { continue }
                    failure = errno
                    break
                }
                if n == 0 { break }
                total += n
            }
            initialized = total
        }
        if failure != 0 { throw SystemError("read", path: name, code: failure).tableError }
        // The rest: a stream, or a file that grew since fstat.
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let room = limit - bytes.count + 1
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, min($0.count, room)) }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN, waitReadable(fd) { continue }
                throw SystemError("read", path: name).tableError
            }
            if n == 0 { break }
            if stopAtNUL, let nul = chunk[0..<n].firstIndex(of: 0) {
                // Through the end of the NUL's line where this read holds it (`/dev/zero` has none).
                stoppedAtNUL = true
                let end = chunk[nul..<n].firstIndex(of: UInt8(ascii: "\n")) ?? (n - 1)
                bytes.append(contentsOf: chunk[0...end])
                break
            }
            bytes.append(contentsOf: chunk[0..<n])
            if bytes.count > limit {
                throw TableError(.format, path: name, "file too large for a \(what) (over \(limit) bytes)")
            }
        }
        return bytes
    }

    /// poll(2) until `fd` is readable (or at end of file); false on error.
    private static func waitReadable(_ fd: Int32) -> Bool {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        while true {
            let rc = poll(&p, 1, -1)
            if rc < 0, errno == EINTR { continue }
            return rc > 0
        }
    }

    /// Throws unless `path` is a regular file, for readers that open files by path through a library (libdb
    /// would block on a FIFO until a writer comes).
    static func requireRegular(_ path: String, what: String) throws(TableError) {
        guard let st = status(path) else { throw SystemError("stat", path: path).tableError }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            let kind = (st.st_mode & S_IFMT) == S_IFDIR ? "a directory" : "not a regular file"
            throw TableError(.io, path: path, "\(kind), not a \(what)")
        }
    }

    /// The path with symbolic links, `.` and `..` resolved (realpath(3)); the path as given when that fails.
    static func canonical(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// The files a shell pattern names, sorted (the path itself when it has no pattern characters and exists).
    static func glob(_ pattern: String) -> [String] {
        var g = glob_t()
        defer { globfree(&g) }
        guard Glibc.glob(pattern, 0, nil, &g) == 0 else { return [] }
        var out: [String] = []
        for i in 0..<Int(g.gl_pathc) {
            if let p = g.gl_pathv[i] { out.append(String(cString: p)) }
        }
        return out.sorted()
    }

    /// The first `count` bytes of the regular file at `path`, nil when it is not a readable regular file or is
    /// shorter (for telling a db file from a text one without reading it).
    static func header(_ path: String, count: Int) -> [UInt8]? {
        guard let fd = try? open(path) else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        var header = [UInt8](repeating: 0, count: count)
        let n = header.withUnsafeMutableBytes { pread(fd, $0.baseAddress, count, 0) }
        return n == count ? header : nil
    }
}

/// strerror(3) of `code` (for messages of the readers that build their own).
func errnoText(_ code: Int32) -> String { SystemError.text(code) }
