#if canImport(Glibc)
import Glibc
#endif

/// Builds a Berkeley DB map from a table source file, as upstream makemap does (makemap.c `parse_map`,
/// `add_mapentry`, `add_setentry`, `make_aliases`).
///
/// - The source (a file or standard input) is read whole under a shared non-blocking flock (`FILE is locked`
///   when a writer holds it; no lock on a terminal, like upstream).
/// - Lines follow the table grammar of makemap's release (`version`; `TableLineParser.Grammar.makemap`: 7.6's
///   shared grammar by default, 6.8's fparseln(3) lines with `#` anywhere and `\` continuation before 7.5)
///   with the kind preset: `.set` reads a list (the whole line is the key), `.plain` and `.aliases` read a
///   mapping, where a key-only line is `FILE:LINE: invalid entry`.
/// - A repeated (folded) key is `FILE:LINE: duplicate entry for KEY`. With `.aliases` each value is checked
///   the way makemap checks it: split on every `,` (no quoting, unlike smtpd's expansion), each element
///   trimmed, an empty element or one that is not an expansion node (error, include, filter, file, address,
///   user name) makes the entry `FILE:LINE: invalid entry`. Problems are reported for the first line that has
///   one, in file order, as upstream's line-by-line loop does.
/// - Records: folded key + NUL -> value + NUL (`<set>` + NUL for `.set`), written to a temporary file beside
///   the target (`AtomicFile`) that takes the source's mode and owner, fsync'ed and renamed over the target.
///   On any failure the old map is untouched and the temporary file is removed. After a successful build the
///   stale temporary files of killed runs are removed (`AtomicFile.removeStaleTemporaries`).
///
/// Difference from upstream: a key over smtpd's 1023-byte lookup limit is refused (`key too long`): upstream
/// makemap stores it, but smtpd could never look it up.
public enum MapBuilder {
    /// What the values are (`makemap -t`).
    public enum ValueType: String, Sendable, CaseIterable {
        /// Values stored as written (makemap's default).
        case plain
        /// Values checked as alias lists (`-t aliases`, newaliases).
        case aliases
        /// A list: keys only, stored with the value `<set>` (`-t set`).
        case set
    }

    /// Where the entries come from.
    public enum Source: Sendable, Equatable {
        /// A file; its mode and owner are given to the map.
        case file(String)
        /// Standard input (`-`); the map keeps mkstemp's mode 0600, as upstream.
        case standardInput

        /// The name used in messages: the path, or `-`.
        public var name: String {
            switch self {
            case .file(let path): return path
            case .standardInput: return "-"
            }
        }
    }

    /// What a build did.
    public struct Result: Sendable, Equatable {
        /// Where the entries came from (newaliases reports it: `SOURCE: N aliases`).
        public var source: Source
        /// The map written.
        public var output: String
        /// Records stored (upstream's `dbputs`): 0 means an empty map was created.
        public var count: Int
        /// Temporary files of earlier, killed runs that were removed after this build.
        public var removedTemporaries: [String]
    }

    /// smtpd's configuration file on Debian (upstream `CONF_FILE`).
    public static let defaultConfigFile = "/etc/smtpd.conf"
    /// The aliases file newaliases builds when the configuration declares no `aliases` table (upstream
    /// `PATH_ALIASES`, `SMTPD_CONFDIR "/aliases"`; Debian's opensmtpd uses /etc/aliases and its default
    /// smtpd.conf declares `table aliases file:/etc/aliases`).
    public static let defaultAliasesFile = "/etc/aliases"

    /// The source newaliases builds for `config` (upstream `conf_aliases`): the path of the table named
    /// `aliases` with a final `.db` removed, or `defaultAliasesFile`. As upstream, only the first `.db` in
    /// the path counts: `/a.db/aliases.db` is kept whole.
    public static func aliasesSource(in config: SMTPDConfig) -> String {
        guard let table = config.table(named: "aliases") else { return defaultAliasesFile }
        let path = table.config ?? ""
        return stripDB(path) ?? path
    }

    /// Rebuilds the aliases map as newaliases(8) and `makemap -b i` do (makemap.c in P_NEWALIASES mode): the
    /// source is `aliasesFile` or else the configuration's (`aliasesSource(in:)`, reading `configFile`), built
    /// as `-t aliases` into `output`, by default the source plus `.db`. A source of `-` is standard input.
    ///
    /// - Throws: the configuration's error (kind `.config` or `.io`), or the build's (see `build`).
    public static func rebuildAliases(configFile: String = defaultConfigFile, aliasesFile: String? = nil,
                                      output: String? = nil, method: DBAccessMethod = .hash,
                                      version: SMTPDVersion = .newest) throws(TableError) -> Result {
        let source: String
        if let aliasesFile {
            source = aliasesFile
        } else {
            do {
                source = aliasesSource(in: try SMTPDConfig.load(path: configFile, options: .init(smtpdVersion: version)))
            } catch {
                // A 6.0-6.3 configuration declares its tables as 6.4+ does: its aliases table is still found.
                guard error.kind == .config, let bytes = try? ConfigSource.read(path: configFile) else { throw error }
                let text = String(decoding: bytes, as: UTF8.self)
                guard LegacyConfig.firstOldLine(in: text) != nil else { throw error }
                let spec = LegacyConfig.tableSpecs(in: text).first { $0.name == "aliases" }?.spec
                let path = spec.map { s in s.split(separator: ":", maxSplits: 1).count == 2 && !s.hasPrefix("/")
                    ? String(s.split(separator: ":", maxSplits: 1)[1]) : s }
                source = path.map { stripDB($0) ?? $0 } ?? defaultAliasesFile
            }
        }
        return try build(from: source == "-" ? .standardInput : .file(source), to: output ?? source + ".db",
                         type: .aliases, method: method, version: version)
    }

    /// `path` without its first `.db` when that is its end (upstream's `strstr` then `strcmp`), else nil.
    static func stripDB(_ path: String) -> String? {
        let bytes = Array(path.utf8), dotDB = Array(".db".utf8)
        guard bytes.count >= 3 else { return nil }
        guard let first = (0...(bytes.count - 3)).first(where: { bytes[$0..<($0 + 3)].elementsEqual(dotDB) }),
              first == bytes.count - 3 else { return nil }
        return String(decoding: bytes[..<first], as: UTF8.self)
    }

    /// The value makemap stores for every `-t set` key.
    static let setValue: [UInt8] = Array("<set>".utf8) + [0]

    /// Builds `output` from `source`. Errors are `TableError`s whose `description` is upstream's message
    /// without the program name (`FILE:LINE: invalid entry`, `FILE is locked`, `stat: FILE: ...`). `version`
    /// is the makemap release whose line grammar is read (default: the newest).
    public static func build(from source: Source, to output: String, type: ValueType = .plain,
                             method: DBAccessMethod = .hash, version: SMTPDVersion = .newest) throws(TableError) -> Result {
        var attributes: AtomicFile.Attributes?
        if case .file(let path) = source {
            var st = stat()
            guard stat(path, &st) == 0 else {
                throw TableError(.io, "stat: \(path): \(errnoText(errno))")
            }
            attributes = AtomicFile.Attributes(mode: st.st_mode, owner: st.st_uid, group: st.st_gid)
        }
        var stoppedAtNUL = false
        var bytes = try readSource(source, stoppedAtNUL: &stoppedAtNUL)
        if stoppedAtNUL {
            // The stream was read only through the line of its first NUL: refuse it, even where that line
            // alone is valid (a NUL in a comment), rather than build a map from its first lines.
            let line = bytes.prefix { $0 != 0 }.reduce(1) { $1 == UInt8(ascii: "\n") ? $0 + 1 : $0 }
            var head = bytes
            let parsed = try TableLineParser.parseUpToFailure(&head, kind: type == .set ? .list : .mapping,
                                                              path: source.name, grammar: .makemap(version))
            if let failure = parsed.failure { throw upstreamMessage(failure, version: version) }
            throw TableError(.invalidEntry, path: source.name, line: line, "invalid entry",
                             detail: "NUL byte in line: a stream is read no further than its first NUL")
        }
        let count: Int
        do {
            count = try AtomicFile.replace(output, attributes: attributes) { temporaryPath in
                try write(&bytes, sourceName: source.name, type: type, method: method,
                          grammar: .makemap(version), version: version, to: temporaryPath)
            }
        } catch let error as TableError {
            throw error
        } catch {
            throw TableError(.io, path: output, "\(error)")
        }
        let removed = AtomicFile.removeStaleTemporaries(for: output)
        return Result(source: source, output: output, count: count, removedTemporaries: removed)
    }

    /// Bytes of libdb cache for a build from `inputSize` bytes of source: large enough to keep the whole
    /// database in memory (a 1M-record hash needs about 100 MB), capped at 128 MB.
    static func cacheSize(forInputSize inputSize: Int) -> Int {
        min(128 << 20, max(1 << 20, inputSize.multipliedReportingOverflow(by: 4).partialValue))
    }

    /// Parses `bytes`, checks every entry, and writes the records to the new database at `path`.
    private static func write(_ bytes: inout [UInt8], sourceName: String, type: ValueType, method: DBAccessMethod,
                              grammar: TableLineParser.Grammar, version: SMTPDVersion,
                              to path: String) throws(TableError) -> Int {
        let preset: TableKind = type == .set ? .list : .mapping
        // Upstream stops at the first bad line in file order, after storing (and checking) the lines before it.
        let parsed = try TableLineParser.parseUpToFailure(&bytes, kind: preset, path: sourceName, grammar: grammar)
        let entries = parsed.entries
        let parseFailure = parsed.failure.map { upstreamMessage($0, version: version) }
        // A spare byte, so that every key and value can be NUL-terminated in place.
        bytes.append(0)

        let db: BerkeleyDB
        do {
            db = try BerkeleyDB.create(
                at: path, method: method,
                options: BerkeleyDB.CreateOptions(cacheSize: cacheSize(forInputSize: bytes.count)))
        } catch {
            throw TableError(.io, "dbopen: \(path): \(error.message)")
        }
        var failure: TableError?
        var puts = 0
        bytes.withUnsafeMutableBytes { raw in
            guard let base = raw.baseAddress else { return }
            let storage = UnsafeRawBufferPointer(raw)
            Self.setValue.withUnsafeBytes { setValue in
                for e in entries {
                    let keyStart = Int(e.keyStart), keyEnd = keyStart + Int(e.keyLength)
                    raw[keyEnd] = 0
                    let key = UnsafeRawBufferPointer(start: base + keyStart, count: keyEnd - keyStart + 1)
                    var value = setValue
                    if type != .set {
                        let valueStart = Int(e.valueStart), valueEnd = valueStart + Int(e.valueLength)
                        if type == .aliases,
                           let problem = aliasValueProblem(UnsafeRawBufferPointer(rebasing: storage[valueStart..<valueEnd])) {
                            // Upstream looks for a duplicate before it checks the value.
                            if (try? db.get(key)) ?? nil != nil {
                                failure = duplicate(sourceName, e, storage)
                            } else {
                                failure = TableError(.invalidEntry, path: sourceName, line: Int(e.line), "invalid entry",
                                                     detail: "\(problem) (OpenSMTPD \(version) makemap)")
                            }
                            return
                        }
                        raw[valueEnd] = 0
                        value = UnsafeRawBufferPointer(start: base + valueStart, count: valueEnd - valueStart + 1)
                    }
                    do throws(BerkeleyDBError) {
                        if try db.put(key, value) == .existing {
                            failure = duplicate(sourceName, e, storage)
                            return
                        }
                    } catch {
                        failure = TableError(.io, "dbput: \(error.message)")
                        return
                    }
                    puts += 1
                }
            }
        }
        if let error = failure ?? parseFailure {
            try? db.close()
            throw error
        }
        do {
            try db.close()
        } catch {
            throw TableError(.io, "dbclose: \(path): \(error.message)")
        }
        return puts
    }

    private static func duplicate(_ sourceName: String, _ e: EntrySpan, _ storage: UnsafeRawBufferPointer) -> TableError {
        let start = Int(e.keyStart)
        let key = String(lossyBytes: Array(storage[start..<(start + Int(e.keyLength))]))
        return TableError(.duplicateEntry, path: sourceName, line: Int(e.line), "duplicate entry for \(key)")
    }

    /// The parser's error as makemap words it: any malformed line is just `invalid entry`, the parser's
    /// reason kept as the detail.
    private static func upstreamMessage(_ error: TableError, version: SMTPDVersion) -> TableError {
        guard error.kind == .invalidEntry else { return error }
        var reason = error.message
        if reason.hasPrefix("invalid entry ("), reason.hasSuffix(")") {
            reason = String(reason.dropFirst("invalid entry (".count).dropLast())
        }
        return TableError(.invalidEntry, path: error.path, line: error.line, "invalid entry",
                          detail: "\(reason) (OpenSMTPD \(version) makemap)")
    }

    /// makemap's `make_aliases` check: `strsep` on every `,`, each element stripped of white space; an empty
    /// element or one `text_to_expandnode` refuses makes the value invalid. Quotes are not special here.
    static func isValidAliasValue(_ value: UnsafeRawBufferPointer) -> Bool { aliasValueProblem(value) == nil }

    /// Why `isValidAliasValue` refuses `value`, in words, or nil when it is valid.
    static func aliasValueProblem(_ value: UnsafeRawBufferPointer) -> String? {
        var start = 0
        var index = 1
        while true {
            let comma = value[start...].firstIndex(of: UInt8(ascii: ",")) ?? value.count
            var lo = start, hi = comma
            while lo < hi, isCSpace(value[lo]) { lo += 1 }
            while hi > lo, isCSpace(value[hi - 1]) { hi -= 1 }
            if lo == hi {
                return "alias element \(index) is empty (two commas in a row, or one at either end)"
            }
            if !ExpansionNode.isValid(UnsafeRawBufferPointer(rebasing: value[lo..<hi])) {
                let element = String(lossyBytes: Array(value[lo..<hi]))
                return "alias element \(index), '\(element)', is none of user, user@domain, /file, |command, "
                    + ":include:/file, error:NNN text"
            }
            if comma == value.count { return nil }
            start = comma + 1
            index += 1
        }
    }

    /// Reads the whole source; a shared non-blocking flock is held while reading (not on a terminal). Memory
    /// is bounded by the table size limit: a regular file over it is refused before reading, a stream (standard
    /// input, a FIFO or device named on purpose) when it passes it, and a stream holding a NUL byte (an invalid
    /// line, so `/dev/zero` or `/dev/urandom`) is read only through that line (`stoppedAtNUL`), and refused.
    static func readSource(_ source: Source, stoppedAtNUL: inout Bool) throws(TableError) -> [UInt8] {
        let name = source.name
        let fd: Int32
        switch source {
        case .file(let path):
            do { fd = try SystemFile.open(path, blocking: true) } catch { throw TableError(.io, path: name, error.reason) }
        case .standardInput:
            fd = 0
        }
        defer { if fd != 0 { close(fd) } }  // closing drops the lock too
        if isatty(fd) == 0, flock(fd, LOCK_SH | LOCK_NB) == -1 {
            let code = errno
            if code == EWOULDBLOCK { throw TableError(.io, "\(name) is locked") }
            throw TableError(.io, path: name, "flock: \(errnoText(code))")
        }
        let limit = SystemFile.maxTableFileSize
        var st = stat()
        let regular = fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
        if regular, st.st_size > limit {
            throw TableError(.format, path: name, "file too large for a table (\(limit) bytes at most)")
        }
        let bytes = try SystemFile.readBounded(fd: fd, name: name, limit: limit, sizeHint: regular ? Int(st.st_size) : 0,
                                               what: "table", stopAtNUL: !regular, stoppedAtNUL: &stoppedAtNUL)
        if fd == 0 { _ = flock(fd, LOCK_UN) }
        return bytes
    }
}
