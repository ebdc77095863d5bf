import SMTPDTables

/// Alias values (upstream expand.c `expand_line`, to.c `text_to_expandnode`) on any text, as a value string
/// and as the value of a one-line table (alias and mailaddrmap services, which share the list splitter).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAliasValue(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let text = String(decoding: bytes, as: UTF8.self)
    if let nodes = try? ExpansionNode.parseList(text) {
        check(text.utf8.count < 2048, "an over-long alias value was accepted")
        for node in nodes {
            _ = node.description
            if node.kind == .address {
                guard let address = node.address else { fatalError("address node without parts") }
                check(address.user.utf8.count <= 255 && address.domain.utf8.count <= 255, "part too long")
            }
        }
    }
    _ = ExpansionNode(element: text)

    // The same bytes as the value of one entry (newlines would start new entries: make them spaces).
    let line = Array("k: ".utf8) + bytes.map { $0 == 0x0A ? 0x20 : $0 }
    if let table = try? Table(contents: line, name: "fuzz") {
        for service in [TableService.alias, .mailaddrmap] {
            do {
                _ = try table.value(for: "k", service: service)
            } catch {
                check(error.path == "fuzz" && error.line == 1, "value error without file and line")
            }
        }
    }
    return 0
}
