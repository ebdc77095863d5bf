import Foundation
@testable import SMTPDTables

/// The `db:` reader (DBTable over BerkeleyDB, i.e. libdb 5.3 behind our wrapper) on mutated database files:
/// the input is written to one file (the same path for the whole process) and opened as `db:`, then a few
/// lookups run on the table; the file is also opened as hash (as smtpd opens every db: table) and looked up
/// with `DB->get`, the way smtpd reads it. Seeds are real makemap files (hash, btree, set, empty), so
/// mutations land in real pages.
/// Properties checked: opening either gives a table or throws a `.format` or `.io` TableError naming the file;
/// a table's entries are found again by their own keys.
let dbPath: String = {
    let dir = NSTemporaryDirectory() + "fuzzdb-\(getpid())"
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir + "/t.db"
}()

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
    close(fd)
}

let probes: [[UInt8]] = ["root", "bob@example.org", "example.org", "192.168.1.1", "[::1]"].map { Array($0.utf8) }

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDBFile(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    write(bytes, to: dbPath)

    do {
        let table = try Table(path: dbPath, backend: .db)
        for entry in table.entries.prefix(8) {
            let found = try? table.lookup(bytes: entry.keyBytes, service: .string)
            // A key holding capitals is never found by an exact service (smtpd looks folded keys up).
            if !entry.keyBytes.contains(where: { $0 &- 0x41 < 26 }) {
                check(found != nil, "an entry is not found by its own key")
            }
        }
        for key in probes {
            for service in TableService.allCases {
                guard let hit = try? table.lookup(bytes: key, service: service) else { continue }
                _ = try? table.value(of: hit, service: service)
            }
        }
    } catch {
        check(error.kind == .format || error.kind == .io, "unexpected error kind \(error.kind): \(error)")
        check(error.path == dbPath, "error without the file name: \(error)")
    }

    // smtpd's way: open as hash, DB->get with makemap's key + NUL.
    if let db = try? BerkeleyDB.open(readingFrom: dbPath, as: .hash) {
        for key in probes { _ = try? db.get(key + [0]) }
        try? db.close()
    }
    return 0
}
