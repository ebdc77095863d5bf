@testable import SMTPDTables

/// The pattern services through a table: the first line is the query, the rest the table. For domain,
/// mailaddr, netaddr and regex, the indexed lookup must give the same entry as smtpd's walk over every entry
/// (`scanReference`), which tests each key with the service's match function.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMatchers(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let cut = bytes.firstIndex(of: 0x0A) ?? bytes.endIndex
    let query = Array(bytes[..<cut])
    let rest = cut < bytes.endIndex ? Array(bytes[(cut + 1)...]) : []
    guard query.count <= 1023, let table = try? Table(contents: rest, name: "fuzz") else { return 0 }
    for service in [TableService.domain, .mailaddr, .netaddr, .regex, .string] {
        let indexed = try? table.lookup(bytes: query, service: service)
        let reference = table.scanReference(query, service: service)
        check(indexed?.keyBytes == reference?.keyBytes,
                     "\(service): index found \(indexed?.key ?? "nothing"), the walk \(reference?.key ?? "nothing")")
    }
    return 0
}
