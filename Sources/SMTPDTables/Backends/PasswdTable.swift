/// The `passwd:` backend (OpenSMTPD/table-passwd): one user a line, `user:hash[:uid:gid:gecos:home:shell[:extra]]`,
/// the format of Dovecot's passwd-file, so one file serves smtpd's AUTH and Dovecot.
///
/// Read as table-passwd reads it: `#` ends a line's text wherever it stands, blank lines are skipped, a line
/// whose user or `:` after it is missing makes the whole load fail (naming file and line), a repeated user keeps
/// its last line. Two differences, both toward smtpd's file: tables: user names are folded to lower case
/// (smtpd folds the key it asks for, so table-passwd never finds a name written with capitals), and the
/// fields after the hash may be left out (Dovecot accepts `user:hash`; table-passwd wants up to `home`).
/// A trailing CR is dropped, as Dovecot drops it.
///
/// It answers two services: `credentials` (`user:hash`; an empty hash is an invalid entry) and `userinfo`
/// (`uid:gid:home`; numeric ids and a home are required); any other service is an error, as in table-passwd.
enum PasswdTable: TableSource {
    static let backend = TableBackend.other("passwd")
    static let reloadsOnChange = false

    /// table-passwd's line buffer (LINE_MAX, the NUL included).
    static let maxLineLength = 2047

    static func load(path: String, options: TableOptions) throws(TableError) -> TableSnapshot {
        try snapshot(parsing: try SystemFile.readRegular(path, what: "passwd file"), path: path, options: options)
    }

    /// Never guessed from a bare path: a passwd file is also a valid file: table, with other answers.
    static func recognises(path: String) -> Bool { false }

    /// Parses passwd text (`path` names it in errors).
    static func snapshot(parsing contents: [UInt8], path: String, options: TableOptions) throws(TableError) -> TableSnapshot {
        var storage: [UInt8] = []
        storage.reserveCapacity(contents.count)
        var spans: [EntrySpan] = []
        var lineNumber = 0
        var lineStart = 0
        while lineStart < contents.count {
            lineNumber += 1
            let lf = contents[lineStart...].firstIndex(of: 0x0A) ?? contents.count
            var line = contents[lineStart..<lf]
            lineStart = lf + 1
            if let hash = line.firstIndex(of: UInt8(ascii: "#")) { line = line[..<hash] }
            if line.last == 0x0D { line = line.dropLast() }
            if line.isEmpty { continue }
            func invalid(_ why: String) -> TableError { TableError(.invalidEntry, path: path, line: lineNumber, why) }
            guard line.count <= maxLineLength else { throw invalid("line too long (\(maxLineLength) bytes at most)") }
            guard line.firstIndex(of: 0) == nil else { throw invalid("invalid entry: NUL byte") }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
                throw invalid("invalid entry: no ':' after the user name")
            }
            let user = line[..<colon]
            guard !user.isEmpty else { throw invalid("invalid entry: empty user name") }
            let keyStart = storage.count
            storage += user.map(asciiLower)
            let valueStart = storage.count
            storage += line[(colon + 1)...]
            spans.append(EntrySpan(keyStart: UInt32(keyStart), keyLength: UInt32(user.count),
                                   valueStart: UInt32(valueStart), valueLength: Int32(storage.count - valueStart),
                                   line: UInt32(lineNumber)))
        }
        return TableSnapshot(kind: .mapping, storage: storage, entries: spans, delimiter: options.subaddressDelimiter,
                             passwdLines: true)
    }

    /// Refuses the services a passwd table does not answer.
    static func checkService(_ service: TableService) throws(TableError) {
        guard service == .credentials || service == .userinfo else {
            throw TableError(.usage, "a passwd table answers the credentials and userinfo services only, not "
                             + service.rawValue)
        }
    }

    /// The value table-passwd returns for the entry `m` (value: the line after `user:`).
    static func answer(_ m: TableMatch, service: TableService) throws(TableError) -> TableMatch {
        let fields = (m.valueSlice ?? [])
            .split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
        func invalid(_ why: String) -> TableError { TableError(.invalidValue, line: m.line, "invalid entry: \(why)") }
        var value: [UInt8]
        switch service {
        case .credentials:
            guard let hash = fields.first, !hash.isEmpty else { throw invalid("no password hash") }
            value = Array(m.keySlice) + [UInt8(ascii: ":")] + hash
        default:
            guard fields.count >= 5 else { throw invalid("no uid, gid and home for userinfo") }
            for id in [fields[1], fields[2]] {
                guard !id.isEmpty, id.count <= 10, id.allSatisfy(isASCIIDigit),
                      id.reduce(0, { $0 * 10 + Int($1 - 0x30) }) <= Int(UInt32.max) else {
                    throw invalid("uid and gid must be numbers")
                }
            }
            guard !fields[4].isEmpty else { throw invalid("no home directory") }
            value = Array(fields[1]) + [UInt8(ascii: ":")] + fields[2] + [UInt8(ascii: ":")] + fields[4]
        }
        return TableMatch(keySlice: m.keySlice, valueSlice: value[...], line: m.line)
    }
}
