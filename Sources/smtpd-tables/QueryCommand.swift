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
            none is, 2 on errors.
            """)

    @Option(name: .shortAndLong, help: ArgumentHelp(
        "The lookup service: \(TableService.allCases.map(\.rawValue).joined(separator: ", ")).",
        valueName: "service"), completion: .list(TableService.allCases.map(\.rawValue)))
    var service: String = "string"

    @Option(name: .long, help: ArgumentHelp("The sub-addressing delimiter for mailaddr lookups.", valueName: "char"))
    var delimiter: String = "+"

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
                guard let match else { return }
                if !service.isPattern, service != .string, match.valueSlice != nil {
                    _ = try table.value(of: match, service: service)
                }
                found += 1
                if labelled {
                    out.appendField(key)
                    out.append([0x09])
                }
                out.appendField(service.isPattern ? match.keySlice : (match.valueSlice ?? match.keySlice))
                out.append([0x0A])
            } catch {
                failed += 1
                out.flush()
                Output.warn(error.description)
            }
        }

        if bulk {
            var reader = LineReader()
            while let line = reader.next() { answer(line) }
        } else {
            for key in keys { answer(Array(key.utf8)) }
        }
        out.flush()
        // The same rule for keys given as arguments and keys read from standard input.
        if failed > 0 { throw ExitCode(2) }
        if found == 0 { throw ExitCode(1) }
    }
}
