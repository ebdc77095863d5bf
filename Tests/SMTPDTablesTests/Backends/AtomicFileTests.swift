import Foundation
import Testing
@testable import SMTPDTables

@Suite("AtomicFile")
struct AtomicFileTests {
    static func contents(_ path: String) throws -> String {
        try String(decoding: Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self)
    }

    static func entries(_ dir: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
    }

    static func statOf(_ path: String) throws -> stat {
        var st = stat()
        guard lstat(path, &st) == 0 else { throw BDBTestFailure("lstat \(path): \(errno)") }
        return st
    }

    static func overwrite(_ path: String, with text: String) throws {
        let fd = open(path, O_WRONLY | O_TRUNC)
        guard fd >= 0 else { throw BDBTestFailure("open \(path)") }
        defer { close(fd) }
        _ = text.withCString { write(fd, $0, strlen($0)) }
    }

    /// A PID that no process has (a child that has exited and been reaped).
    /// A PID no process can have: above the largest pid_max Linux allows (2^22). A PID of a process that
    /// exited would do only until the PID space wraps, which other tests' child processes make quick.
    static func deadPID() throws -> pid_t {
        2_147_483_646
    }

    @Test func replacesTheTargetAndLeavesNothingBehind() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let target = try TestSupport.write("old\n", to: "map.db", in: dir)
            let source = try TestSupport.write("source\n", to: "map", in: dir)
            chmod(source, 0o640)
            var seenTemporary = ""
            let result = try AtomicFile.replace(target, attributes: .init(ofFileAt: source)) { temporary in
                seenTemporary = temporary
                // Beside the target, named TARGET.smtpd-tables-tmp.PID.XXXXXX, created by us.
                #expect(AtomicFile.directoryName(of: temporary) == dir)
                #expect(AtomicFile.writerPID(inTemporaryName: AtomicFile.baseName(of: temporary),
                                             targetName: "map.db") == getpid())
                // The mode is carried before any data is written.
                #expect(try Self.statOf(temporary).st_mode & 0o7777 == 0o640)
                // While we write, the target is still the old file and nobody sees a stale temporary.
                #expect(try Self.contents(target) == "old\n")
                #expect(AtomicFile.staleTemporaries(for: target).isEmpty)
                try Self.overwrite(temporary, with: "new\n")
                return 42
            }
            #expect(result == 42)
            #expect(try Self.contents(target) == "new\n")
            #expect(try Self.statOf(target).st_mode & 0o7777 == 0o640)
            #expect(try Self.entries(dir) == ["map", "map.db"])
            #expect(!FileManager.default.fileExists(atPath: seenTemporary))
        }
    }

    @Test func writerHoldsALockOnTheTemporaryFile() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let target = dir + "/map.db"
            try AtomicFile.replace(target, attributes: nil) { temporary in
                let fd = open(temporary, O_RDONLY | O_CLOEXEC)
                defer { close(fd) }
                #expect(fd >= 0)
                #expect(flock(fd, LOCK_EX | LOCK_NB) == -1 && errno == EWOULDBLOCK)
            }
            // Without attributes the file keeps mkstemp's 0600, like upstream makemap reading stdin.
            #expect(try Self.statOf(target).st_mode & 0o7777 == 0o600)
        }
    }

    @Test(.enabled(if: getuid() == 0, "changing a file's owner needs root"))
    func ownerIsCarried() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let source = try TestSupport.write("x\n", to: "map", in: dir)
            #expect(chown(source, 12345, 23456) == 0)
            chmod(source, 0o2640)  // setgid survives: chown comes before chmod
            let target = dir + "/map.db"
            try AtomicFile.replace(target, attributes: .init(ofFileAt: source)) { _ in }
            let st = try Self.statOf(target)
            #expect(st.st_uid == 12345)
            #expect(st.st_gid == 23456)
            #expect(st.st_mode & 0o7777 == 0o2640)
        }
    }

    @Test func failingBodyLeavesTheTargetUntouched() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let target = try TestSupport.write("old\n", to: "map.db", in: dir)
            let before = try Self.statOf(target)
            #expect(throws: BDBTestFailure.self) {
                try AtomicFile.replace(target, attributes: nil) { temporary in
                    try Self.overwrite(temporary, with: "partial")
                    throw BDBTestFailure("parse error")
                }
            }
            #expect(try Self.contents(target) == "old\n")
            #expect(try Self.statOf(target).st_ino == before.st_ino)
            #expect(try Self.entries(dir) == ["map.db"])
        }
    }

    @Test func failingRenameRemovesTheTemporaryFile() throws {
        try TestSupport.withTemporaryDirectory { dir in
            // A non-empty directory where the file should go: rename(2) fails.
            let target = dir + "/map.db"
            try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: false)
            try TestSupport.write("keep\n", to: "inside", in: target)
            let error = #expect(throws: TableError.self) {
                try AtomicFile.replace(target, attributes: nil) { temporary in
                    try Self.overwrite(temporary, with: "new\n")
                }
            }
            #expect(error?.kind == .io)
            #expect(error?.path == target)
            #expect(error?.message.hasPrefix("rename: ") == true)
            #expect(try Self.entries(dir) == ["map.db"])
            #expect(try Self.contents(target + "/inside") == "keep\n")
        }
    }

    @Test func missingDirectoryIsAnIOError() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let target = dir + "/missing/map.db"
            let error = #expect(throws: TableError.self) {
                try AtomicFile.replace(target, attributes: nil) { _ in Issue.record("body must not run") }
            }
            #expect(error?.kind == .io)
            #expect(error?.description == "\(target): mkstemp: \(String(cString: strerror(ENOENT)))")
        }
    }

    /// The way makemap will use both layers: a db written under the temporary name, renamed into place.
    @Test func berkeleyDBWrittenAtomically() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let target = dir + "/aliases.db"
            let source = try TestSupport.write("root: john\n", to: "aliases", in: dir)
            try AtomicFile.replace(target, attributes: .init(ofFileAt: source)) { temporary in
                let db = try BerkeleyDB.create(at: temporary, method: .hash)
                try db.put(BDBFixtures.z("root"), BDBFixtures.z("john"))
                try db.close()
            }
            #expect(try BerkeleyDB.open(readingFrom: target, as: .hash).get(BDBFixtures.z("root"))
                    == BDBFixtures.z("john"))
            #expect(try Self.entries(dir) == ["aliases", "aliases.db"])
            if let makemap = TestSupport.realMakemap {
                #expect(try TestSupport.run(makemap, ["-U", target]).stdout == "root\tjohn\n")
            }
        }
    }

    @Test func childProcessesDoNotInheritTheWriter() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let target = dir + "/map.db"
            try AtomicFile.replace(target, attributes: nil) { temporary in
                // A process spawned while the map is written (by the embedding program, or another thread) must
                // not hold the temporary file, or its lock, open. system(3) passes on every descriptor not marked
                // close-on-exec (Foundation's Process closes them itself, so it would not tell).
                let listing = dir + "/fds"
                #expect(system("ls -l /proc/$$/fd > '\(listing)'") == 0)
                let fds = try String(contentsOfFile: listing, encoding: .utf8)
                #expect(fds.contains(listing))  // the shell's own standard output: the listing works
                #expect(!fds.contains(temporary))
            }
        }
    }

    @Test func staleTemporariesAreFoundAndRemovedSafely() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let target = try TestSupport.write("db\n", to: "map.db", in: dir)
            let dead = try Self.deadPID()
            let stale = try TestSupport.write("junk", to: "map.db.smtpd-tables-tmp.\(dead).Ab3dE5", in: dir)
            // Kept: a live writer's PID (ours), a file someone holds locked, a symlink, names not ours.
            let live = try TestSupport.write("x", to: "map.db.smtpd-tables-tmp.\(getpid()).Zz9yX8", in: dir)
            let locked = try TestSupport.write("x", to: "map.db.smtpd-tables-tmp.\(dead).Lk0000", in: dir)
            // Close-on-exec: a process another test spawns meanwhile would inherit the descriptor and keep the lock
            // after close(lockFD) below.
            var lockFD = open(locked, O_RDONLY | O_CLOEXEC)
            defer { if lockFD >= 0 { close(lockFD) } }
            #expect(flock(lockFD, LOCK_EX | LOCK_NB) == 0)
            let link = dir + "/map.db.smtpd-tables-tmp.\(dead).Sy1111"
            #expect(symlink(target, link) == 0)
            let keep = [
                "map.db.Ab3dE5fG7hJ",                                   // upstream's: unprovable
                "map.db.smtpd-tables-tmp.\(dead).Ab3dE",                // wrong random part length
                "map.db.smtpd-tables-tmp.x\(dead).Ab3dE5",              // not a PID
                "other.db.smtpd-tables-tmp.\(dead).Ab3dE5",             // another target's
                "xmap.db.smtpd-tables-tmp.\(dead).Ab3dE5",
            ]
            for name in keep { try TestSupport.write("x", to: name, in: dir) }

            #expect(AtomicFile.staleTemporaries(for: target) == [stale])
            #expect(FileManager.default.fileExists(atPath: stale))  // listing removes nothing
            #expect(AtomicFile.removeStaleTemporaries(for: target) == [stale])
            #expect(!FileManager.default.fileExists(atPath: stale))
            let left = Set(try Self.entries(dir))
            #expect(left == Set(keep + ["map.db", AtomicFile.baseName(of: live), AtomicFile.baseName(of: locked),
                                        AtomicFile.baseName(of: link)]))
            #expect(try Self.contents(target) == "db\n")
            // Once the lock is gone the dead writer's file is stale too. A process another test spawns at this
            // moment holds a copy of every descriptor between its fork and its exec, the lock included: wait
            // out such a copy (a few milliseconds) rather than fail on it.
            close(lockFD)
            lockFD = -1
            var removed = AtomicFile.removeStaleTemporaries(for: target)
            for _ in 0..<50 where removed.isEmpty {
                usleep(100_000)
                removed = AtomicFile.removeStaleTemporaries(for: target)
            }
            #expect(removed == [locked])
        }
    }

    @Test func writerPIDParsing() {
        #expect(AtomicFile.writerPID(inTemporaryName: "a.db.smtpd-tables-tmp.123.abcdef", targetName: "a.db") == 123)
        #expect(AtomicFile.writerPID(inTemporaryName: "a.db.smtpd-tables-tmp.0.abcdef", targetName: "a.db") == nil)
        #expect(AtomicFile.writerPID(inTemporaryName: "a.db.smtpd-tables-tmp..abcdef", targetName: "a.db") == nil)
        #expect(AtomicFile.writerPID(inTemporaryName: "a.db.smtpd-tables-tmp.123.abcdefg", targetName: "a.db") == nil)
        #expect(AtomicFile.writerPID(inTemporaryName: "a.db.smtpd-tables-tmp.99999999999.abcdef",
                                     targetName: "a.db") == nil)
        #expect(AtomicFile.writerPID(inTemporaryName: "b.db.smtpd-tables-tmp.123.abcdef", targetName: "a.db") == nil)
    }
}
