#if canImport(Glibc)
import Glibc
#endif

/// The `file:` backend (upstream table_static.c): the whole file read at once, parsed by `TableLineParser`.
enum FileTable {
    static func load(path: String, delimiter: UInt8) throws(TableError) -> TableRecords {
        var bytes = try readWholeFile(path)
        let parsed = try TableLineParser.parse(&bytes, path: path)
        return TableRecords(kind: parsed.kind, storage: bytes, entries: parsed.entries, delimiter: delimiter)
    }
}

/// What identifies one version of a file: reopen when any of it changes (smtpd looks at the mtime).
struct FileStamp: Equatable {
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

    static func of(path: String) -> FileStamp? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return FileStamp(st)
    }
}

func errnoText(_ code: Int32) -> String { String(cString: strerror(code)) }

/// Reads a regular file whole, refusing directories, FIFOs and devices (which could block or never end).
func readWholeFile(_ path: String) throws(TableError) -> [UInt8] {
    let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
    guard fd >= 0 else { throw TableError(.io, path: path, errnoText(errno)) }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0 else { throw TableError(.io, path: path, errnoText(errno)) }
    guard (st.st_mode & S_IFMT) == S_IFREG else {
        let what = (st.st_mode & S_IFMT) == S_IFDIR ? "a directory" : "not a regular file"
        throw TableError(.io, path: path, "\(what), not a table file")
    }
    // Refuse what the parser cannot index before allocating (a sparse file claims any size at no cost).
    let limit = TableLineParser.maxFileSize
    guard st.st_size <= limit else {
        throw TableError(.format, path: path, "file too large for a table (\(st.st_size) bytes, \(limit) at most)")
    }
    let size = Int(st.st_size)
    var failure: Int32 = 0
    var total = 0
    var bytes = [UInt8](unsafeUninitializedCapacity: size) { buf, initialized in
        adviseHugePages(buf.baseAddress, byteCount: size)
        while total < size {
            let n = read(fd, buf.baseAddress! + total, size - total)
            if n < 0 {
                if errno == EINTR { continue }
                failure = errno
                break
            }
            if n == 0 { break }
            total += n
        }
        initialized = total
    }
    if failure != 0 { throw TableError(.io, path: path, errnoText(failure)) }
    // The file may have grown since fstat: read the rest too.
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 {
            if errno == EINTR { continue }
            throw TableError(.io, path: path, errnoText(errno))
        }
        if n == 0 { break }
        bytes.append(contentsOf: chunk[0..<n])
        if bytes.count > limit {
            throw TableError(.format, path: path, "file too large for a table (over \(limit) bytes)")
        }
    }
    return bytes
}
