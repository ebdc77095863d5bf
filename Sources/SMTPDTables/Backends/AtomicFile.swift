// Atomic replacement of a file, as makemap does it: write a temporary file beside the target,
// give it the source's mode and owner, fsync it, rename it over the target, fsync the directory.
// A reader sees the old file or the new one, never a partial one; a failed run removes its
// temporary file and leaves the target untouched.
//
// Temporary names. Upstream uses mkstemp("TARGET.XXXXXXXXXXX"), which cannot be told apart from
// any other file later. Ours are provably ours:
//
//     TARGET.smtpd-tables-tmp.PID.XXXXXX
//
// where PID is the writing process and XXXXXX is a random part as mkstemp's (the file is created with
// O_EXCL and close-on-exec, so an existing name is never reused). The writer holds an exclusive flock(2)
// on the file from right after creating it until it has been renamed (flock, not fcntl locks: closing libdb's
// own descriptor on the same file does not drop it). A temporary file is stale, and may be
// removed by anyone allowed to, only when all of these hold:
//   1. its name is exactly `basename(TARGET)` + `.smtpd-tables-tmp.` + decimal PID + `.` + 6 characters;
//   2. it is a regular file (not a symlink);
//   3. process PID does not exist (kill(PID, 0) fails with ESRCH): a live or reused PID keeps it;
//   4. an exclusive non-blocking flock on it succeeds: no writer holds it (this also covers
//      writers in another PID namespace sharing the directory).
// The PID test alone closes the short window between mkstemp and flock of a live writer (the
// writer's PID exists); the lock alone protects against PID reuse and other namespaces. Both
// must agree before anything is removed, so a mistake can only keep a stale file, never remove a
// live one.
//
// Signals: SIGINT, SIGTERM, SIGHUP and SIGQUIT during a replace remove the temporary file and end the
// process with status 128 + the signal (AtomicFile+Signals.swift).

import Glibc

/// Writes a file under a temporary name beside its target and renames it into place.
enum AtomicFile {
    /// What goes between the target's name and the PID in a temporary name.
    static let marker = ".smtpd-tables-tmp."

    /// The permission bits and owner to give the new file (makemap carries the source file's).
    struct Attributes: Sendable, Equatable {
        /// Permission bits (`st_mode & 07777`).
        var mode: mode_t
        var owner: uid_t
        var group: gid_t

        init(mode: mode_t, owner: uid_t, group: gid_t) {
            self.mode = mode & 0o7777
            self.owner = owner
            self.group = group
        }

        /// The attributes of the file at `path` (stat(2), following symlinks like upstream).
        init(ofFileAt path: String) throws(TableError) {
            var st = stat()
            guard stat(path, &st) == 0 else { throw AtomicFile.ioError(path, "stat") }
            self.init(mode: st.st_mode, owner: st.st_uid, group: st.st_gid)
        }

        /// The attributes of an open file (fstat(2)).
        init(ofDescriptor fd: Int32, path: String) throws(TableError) {
            var st = stat()
            guard fstat(fd, &st) == 0 else { throw AtomicFile.ioError(path, "fstat") }
            self.init(mode: st.st_mode, owner: st.st_uid, group: st.st_gid)
        }
    }

    /// Replaces `target` with what `body` writes to the temporary path it is given.
    ///
    /// Steps: mkstemp(`TARGET.smtpd-tables-tmp.PID.XXXXXX`) (close-on-exec) and flock(LOCK_EX); with
    /// `attributes`, fchown (only when the owner differs) then fchmod, so the mode survives the
    /// chown; `body(temporaryPath)`; fsync and close; rename(2) over `target`; fsync of the
    /// directory. Without `attributes` the file keeps mkstemp's mode 0600 (upstream makemap does
    /// the same when reading standard input).
    ///
    /// `body` must have closed whatever it opened on the path before it returns. If `body` throws
    /// or any step before the rename fails, the temporary file is removed, `target` is untouched
    /// and the error is rethrown (our failures as `TableError` of kind `.io`). Only a failing
    /// fsync of the directory is reported after the target has already been replaced.
    static func replace<Result>(_ target: String, attributes: Attributes?,
                                _ body: (_ temporaryPath: String) throws -> Result) throws -> Result {
        // Created and registered for removal on a signal (AtomicFile+Signals.swift) with those signals held
        // back, so none finds the file created but not yet registered.
        var slot: Int?
        let created = withInterruptSignalsBlocked { () -> (fd: Int32, path: String)? in
            guard let created = createTemporary(prefix: target + marker + String(getpid()) + ".") else { return nil }
            slot = registerForSignals(created.path)
            return created
        }
        guard let (fd, temporaryPath) = created else { throw ioError(target, "mkstemp") }
        var open = true, renamed = false
        do {
            guard flock(fd, LOCK_EX | LOCK_NB) == 0 else { throw ioError(temporaryPath, "flock") }
            if let attributes { try carry(attributes, to: fd, temporaryPath) }
            let result = try body(temporaryPath)
            guard fsync(fd) == 0 else { throw ioError(temporaryPath, "fsync") }
            open = false
            guard close(fd) == 0 else { throw ioError(temporaryPath, "close") }
            // Renamed and unregistered as one step for a signal: it sees the temporary file or the new map.
            try withInterruptSignalsBlocked { () throws(TableError) in
                guard rename(temporaryPath, target) == 0 else { throw ioError(target, "rename") }
                renamed = true
                if let registered = slot { unregisterForSignals(registered) }
                slot = nil
            }
            try syncDirectory(of: target)
            return result
        } catch {
            if open { _ = close(fd) }
            withInterruptSignalsBlocked {
                if !renamed { _ = unlink(temporaryPath) }
                if let registered = slot { unregisterForSignals(registered) }
            }
            throw error
        }
    }

    /// Writes `bytes` to the temporary file at `path` (a `replace` body); errors name `name`, the target.
    static func writeAll(_ bytes: [UInt8], to path: String, name: String) throws(TableError) {
        let fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC)
        guard fd >= 0 else { throw TableError(.io, path: path, errnoText(errno)) }
        defer { close(fd) }
        var offset = 0
        let failed: Int32 = bytes.withUnsafeBytes { raw in
            while offset < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                offset += n
            }
            return 0
        }
        if failed != 0 { throw TableError(.io, path: name, errnoText(failed)) }
    }

    /// fchown (when needed) then fchmod; upstream's "couldn't carry ownership and perms" failure.
    private static func carry(_ attributes: Attributes, to fd: Int32, _ path: String) throws(TableError) {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw ioError(path, "fstat") }
        if st.st_uid != attributes.owner || st.st_gid != attributes.group {
            guard fchown(fd, attributes.owner, attributes.group) == 0 else {
                throw ioError(path, "couldn't carry ownership and perms: fchown")
            }
        }
        guard fchmod(fd, attributes.mode) == 0 else {
            throw ioError(path, "couldn't carry ownership and perms: fchmod")
        }
    }

    /// fsync(2) of the directory holding `path`, so the rename itself is durable.
    private static func syncDirectory(of path: String) throws(TableError) {
        let directory = directoryName(of: path)
        let dfd = Glibc.open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dfd >= 0 else { throw ioError(directory, "open") }
        defer { _ = close(dfd) }
        // Some file systems cannot fsync a directory (EINVAL); nothing more can be done there.
        guard fsync(dfd) == 0 || errno == EINVAL else { throw ioError(directory, "fsync") }
    }

    // MARK: Stale temporary files

    /// The temporary files of `target` left by writers that are gone (see the rules at the top of
    /// this file), as full paths. Nothing is removed.
    static func staleTemporaries(for target: String) -> [String] {
        scanTemporaries(for: target, remove: false)
    }

    /// Removes the stale temporary files of `target` and returns their paths. Each file is unlinked
    /// while this process holds its lock, so a file in use is never removed.
    @discardableResult
    static func removeStaleTemporaries(for target: String) -> [String] {
        scanTemporaries(for: target, remove: true)
    }

    private static let nameCharacters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)

    /// mkstemp(3) on `prefix` + 6 random characters, but close-on-exec from the start (glibc's mkostemp is not
    /// visible to Swift, and setting the flag afterwards leaves a window): a process another thread spawns
    /// meanwhile must not inherit the descriptor, and with it the lock the writer takes on it.
    private static func createTemporary(prefix: String) -> (fd: Int32, path: String)? {
        var random = SystemRandomNumberGenerator()
        for _ in 0..<100 {
            let suffix = (0..<6).map { _ in nameCharacters[Int.random(in: 0..<nameCharacters.count, using: &random)] }
            let path = prefix + String(decoding: suffix, as: UTF8.self)
            let fd = Glibc.open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            if fd >= 0 { return (fd, path) }
            if errno != EEXIST { return nil }
        }
        return nil
    }

    /// The PID in `name` if it is a temporary name of ours for a target whose last path component
    /// is `targetName`, else nil.
    static func writerPID(inTemporaryName name: String, targetName: String) -> pid_t? {
        let prefix = targetName + marker
        guard name.hasPrefix(prefix) else { return nil }
        let rest = name.utf8.dropFirst(prefix.utf8.count)
        guard let dot = rest.firstIndex(of: UInt8(ascii: ".")) else { return nil }
        let digits = rest[rest.startIndex..<dot]
        let suffix = rest[rest.index(after: dot)...]
        guard !digits.isEmpty, digits.count <= 10, suffix.count == 6,
              digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
              !suffix.contains(UInt8(ascii: "/")),
              let pid = pid_t(String(decoding: digits, as: UTF8.self)), pid > 0
        else { return nil }
        return pid
    }

    private static func scanTemporaries(for target: String, remove: Bool) -> [String] {
        let directory = directoryName(of: target)
        let targetName = baseName(of: target)
        guard let dir = opendir(directory) else { return [] }
        defer { closedir(dir) }
        var found: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            guard let pid = writerPID(inTemporaryName: name, targetName: targetName) else { continue }
            let path = directory == "/" ? "/" + name : directory + "/" + name
            if isStale(path, writer: pid, remove: remove) { found.append(path) }
        }
        return found.sorted()
    }

    private static func isStale(_ path: String, writer pid: pid_t, remove: Bool) -> Bool {
        var st = stat()
        guard lstat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return false }
        // Rule 3: the writer must be gone. EPERM means it exists (someone else's process).
        guard kill(pid, 0) == -1, errno == ESRCH else { return false }
        // Rule 4: nobody holds its lock.
        let fd = Glibc.open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { _ = close(fd) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else { return false }
        // Same file as the one checked above (not swapped in between).
        var opened = stat()
        guard fstat(fd, &opened) == 0, opened.st_ino == st.st_ino, opened.st_dev == st.st_dev else { return false }
        if remove { return unlink(path) == 0 }
        return true
    }

    // MARK: Helpers

    static func directoryName(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let directory = path[..<slash]
        return directory.isEmpty ? "/" : String(directory)
    }

    static func baseName(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    static func ioError(_ path: String, _ what: String) -> TableError {
        let code = errno
        let text = SystemError.text(code)
        return TableError(.io, path: path, "\(what): \(text)")
    }
}
