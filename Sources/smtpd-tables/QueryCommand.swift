import ArgumentParser
import SMTPDTables

struct QueryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Look keys up in a table as smtpd would.",
        discussion: """
            Prints the value found (for the pattern services domain, netaddr, mailaddr and regex: the entry \
            that matched; for list entries: the key). With several keys, or with - to read keys from standard \
            input one per line, prints KEY<TAB>VALUE for every key found. The value must be valid for the \
            service, or it is an error naming the table file and line. On a terminal, control characters in \
            keys and values are shown escaped (\\x1b); through a pipe they are written unchanged. Exit \
            status, the same for keys as arguments and from standard input: 0 when any key is found, 1 when \
            none is, 2 on errors. --explain adds, under each answer, the FILE:LINE of the entry and, for \
            the pattern services, why it matched. --json prints one array with an object per key (found or \
            not); a value that looks like a password or a hash is withheld there unless --show-secrets.
            """)

    @Option(name: .shortAndLong, help: ArgumentHelp(
        "The lookup service: \(TableService.allCases.map(\.rawValue).joined(separator: ", ")).",
        valueName: "service"), completion: .list(TableService.allCases.map(\.rawValue)))
    var service: String = "string"

    @Option(name: .long, help: ArgumentHelp("The sub-addressing delimiter for mailaddr lookups.", valueName: "char"))
    var delimiter: String = "+"

    @Flag(help: "Also say where each answer comes from (FILE:LINE of the entry) and, for the pattern services, why it matched.")
    var explain = false

    @Flag(help: "Print JSON: one array with an object per key (see smtpd-tables(8), JSON OUTPUT).")
    var json = false

    @Flag(name: .customLong("show-secrets"),
          help: "In JSON, print values that look like passwords or hashes (withheld otherwise).")
    var showSecrets = false

    @OptionGroup var versionOptions: VersionOptions

    @Argument(help: "The table: file:PATH, db:PATH or PATH.", completion: .file())
    var table: String

    @Argument(help: "The keys to look up, or - to read them from standard input.")
    var keys: [String]

    func validate() throws {
        guard TableService(rawValue: service) != nil else {
            throw ValidationError(Suggestion.unknown("service", service, among: TableService.allCases.map(\.rawValue)))
        }
        guard delimiter.utf8.count == 1 else { throw ValidationError("the delimiter is one character") }
        guard !keys.isEmpty else { throw ValidationError("give a key, or - to read keys from standard input") }
    }

    func run() throws {
        let service = TableService(rawValue: service) ?? .string
        let options = try versionOptions.tableOptions(subaddressDelimiter: delimiter.utf8.first ?? UInt8(ascii: "+"))
        let table = try TableArgument.open(self.table, options: options)
        var out = OutputBuffer()
        var writer = JSONArrayWriter(smtpdVersion: options.version)
        let delimiterCharacter = Character(Unicode.Scalar(options.subaddressDelimiter))
        var found = 0, failed = 0
        let bulk = keys == ["-"]
        let labelled = bulk || keys.count > 1

        // A changed map that cannot be read (yet) is answered from the last good load, as smtpd does; say so
        // once per failure, on stderr, without failing the run.
        var reloadWarned = false

        func answer(_ key: [UInt8]) {
            do {
                let match = try table.lookup(bytes: key, service: service)
                if let failure = table.lastReloadError {
                    if !reloadWarned {
                        out.flush()
                        Output.warn("\(failure.description) (answering from the previous load)")
                        reloadWarned = true
                    }
                } else {
                    reloadWarned = false
                }
                guard let match else {
                    if json { writer.append(jsonFields(key, match: nil, table: table, service: service, delimiter: delimiterCharacter)) }
                    return
                }
                if !service.isPattern, service != .string, match.valueSlice != nil {
                    _ = try table.value(of: match, service: service)
                }
                found += 1
                if json {
                    writer.append(jsonFields(key, match: match, table: table, service: service, delimiter: delimiterCharacter))
                    return
                }
                if labelled {
                    out.appendField(key)
                    out.append([0x09])
                }
                out.appendField(service.isPattern ? match.keySlice : (match.valueSlice ?? match.keySlice))
                out.append([0x0A])
                if explain {
                    out.appendText("  " + where_(match, table: table) + "\n")
                    if let why = MatchExplanation.why(service: service, entry: match.key,
                                                      key: String(decoding: key, as: UTF8.self), delimiter: delimiterCharacter) {
                        out.appendText("  why: \(why)\n")
                    }
                }
            } catch {
                failed += 1
                out.flush()
                Output.warn(error.description)
                if json {
                    writer.append([("key", .bytes(key)), ("found", .bool(false)), ("service", .string(service.rawValue)),
                                   ("table", .string(table.path)), ("error", .string(error.description))])
                }
            }
        }

        if bulk {
            var reader = LineReader()
            while let line = reader.next() { answer(line) }
        } else {
            for key in keys { answer(Array(key.utf8)) }
        }
        if json { writer.finish() } else { out.flush() }
        // The same rule for keys given as arguments and keys read from standard input.
        if failed > 0 { throw ExitCode(2) }
        if found == 0 { throw ExitCode(1) }
    }

    /// `from FILE:LINE, entry 'KEY'` (db tables: the file and the record's key).
    func where_(_ match: TableMatch, table: Table) -> String {
        let place = match.line.map { "\(table.path):\($0)" } ?? "\(table.backend.name):\(table.path)"
        return "from \(place), entry '\(match.key)'"
    }

    /// One object of `query --json`.
    func jsonFields(_ key: [UInt8], match: TableMatch?, table: Table, service: TableService,
                    delimiter: Character) -> [(String, JSONValue)] {
        var fields: [(String, JSONValue)] = [
            ("key", .bytes(key)), ("found", .bool(match != nil)), ("service", .string(service.rawValue)),
            ("table", .string(table.path)), ("backend", .string(table.backend.name)),
        ]
        guard let match else { return fields }
        fields.append(("entry", .bytes(match.keySlice)))
        let secret = service == .credentials || (match.valueSlice.map(Credentials.looksSecret) ?? false)
        fields += SecretPolicy.valueFields(match.valueSlice, secret: secret, show: showSecrets)
        fields.append(("line", match.line.map { .int($0) } ?? .null))
        if explain, let why = MatchExplanation.why(service: service, entry: match.key,
                                                   key: String(decoding: key, as: UTF8.self), delimiter: delimiter) {
            fields.append(("why", .string(why)))
        }
        return fields
    }
}
