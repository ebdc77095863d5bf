@testable import SMTPDTables

/// One parsed line as the tests look at it: folded key, value bytes (nil in a list), 1-based line number.
struct ParsedEntry: Equatable, CustomStringConvertible {
    var key: [UInt8]
    var value: [UInt8]?
    var line: Int

    init(_ key: String, _ value: String?, line: Int) {
        self.key = Array(key.utf8)
        self.value = value.map { Array($0.utf8) }
        self.line = line
    }

    init(key: [UInt8], value: [UInt8]?, line: Int) {
        self.key = key
        self.value = value
        self.line = line
    }

    var description: String {
        "\(line):\(String(decoding: key, as: UTF8.self))=\(value.map { String(decoding: $0, as: UTF8.self) } ?? "<list>")"
    }
}

enum Fixture {
    /// Runs the shared line parser over `bytes` and returns the kind and every entry (duplicates included).
    static func parse(bytes: [UInt8], kind: TableKind? = nil, path: String = "t")
        throws(TableError) -> (kind: TableKind, entries: [ParsedEntry]) {
        var storage = bytes
        let result = try TableLineParser.parse(&storage, kind: kind, path: path)
        let entries = result.entries.map { e in
            ParsedEntry(key: Array(storage[Int(e.keyStart)..<Int(e.keyStart + e.keyLength)]),
                        value: e.valueLength < 0 ? nil
                            : Array(storage[Int(e.valueStart)..<(Int(e.valueStart) + Int(e.valueLength))]),
                        line: Int(e.line))
        }
        return (result.kind, entries)
    }

    static func parse(_ text: String, kind: TableKind? = nil, path: String = "t")
        throws(TableError) -> (kind: TableKind, entries: [ParsedEntry]) {
        try parse(bytes: Array(text.utf8), kind: kind, path: path)
    }

    /// The error the parser throws for `text`, or nil when it parses.
    static func parseError(_ text: String, path: String = "t") -> TableError? {
        parseError(bytes: Array(text.utf8), path: path)
    }

    static func parseError(bytes: [UInt8], kind: TableKind? = nil, path: String = "t") -> TableError? {
        do {
            _ = try parse(bytes: bytes, kind: kind, path: path)
            return nil
        } catch {
            return error
        }
    }

    /// A table held in memory.
    static func table(_ text: String, delimiter: Character = "+") throws(TableError) -> Table {
        try Table(contents: Array(text.utf8), name: "mem", subaddressDelimiter: delimiter.asciiValue ?? 0x2B)
    }
}

/// A small deterministic PRNG (SplitMix64), so property tests are reproducible from their seed.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
