import SMTPDTables

/// Relay hosts (`relay host`, relayhost tables): any bytes, read as upstream to.c `text_to_relayhost`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRelayHost(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    if let relay = try? RelayHost(text) {
        check(relay.port >= 1 && relay.port <= 65535, "port out of range")
        check(relay.host.utf8.count < 256, "host too long")
    }
    return 0
}
