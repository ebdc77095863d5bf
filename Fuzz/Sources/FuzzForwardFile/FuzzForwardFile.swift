import Foundation
@testable import SMTPDTables

/// The `~/.forward` and `:include:` file reader (ForwardFile: fparseln-style line joining, then the resolver's
/// per-line list split and node parse), fed through the resolver end to end: the input is written as a user's
/// `.forward` and as an alias's `:include:` file (the same two paths for the whole process), then both are
/// resolved. Properties checked: the bytes-level line reader agrees with the file readers; no joined line holds
/// a newline; a forward line never holds an unescaped `#`; resolution ends (no error: the tables exist).
struct Fixture {
    let dir: String
    let forward: String
    let include: String
    let resolver: Resolver
}

// libFuzzer calls the target from one thread.
nonisolated(unsafe) let fixture: Fixture = {
    let dir = NSTemporaryDirectory() + "fuzzforward-\(getpid())"
    let home = dir + "/root/home/fz"
    let fm = FileManager.default
    try? fm.createDirectory(atPath: home, withIntermediateDirectories: true)
    chmod(dir + "/root/home", 0o755)
    chmod(home, 0o755)
    let uid = getuid()
    let users = "fz \(uid):\(getgid()):/home/fz\nbob \(uid):\(getgid()):/home/bob\n"
    let aliases = "inc: :include:\(dir)/inc\npostmaster: root\n"
    let conf = """
        table users file:\(dir)/users
        table aliases file:\(dir)/aliases
        action "local" mbox alias <aliases> userbase <users>
        action "out" relay
        match from any for domain "relay.test" action "out"
        match for local action "local"
        """
    _ = fm.createFile(atPath: dir + "/users", contents: Data(users.utf8))
    _ = fm.createFile(atPath: dir + "/aliases", contents: Data(aliases.utf8))
    _ = fm.createFile(atPath: dir + "/smtpd.conf", contents: Data(conf.utf8))
    do {
        let config = try SMTPDConfig.load(path: dir + "/smtpd.conf")
        let resolver = try Resolver(config: config, options: .init(hostname: "localhost", homeRoot: dir + "/root",
                                                                   localAddresses: ["127.0.0.1"]))
        return Fixture(dir: dir, forward: home + "/.forward", include: dir + "/inc", resolver: resolver)
    } catch {
        fatalError("fixture: \(error)")
    }
}()

/// Replaces the file's contents in place (same inode, mode 0644: secure for its owner).
func write(_ bytes: [UInt8], to path: String) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    check(fd >= 0, "cannot write \(path)")
    bytes.withUnsafeBytes { buffer in
        var p = 0
        while p < buffer.count, let base = buffer.baseAddress {
            let n = Glibc.write(fd, base + p, buffer.count - p)
            if n <= 0 { break }
            p += n
        }
    }
    fchmod(fd, 0o644)
    close(fd)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzForwardFile(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let f = fixture
    write(bytes, to: f.forward)
    write(bytes, to: f.include)

    let backslash = UInt8(ascii: "\\")
    let forwardLines = ForwardFile.parseLines(bytes, escape: backslash, continuation: backslash,
                                              comment: UInt8(ascii: "#"))
    let includeLines = ForwardFile.parseLines(bytes, escape: backslash, continuation: UInt8(ascii: "#"),
                                              comment: nil)
    for line in forwardLines + includeLines { check(!line.contains(0x0A), "a joined line holds a newline") }
    for line in forwardLines {
        for i in line.indices where line[i] == UInt8(ascii: "#") {
            var n = 0, j = i - 1
            while j >= 0, line[j] == backslash { n += 1; j -= 1 }
            check(n % 2 == 1, "an unescaped # left in a forward line")
        }
    }
    check(ForwardFile.includeLines(path: f.include).map { $0 == includeLines } == true,
          "include file reader and bytes reader disagree")
    switch ForwardFile.open(directory: f.dir + "/root/home/fz", uid: getuid()) {
    case .lines(let lines):
        check(size < ForwardFile.maxSize, "an over-size forward file was read")
        check(lines == forwardLines, "forward file reader and bytes reader disagree")
    case .failed:
        check(size >= ForwardFile.maxSize, "forward file refused: \(size) bytes")
    case .none, .refused:
        fatalError("forward file not found or refused")
    }

    for recipient in ["fz@localhost", "inc@localhost"] {
        do {
            let r = try f.resolver.resolve(recipient)
            _ = r.deliveries
        } catch {
            fatalError("resolution of \(recipient) threw: \(error)")
        }
    }
    return 0
}
