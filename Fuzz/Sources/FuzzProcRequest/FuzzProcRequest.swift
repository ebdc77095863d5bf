import SMTPDTables
#if canImport(Glibc)
import Glibc
#endif

/// A table served once per process: domains, addresses and an alias with `|` in its value.
nonisolated(unsafe) let session: ProcSession = {
    let path = "/tmp/smtpd-tables-fuzz-proc-\(getpid())"
    let text = "example.org\n*.example.net\nuser@example.org\n@example.com\n192.0.2.0/24\nroot: a, |/bin/x\n"
    if let f = fopen(path, "w") { fputs(text, f); fclose(f) }
    var handshake = ProcProtocol.Handshake()
    _ = try? handshake.read(Array("config|tablename|t|x".utf8)[...])
    return ProcSession(ProcServer.Configuration(table: "file:" + path), handshake: handshake)
}()

/// Request lines (the input, and each of its LF-separated lines) through the parser and the session: every
/// reply is one line smtpd accepts (its operation's word, the request's ID, a known answer, no CR, no other LF).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzProcRequest(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    var handshake = ProcProtocol.Handshake()
    _ = try? handshake.read(bytes[...])
    var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
    lines.append(bytes[...])
    for line in lines.prefix(16) {
        let parsed = ProcProtocol.parse(line, tableName: Array("t|x".utf8))
        guard let reply = session.answer(line) else {
            if case .success = parsed { check(false, "a parsed request got no reply") }
            continue
        }
        check(reply.last == 0x0A && reply.firstIndex(of: 0x0A) == reply.count - 1, "reply is not one line")
        check(!reply.contains(0x0D), "CR in a reply")
        // Bytes, not Strings: an ID of any bytes is echoed as it came.
        let fields = reply.dropLast().split(separator: UInt8(ascii: "|"), maxSplits: 3, omittingEmptySubsequences: false)
        check(fields.count >= 3, "reply without ID and answer")
        let word = String(decoding: fields[0], as: UTF8.self)
        check(["update-result", "check-result", "lookup-result", "fetch-result"].contains(word), "unknown reply word")
        if case .success(let r) = parsed {
            check(Array(fields[1]) == r.id, "ID not echoed")
            check(word == "\(r.operation.rawValue)-result", "reply word for another operation")
        }
        let answer = String(decoding: fields[2], as: UTF8.self)
        check(["ok", "found", "not-found", "error"].contains(answer), "unknown answer \(answer)")
        if answer == "found", word == "lookup-result" || word == "fetch-result" {
            check(fields.count == 4 && !fields[3].isEmpty, "found without a value")
        }
    }
    return 0
}

