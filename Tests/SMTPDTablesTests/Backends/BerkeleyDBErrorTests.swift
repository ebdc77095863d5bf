import Foundation
import Testing
@testable import SMTPDTables

/// Files that are not readable databases give a `BerkeleyDBError` naming the file, never a crash,
/// and libdb prints nothing of its own (its diagnostics land in `detail`).
@Suite("BerkeleyDB errors")
struct BerkeleyDBErrorTests {
    @Test func missingFile() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let path = dir + "/missing.db"
            let error = #expect(throws: BerkeleyDBError.self) { try BerkeleyDB.open(readingFrom: path) }
            #expect(error?.code == ENOENT)
            #expect(error?.path == path)
            #expect(error?.function == "DB->open")
            #expect(error?.message == String(cString: strerror(ENOENT)))
            #expect(error?.isFormatError == false)
            #expect(error?.tableError.kind == .io)
            #expect(error?.description.hasPrefix(path + ": DB->open: ") == true)
        }
    }

    @Test func directory() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let error = #expect(throws: BerkeleyDBError.self) { try BerkeleyDB.open(readingFrom: dir) }
            #expect(error?.code == EISDIR)
            #expect(error?.path == dir)
        }
    }

    /// Random bytes of several sizes (page multiples and not, one byte, zeros): each is refused.
    @Test(arguments: [1, 100, 5000, 4096, 8192, 16384])
    func randomBytes(size: Int) throws {
        try TestSupport.withTemporaryDirectory { dir in
            var generator = SystemRandomNumberGenerator()
            let bytes = (0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let path = try TestSupport.write(bytes: bytes, to: "random.db", in: dir)
            let error = #expect(throws: BerkeleyDBError.self) { try BerkeleyDB.open(readingFrom: path) }
            #expect(error?.path == path)
            #expect(error?.tableError.kind == .format)
            let zeros = try TestSupport.write(bytes: Array(repeating: 0, count: size), to: "zeros.db", in: dir)
            #expect(throws: BerkeleyDBError.self) { try BerkeleyDB.open(readingFrom: zeros) }
        }
    }

    @Test func emptyFileIsNotADatabase() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let path = try TestSupport.write("", to: "empty.db", in: dir)
            let error = #expect(throws: BerkeleyDBError.self) { try BerkeleyDB.open(readingFrom: path) }
            #expect(error?.isFormatError == true)
        }
    }

    /// A database cut short anywhere (inside the meta page, at a page boundary, mid-page) is refused
    /// when opened: libdb alone would open a file cut at a page boundary and lose records silently.
    @Test(arguments: BerkeleyDB.AccessMethod.allCases)
    func truncatedDatabase(method: BerkeleyDB.AccessMethod) throws {
        try TestSupport.withTemporaryDirectory { dir in
            let path = dir + "/full.db"
            let records = (0..<3000).map { (BDBFixtures.z("key\($0)"), BDBFixtures.z("value \($0)")) }
            try BDBFixtures.write(records, to: path, method: method)
            let full = try Data(contentsOf: URL(fileURLWithPath: path))
            #expect(full.count > 5 * 4096)
            for length in [10, 512, 4096, 6000, 8192, full.count - 4096, full.count - 1] {
                let cut = try TestSupport.write(bytes: Array(full.prefix(length)), to: "cut\(length).db", in: dir)
                let error = #expect(throws: BerkeleyDBError.self, "cut at \(length)") {
                    try BerkeleyDB.open(readingFrom: cut)
                }
                #expect(error?.isFormatError == true, "cut at \(length): \(String(describing: error))")
                #expect(error?.tableError.kind == .format)
                #expect(error?.tableError.message.hasPrefix("not a usable database: ") == true)
                if length % 4096 == 0, length >= 4096 {
                    // libdb itself accepts these; our length check names the problem.
                    #expect(error?.tableError.message.hasPrefix("not a usable database: truncated file (") == true)
                }
            }
            // The untouched file still opens.
            #expect(try BerkeleyDB.open(readingFrom: path).count() == 3000)
        }
    }

    @Test func createInAMissingDirectory() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let path = dir + "/no/such/dir/t.db"
            let error = #expect(throws: BerkeleyDBError.self) { try BerkeleyDB.create(at: path, method: .hash) }
            #expect(error?.code == ENOENT)
        }
    }

    @Test func invalidPageSizeIsRefused() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let error = #expect(throws: BerkeleyDBError.self) {
                try BerkeleyDB.create(at: dir + "/t.db", method: .btree, options: .init(pageSize: 1000))
            }
            #expect(error?.code == EINVAL)
            #expect(error?.function == "DB->set_pagesize")
            #expect(error?.detail != nil)
        }
    }

    /// libdb writes its diagnostics to standard error unless an error callback is set; ours is, and
    /// the diagnostic ends up in the error's `detail` (and `description`).
    @Test func libdbDiagnosticGoesIntoTheError() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let path = try TestSupport.write(bytes: Array(repeating: 0x41, count: 8192), to: "junk.db", in: dir)
            let error = #expect(throws: BerkeleyDBError.self) { try BerkeleyDB.open(readingFrom: path) }
            let detail = try #require(error?.detail)
            #expect(detail.contains("BDB"))
            #expect(error?.description.contains(detail) == true)
        }
    }
}
