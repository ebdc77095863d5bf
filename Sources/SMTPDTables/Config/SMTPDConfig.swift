/// An smtpd.conf, read whole the way OpenSMTPD's parse.y reads it (6.8 to 7.8 grammar): macros, includes,
/// tables, actions, match rules in order, and every other directive checked and kept as written.
///
/// Anything smtpd would refuse is a `TableError` of kind `.config` naming the file and line.
public struct SMTPDConfig: Sendable {
    /// How to read a configuration.
    public struct Options: Sendable {
        /// Also open the files of `file:` and `db:` tables, as `smtpd -n` does: a missing or malformed table
        /// file is then an error, and a file table's shape (list or mapping) is checked against its uses
        /// (`alias <t>` needs a mapping, `for domain <t>` a list). Off by default, so that `newaliases` can
        /// read a configuration whose aliases db does not exist yet.
        public var checkTableFiles: Bool
        /// The release whose grammar is read: multi-line `{ }` lists and filter chains (7.5), listener
        /// `ciphers`, `protocols` and several `pki`, `pki` required for `tls` and looked up as written (7.3),
        /// mapping tables in `auth`, `mail-from` and `rcpt-to` match conditions (7.5).
        public var smtpdVersion: SMTPDVersion

        public init(checkTableFiles: Bool = false, smtpdVersion: SMTPDVersion = .newest) {
            self.checkTableFiles = checkTableFiles
            self.smtpdVersion = smtpdVersion
        }
    }

    /// The file read (the top one).
    public var path: String
    /// Declared tables in order, followed by anonymous ones as met (`<dynamic:N>`, also reachable through the
    /// `TableReference.inline` of the option or condition that wrote them).
    public var tables: [TableDeclaration] = []
    public var actions: [ActionDeclaration] = []
    /// The match rules in the order smtpd tries them.
    public var rules: [MatchRule] = []
    /// Macro definitions, in order (a redefinition replaces the earlier one).
    public var macros: [MacroDefinition] = []
    /// The `listen on` directives.
    public var listeners: [ListenerDeclaration] = []
    /// Every directive other than tables, actions, rules, macros and includes, as written.
    public var otherDirectives: [RawDirective] = []
    /// Files read through `include`, in order.
    public var includedFiles: [String] = []
    /// `smtp sub-addr-delim C`: the sub-addressing delimiter (`+` unless set).
    public var subaddressingDelimiter: UInt8 = UInt8(ascii: "+")
    /// `srs key`, `srs key backup` and `srs ttl`: what the resolver needs to decode SRS recipients.
    public var srs = SRSKeys()

    init(path: String) {
        self.path = path
    }

    /// Reads and checks the configuration at `path` (and the files it includes).
    public static func load(path: String, options: Options = Options()) throws(TableError) -> SMTPDConfig {
        try parse(bytes: ConfigSource.read(path: path), path: path, options: options)
    }

    /// Reads a configuration from text; `path` names it in errors and as the file of its declarations.
    /// `include` paths are opened as written (relative ones from the working directory, as smtpd does).
    public static func parse(text: String, path: String,
                             options: Options = Options()) throws(TableError) -> SMTPDConfig {
        try parse(bytes: Array(text.utf8), path: path, options: options)
    }

    /// Reads a configuration from bytes.
    public static func parse(bytes: [UInt8], path: String,
                             options: Options = Options()) throws(TableError) -> SMTPDConfig {
        do {
            var parser = try ConfigParser(text: bytes, path: path, checkTableFiles: options.checkTableFiles,
                                          version: options.smtpdVersion)
            return try parser.parse()
        } catch {
            // A configuration in the 6.0-6.3 grammar: say so, at its first such line, rather than
            // "syntax error" (LegacyConfig.swift).
            if error.kind == .config, let legacy = LegacyConfig.error(for: String(decoding: bytes, as: UTF8.self), path: path) {
                throw legacy
            }
            throw error
        }
    }

    /// Reads the configuration at `path` and reports every error, not only the first, as smtpd's parser goes
    /// on after an error (yacc's `grammar error '\n'`): a line in error is left out and the rest read again.
    /// Returns the configuration read without the lines in error (nil when none could be read) and the errors
    /// in file order. An old-grammar configuration gives its one error; errors in included files stop it.
    public static func loadReportingAll(path: String, options: Options = Options(),
                                        limit: Int = 100) throws(TableError) -> (config: SMTPDConfig?, errors: [TableError]) {
        var bytes = try ConfigSource.read(path: path)
        var errors: [TableError] = []
        while errors.count < limit {
            do {
                return (try parse(bytes: bytes, path: path, options: options), errors)
            } catch {
                // "no rules" once lines were left out is a consequence, not an error of its own.
                if error.line == nil, !errors.isEmpty { return (nil, errors) }
                errors.append(error)
                guard error.path == path, let line = error.line, error.kind == .config,
                      LegacyConfig.firstOldLine(in: String(decoding: bytes, as: UTF8.self)) == nil,
                      let blanked = blankLine(line, in: bytes) else { return (nil, errors) }
                bytes = blanked
            }
        }
        return (nil, errors)
    }

    /// `bytes` with line `line` (1-based) emptied, its line feed kept; nil when there is no such line or
    /// it is empty already.
    private static func blankLine(_ line: Int, in bytes: [UInt8]) -> [UInt8]? {
        var start = 0, current = 1
        while current < line {
            guard let nl = bytes[start...].firstIndex(of: 0x0A) else { return nil }
            start = nl + 1
            current += 1
        }
        let end = bytes[start...].firstIndex(of: 0x0A) ?? bytes.count
        guard end > start else { return nil }
        return Array(bytes[..<start]) + Array(bytes[end...])
    }

    /// The table named `name` (declared, or anonymous as `<dynamic:N>`).
    public func table(named name: String) -> TableDeclaration? {
        tables.first { $0.name == name }
    }

    /// The table a reference points to.
    public func table(_ reference: TableReference) -> TableDeclaration? {
        switch reference {
        case .named(let n): return table(named: n)
        case .inline(let t): return t
        }
    }

    /// The action named `name`.
    public func action(named name: String) -> ActionDeclaration? {
        actions.first { $0.name == name }
    }

    /// The value of macro `name`, if defined.
    public func macro(named name: String) -> String? {
        macros.last { $0.name == name }?.value
    }
}

/// Where the configuration reader gets the files it reads: the configuration, the files it includes, and the
/// system's service names. One function, so that all of them get the guards of the system layer
/// (no FIFO, device or directory; bounded size).
enum ConfigSource {
    static func read(path: String) throws(TableError) -> [UInt8] {
        try SystemFile.readRegular(path, limit: SystemFile.maxConfigFileSize, what: "configuration file")
    }
}
