import Foundation
import Testing
@testable import SMTPDTables
#if canImport(Glibc)
import Glibc
#endif

/// Hostile `file:` tables, through `Table(path:)` and through `smtpd-tables query`: every one either works
/// (bytes kept) or fails with exit status 2 and a message naming the file (and, for text, the line); never a
/// signal, a hang or unbounded memory.
@Suite("hostile file: tables")
struct HostileFileTests {
    @Test("a 10 MB line: as a key it is refused at its line, as a value it loads and alias refuses it")
    func tenMegabyteLine() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let huge = [UInt8](repeating: UInt8(ascii: "a"), count: 10 << 20)
            let keyFile = try TestSupport.write(bytes: Array("# @list\n".utf8) + huge + [0x0A], to: "key", in: dir)
            let error = try #require(Table.loadError(keyFile))
            #expect(error.kind == .keyTooLong && error.path == keyFile && error.line == 2)
            Hostile.expectError(try Hostile.run(["query", keyFile, "a"]), prefix: "\(keyFile):2:", containing: "too long")

            let valueFile = try TestSupport.write(bytes: Array("big ".utf8) + huge, to: "value", in: dir)
            let table = try Table(path: valueFile)
            #expect(try table.lookup("big")?.valueBytes?.count == huge.count)
            let found = try Hostile.run(["query", valueFile, "big"])
            #expect(found.exitCode == 0 && found.stdout.count == huge.count + 1)
            Hostile.expectError(try Hostile.run(["query", "-s", "alias", valueFile, "big"]),
                                prefix: "\(valueFile):1:", containing: "alias value too long")
        }
    }

    @Test("NUL bytes make the line an invalid entry")
    func nulBytes() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let path = try TestSupport.write(bytes: Array("root: john\nbad\u{0}key: x\n".utf8), to: "nul", in: dir)
            let error = try #require(Table.loadError(path))
            #expect(error.kind == .invalidEntry && error.line == 2)
            Hostile.expectError(try Hostile.run(["query", path, "root"]), prefix: "\(path):2:", containing: "NUL")
        }
    }

    @Test("invalid UTF-8 works, bytes kept in keys and values")
    func invalidUTF8() throws {
        try TestSupport.withTemporaryDirectory { dir in
            // Key "caf\xE9" (Latin-1), value with a lone continuation byte and an overlong form.
            let key: [UInt8] = [0x63, 0x61, 0x66, 0xE9]
            let value: [UInt8] = [0x80, 0x20, 0xC0, 0xAF, 0x20, 0xFF, 0xFE]
            let path = try TestSupport.write(bytes: Array("Root: john\n".utf8) + key + [0x09] + value + [0x0A],
                                             to: "latin1", in: dir)
            let table = try Table(path: path)
            let hit = try #require(try table.lookup(bytes: key))
            #expect(hit.keyBytes == key && hit.valueBytes == value)
            #expect(try table.lookup("root")?.value == "john")
            // Through standard input: arguments pass through Swift Strings, stdin keys are bytes.
            let r = try Hostile.run(["query", path, "-"], stdin: Data(key + [0x0A]))
            #expect(r.exitCode == 0)
            #expect(r.stdout == key + [0x09] + value + [0x0A])
        }
    }

    @Test("a directory is refused by name")
    func directory() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let error = try #require(Table.loadError(dir))
            #expect(error.kind == .io && error.path == dir && error.line == nil)
            Hostile.expectError(try Hostile.run(["query", dir, "k"]), prefix: "\(dir):", containing: "directory")
        }
    }

    @Test("a FIFO with no writer is refused at once, not waited on")
    func fifo() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let path = dir + "/fifo"
            #expect(mkfifo(path, 0o644) == 0)
            let error = try #require(Table.loadError(path))
            #expect(error.kind == .io && error.path == path)
            let r = try Hostile.run(["query", path, "k"], timeout: 10)
            Hostile.expectError(r, prefix: "\(path):", containing: "not a regular file")
            Hostile.expectError(try Hostile.run(["query", "file:" + path, "k"], timeout: 10), prefix: "\(path):")
        }
    }

    /// Entries are 32-bit offsets: a file over 2 GiB - 1 bytes is refused from its size, before any read or
    /// allocation (a sparse file makes one at no cost; reading it would take gigabytes).
    @Test("a sparse file claiming more than 2 GiB is refused before it is read")
    func hugeSparseFile() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let path = try TestSupport.write("a b\n", to: "sparse", in: dir)
            #expect(truncate(path, off_t(Int32.max) + 1) == 0)
            let start = Date()
            let error = try #require(Table.loadError(path))
            #expect(error.kind == .format && error.path == path && error.message.contains("too large"))
            Hostile.expectError(try Hostile.run(["query", path, "a"], addressSpaceLimit: 512 << 20, timeout: 10),
                                prefix: "\(path):", containing: "too large")
            #expect(Date().timeIntervalSince(start) < 5)
        }
    }

    @Test("a character device that never ends is refused")
    func device() throws {
        let error = try #require(Table.loadError("/dev/zero"))
        #expect(error.kind == .io && error.path == "/dev/zero")
        Hostile.expectError(try Hostile.run(["query", "/dev/zero", "k"], timeout: 10), prefix: "/dev/zero:")
    }

    /// Root reads a mode-000 file, so as root the unreadable file is /proc/self/mem: it opens, fstat calls it
    /// a regular file, and read(2) fails with EIO (address 0 is not mapped). As another user, mode 000.
    @Test("an unreadable file is an I/O error naming it")
    func unreadable() throws {
        try TestSupport.withTemporaryDirectory { dir in
            var paths = ["/proc/self/mem"]
            if geteuid() != 0 {
                let path = try TestSupport.write("a b\n", to: "secret", in: dir)
                #expect(chmod(path, 0) == 0)
                paths.append(path)
            }
            for path in paths {
                let error = try #require(Table.loadError(path))
                #expect(error.kind == .io && error.path == path)
                Hostile.expectError(try Hostile.run(["query", path, "k"]), prefix: "\(path):")
            }
        }
    }

    @Test("a symlink loop and a dangling symlink are I/O errors naming the link")
    func symlinks() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let a = dir + "/a", b = dir + "/b", dangling = dir + "/dangling"
            #expect(symlink(b, a) == 0 && symlink(a, b) == 0 && symlink(dir + "/nowhere", dangling) == 0)
            let loop = try #require(Table.loadError(a))
            #expect(loop.kind == .io && loop.path == a && loop.message == String(cString: strerror(ELOOP)))
            Hostile.expectError(try Hostile.run(["query", a, "k"]), prefix: "\(a):",
                                containing: String(cString: strerror(ELOOP)))
            Hostile.expectError(try Hostile.run(["query", dangling, "k"]), prefix: "\(dangling):",
                                containing: String(cString: strerror(ENOENT)))
        }
    }

    /// smtpd copies an alias value into a LINE_MAX (2048) buffer and gives up when it does not fit (expand.c
    /// `expand_line`): a 1M-element list (about 7 MB) loads, but the alias lookup fails with the file and
    /// line, at once and without building a million nodes. 2047 bytes is the largest value that works.
    @Test("a 1M-element alias list on one key fails in bounded time; 2047 bytes is the limit")
    func millionAliasElements() throws {
        try TestSupport.withTemporaryDirectory { dir in
            var line = Array("list: ".utf8)
            line.reserveCapacity(8 << 20)
            for i in 0..<1_000_000 { line += Array("u\(i),".utf8) }
            let path = try TestSupport.write(bytes: Array("root: john\n".utf8) + line + [0x0A], to: "aliases", in: dir)
            let start = Date()
            let table = try Table(path: path)
            do {
                _ = try table.value(for: "list", service: .alias)
                Issue.record("a 7 MB alias value was accepted")
            } catch let error as TableError {
                #expect(error.kind == .invalidValue && error.path == path && error.line == 2)
            }
            #expect(Date().timeIntervalSince(start) < 10)
            Hostile.expectError(try Hostile.run(["query", "-s", "alias", path, "list"]), prefix: "\(path):2:",
                                containing: "alias value too long")

            // The boundary: 2047 bytes of user names is a valid value, 2048 is not.
            let names = (0..<1000).map { "u\($0)" }.joined(separator: ",")
            let fits = String(names.prefix(2047)), over = String(names.prefix(2048))
            #expect(fits.utf8.count == 2047 && over.utf8.count == 2048)
            let edge = try TestSupport.write("fits: \(fits)\nover: \(over)\n", to: "edge", in: dir)
            let edgeTable = try Table(path: edge)
            guard case .alias(let nodes)? = try edgeTable.value(for: "fits", service: .alias) else {
                Issue.record("no alias value")
                return
            }
            #expect(nodes.count == fits.split(separator: ",").count)
            #expect(throws: TableError.self) { try edgeTable.value(for: "over", service: .alias) }
        }
    }

    @Test("keys: 1023 bytes is the longest, 1024 is refused at its line")
    func longKeys() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let longest = String(repeating: "k", count: 1023), over = String(repeating: "o", count: 1024)
            let ok = try TestSupport.write("\(longest) v\n", to: "ok", in: dir)
            #expect(try Table(path: ok).lookup(longest)?.value == "v")
            let r = try Hostile.run(["query", ok, longest])
            #expect(r.exitCode == 0 && r.stdout == Array("v\n".utf8))

            let bad = try TestSupport.write("a b\n# c\n\(over) v\n", to: "bad", in: dir)
            let error = try #require(Table.loadError(bad))
            #expect(error.kind == .keyTooLong && error.line == 3)
            Hostile.expectError(try Hostile.run(["query", bad, "a"]), prefix: "\(bad):3:", containing: "key too long")
            // A lookup key over the limit is refused too (no file line to name).
            let lookup = try Hostile.run(["query", ok, over])
            #expect(lookup.exitCode == 2 && lookup.stderr.contains("too long"))
        }
    }

    /// 1M lines (about 20 MB) load in well under 512 MiB of address space (measured: about 150 MiB for the
    /// debug build; the baseline is under 50 MiB), and every key is found.
    @Test("1M lines load in bounded memory")
    func millionLines() throws {
        try TestSupport.withTemporaryDirectory { dir in
            var text: [UInt8] = []
            text.reserveCapacity(20 << 20)
            for i in 0..<1_000_000 { text += Array("user\(i) \(i)\n".utf8) }
            let path = try TestSupport.write(bytes: text, to: "million", in: dir)
            let r = try Hostile.run(["query", path, "user0", "user999999", "USER500000"],
                                    addressSpaceLimit: 512 << 20, timeout: 60)
            #expect(!r.signaled && r.exitCode == 0, "\(r.stderr)")
            #expect(r.stdout == Array("user0\t0\nuser999999\t999999\nUSER500000\t500000\n".utf8))
        }
    }
}
