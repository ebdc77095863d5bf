import SMTPDTables

/// The file-table line parser on any bytes, then lookups of every service on the parsed table, typed values
/// included. Properties checked: a parse either succeeds or throws a TableError with a line number inside the
/// input; every entry in force is found again by an exact lookup of its own key, with the same value.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTableFile(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let table: Table
    do {
        table = try Table(contents: bytes, name: "fuzz")
    } catch {
        let lines = bytes.reduce(1) { $0 + ($1 == 0x0A ? 1 : 0) }
        if let line = error.line { check(line >= 1 && line <= lines, "error line \(line) outside the input") }
        check(error.path == "fuzz", "error without the file name")
        return 0
    }
    let entries = table.entries
    check(entries.count == table.count, "entries and count disagree")

    var keys: [[UInt8]] = []
    for entry in entries.prefix(4) {
        check(entry.keyBytes.count <= 1023, "key over smtpd's limit was accepted")
        check(!entry.keyBytes.contains(where: { $0 >= 0x41 && $0 <= 0x5A }), "key not folded")
        guard let again = try? table.lookup(bytes: entry.keyBytes, service: .string) else {
            fatalError("an entry is not found by its own key")
        }
        check(again.keyBytes == entry.keyBytes && again.valueBytes == entry.valueBytes, "lookup differs")
        keys.append(entry.keyBytes)
    }
    keys += [Array("alice+tag@a.example.org".utf8), Array("192.168.1.1".utf8), Array("[::1]".utf8)]

    // A regex lookup compiles every key of the table (regcomp dominated the time per input here); FuzzMatchers
    // covers the regex service, so this target tries it on small tables only.
    let services = table.count <= 4 ? TableService.allCases : TableService.allCases.filter { $0 != .regex }
    for key in keys {
        for service in services {
            guard let hit = try? table.lookup(bytes: key, service: service) else { continue }
            do {
                _ = try table.value(of: hit, service: service)
            } catch {
                check(error.path == "fuzz" && error.line != nil, "value error without file and line")
            }
        }
    }
    var n = 0
    table.forEachEntry { _, _ in n += 1 }
    check(n == table.count, "forEachEntry and count disagree")
    return 0
}
