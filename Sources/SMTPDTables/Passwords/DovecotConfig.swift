/// What a Dovecot configuration (`dovecot.conf`, 2.3 or 2.4 syntax) says about passwd-file passdbs, for
/// `check --dovecot-conf`: the syntax it is written in, each passwd-file passdb's file, default scheme and
/// username format, and the auth settings that change how the file is read.
///
/// The lines are read as Dovecot's config parser reads them: `#` outside quotes starts a comment, a `\` at the
/// end of a line continues it, `key = value` (value optionally in `"..."` or `'...'`), `name [label] {` and
/// `}` sections, `!include` and `!include_try` (paths relative to the including file, shell globs allowed).
public struct DovecotConfig: Sendable, Equatable {
    /// A place in a configuration file.
    public struct Place: Sendable, Equatable, CustomStringConvertible {
        /// The file, as named (an included file: the including file's folder and the name written).
        public var file: String
        /// The 1-based line (of a continued line, its first).
        public var line: Int
        /// `FILE:LINE`.
        public var description: String { "\(file):\(line)" }
    }

    /// One passwd-file passdb.
    public struct PasswdFilePassdb: Sendable, Equatable {
        /// The passwd file (2.3: the `args` after the options; 2.4: `passwd_file_path`), as written.
        public var path: String
        /// The default scheme named (2.3 `scheme=`, 2.4 `default_password_scheme`), upper-cased; nil when none
        /// is named and the release's own applies (`DovecotVersion.defaultPasswordScheme`).
        public var defaultScheme: String?
        /// 2.3's `username_format=` argument, when given: the form of the login the file's names are compared with.
        public var usernameFormat: String?
        /// Where the passdb section starts.
        public var place: Place
        /// Where the file path is set.
        public var pathPlace: Place
        /// Where the default scheme is set, when it is.
        public var schemePlace: Place?
    }

    /// The syntax the configuration is written in: 2.4 when its first setting is `dovecot_config_version`
    /// (which 2.4 requires and 2.3 does not know), else 2.3.
    public var syntax: DovecotVersion
    /// The first setting, section or `!include`, where a 2.4 configuration must have `dovecot_config_version`.
    public var firstSetting: Place?
    /// The passwd-file passdbs, in order.
    public var passwdFilePassdbs: [PasswdFilePassdb]
    /// 2.4-only forms found in a configuration without `dovecot_config_version` (`passwd_file_path`, a named
    /// passdb section, `default_password_scheme`), or 2.3-only ones (`args`) in one with it, with their places.
    public var otherSyntax: [Place]
    /// `auth_username_format` when set; nil means the default (the login folded to lower case, in both).
    public var authUsernameFormat: String?
    /// `auth_allow_weak_schemes = yes` (2.4): weak schemes are accepted again.
    public var allowsWeakSchemes: Bool
    /// Every file read, the main one first.
    public var files: [String]

    /// Whether Dovecot folds logins to lower case before the passdb lookup (the default `%Lu` of 2.3,
    /// `%{user | lower}` of 2.4).
    public var foldsLogins: Bool {
        guard let f = authUsernameFormat else { return true }
        return f.contains("%L") || f.contains("lower")
    }

    /// Reads `path` and the files it includes.
    public static func load(path: String) throws(TableError) -> DovecotConfig {
        var reader = Reader()
        try reader.read(path, depth: 0, optional: false)
        return reader.finish()
    }

    /// Reads configuration text given as `path` (includes are still read from the file system).
    public static func parse(_ text: String, path: String) throws(TableError) -> DovecotConfig {
        var reader = Reader()
        try reader.readText(Array(text.utf8), path: path, depth: 0)
        return reader.finish()
    }

    // MARK: Reading

    /// One line of configuration, comments and continuations taken care of.
    enum Line: Equatable {
        case setting(key: String, value: String)
        case sectionStart(name: String, label: String?)
        case sectionEnd
        case include(path: String, optional: Bool)
    }

    /// A section being read.
    private struct Section {
        var name: String
        var label: String?
        var place: Place
        var settings: [String: (value: String, place: Place)] = [:]
    }

    private struct Reader {
        var stack: [Section] = []
        var global: [String: (value: String, place: Place)] = [:]
        var passdbs: [Section] = []
        var firstSetting: (key: String, place: Place)?
        var files: [String] = []

        mutating func read(_ path: String, depth: Int, optional: Bool) throws(TableError) {
            // A file that includes itself (directly or through a glob) would never end, or fan out without bound.
            guard depth < 20 else { throw TableError(.config, path: path, "!include nested too deeply (a loop?)") }
            guard files.count < 1000 else { throw TableError(.config, path: path, "more than 1000 included files (a loop?)") }
            let bytes: [UInt8]
            do { bytes = try SystemFile.readRegular(path, what: "Dovecot configuration") } catch {
                if optional, error.kind == .io { return }
                throw error
            }
            try readText(bytes, path: path, depth: depth)
        }

        mutating func readText(_ bytes: [UInt8], path: String, depth: Int) throws(TableError) {
            files.append(path)
            var pending = ""
            var pendingLine = 0
            var number = 0
            for raw in bytes.split(separator: 0x0A, omittingEmptySubsequences: false) {
                number += 1
                var text = String(decoding: raw, as: UTF8.self)
                if text.hasSuffix("\r") { text.removeLast() }
                if pending.isEmpty { pendingLine = number }
                if text.hasSuffix("\\") {
                    text.removeLast()
                    pending += text
                    continue
                }
                let whole = pending + text
                pending = ""
                let place = Place(file: path, line: pendingLine)
                guard let line = try DovecotConfig.parseLine(whole, place: place) else { continue }
                try apply(line, place: place, depth: depth)
            }
            if depth == 0, let open = stack.last {
                throw TableError(.config, path: open.place.file, line: open.place.line, "section \(open.name) is not closed")
            }
        }

        mutating func apply(_ line: Line, place: Place, depth: Int) throws(TableError) {
            switch line {
            case .include(let target, let optional):
                // 2.4 wants dovecot_config_version before anything, an !include too (it names the !include line).
                if firstSetting == nil { firstSetting = ("!include", place) }
                var full = target
                if !target.hasPrefix("/"), let slash = place.file.lastIndex(of: "/") {
                    full = String(place.file[...slash]) + target
                }
                let matches = SystemFile.glob(full)
                if matches.isEmpty, !optional, !full.contains("*"), !full.contains("?"), !full.contains("[") {
                    throw TableError(.config, path: place.file, line: place.line, "!include \(target): no such file")
                }
                for match in matches { try read(match, depth: depth + 1, optional: optional) }
            case .setting(let key, let value):
                if firstSetting == nil { firstSetting = (key, place) }
                if stack.isEmpty { global[key] = (value, place) } else { stack[stack.count - 1].settings[key] = (value, place) }
            case .sectionStart(let name, let label):
                if firstSetting == nil { firstSetting = (name, place) }
                stack.append(Section(name: name, label: label, place: place))
            case .sectionEnd:
                guard let section = stack.popLast() else {
                    throw TableError(.config, path: place.file, line: place.line, "'}' without an open section")
                }
                if stack.isEmpty, section.name == "passdb" { passdbs.append(section) }
            }
        }

        func finish() -> DovecotConfig {
            let syntax: DovecotVersion = firstSetting?.key == "dovecot_config_version" ? .v2_4 : .v2_3
            var out: [PasswdFilePassdb] = []
            var other: [Place] = []
            for section in passdbs {
                let s = section.settings
                if let args = s["args"], s["driver"]?.value == "passwd-file" {
                    // 2.3: options first (scheme=, username_format=), the rest is the path.
                    if syntax == .v2_4 { other.append(args.place) }
                    var rest = Substring(args.value)
                    var scheme: String?, format: String?
                    while true {
                        rest = rest.drop { $0 == " " || $0 == "\t" }
                        if rest.hasPrefix("scheme=") || rest.hasPrefix("username_format=") {
                            let word = rest.prefix { $0 != " " && $0 != "\t" }
                            let value = String(word.drop { $0 != "=" }.dropFirst())
                            if word.hasPrefix("scheme=") { scheme = value.uppercased() } else { format = value }
                            rest = rest.dropFirst(word.count)
                        } else { break }
                    }
                    out.append(PasswdFilePassdb(path: String(rest), defaultScheme: scheme, usernameFormat: format,
                                                place: section.place, pathPlace: args.place,
                                                schemePlace: scheme == nil ? nil : args.place))
                    continue
                }
                // 2.4: `passdb NAME {`, the driver NAME unless `driver` says otherwise; settings inherited from the top.
                let driver = s["driver"]?.value ?? s["passdb_driver"]?.value ?? section.label
                guard driver == "passwd-file" else { continue }
                if syntax == .v2_3 { other.append(section.place) } else if section.label == nil { other.append(section.place) }
                let path = s["passwd_file_path"] ?? global["passwd_file_path"]
                let scheme = s["default_password_scheme"] ?? s["passdb_default_password_scheme"]
                    ?? global["passdb_default_password_scheme"]
                guard let path else { continue }
                out.append(PasswdFilePassdb(path: path.value, defaultScheme: scheme?.value.uppercased(), usernameFormat: nil,
                                            place: section.place, pathPlace: path.place, schemePlace: scheme?.place))
            }
            let weak = global["auth_allow_weak_schemes"]?.value.lowercased()
            return DovecotConfig(syntax: syntax, firstSetting: firstSetting?.place, passwdFilePassdbs: out,
                                 otherSyntax: other, authUsernameFormat: global["auth_username_format"]?.value,
                                 allowsWeakSchemes: weak == "yes" || weak == "true", files: files)
        }
    }

    /// One line as Dovecot's config parser reads it; nil for blank and comment lines.
    static func parseLine(_ text: String, place: Place) throws(TableError) -> Line? {
        // Strip a comment: `#` outside quotes, anywhere on the line.
        var chars = Array(text.drop { $0 == " " || $0 == "\t" })
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c == "\"" || c == "'" {
                i += 1
                while i < chars.count, chars[i] != c {
                    if chars[i] == "\\", i + 1 < chars.count { i += 1 }
                    i += 1
                }
            } else if c == "#" {
                chars.removeSubrange(i...)
                break
            }
            i += 1
        }
        while let last = chars.last, last == " " || last == "\t" { chars.removeLast() }
        if chars.isEmpty { return nil }
        let line = String(chars)
        func fail(_ message: String) -> TableError { TableError(.config, path: place.file, line: place.line, message) }

        let key = String(line.prefix { $0 != " " && $0 != "\t" && $0 != "=" })
        var rest = line.dropFirst(key.count).drop { $0 == " " || $0 == "\t" }
        if key == "!include" || key == "!include_try" {
            let target = unquote(String(rest))
            if target.isEmpty { throw fail("\(key) without a file") }
            return .include(path: target, optional: key == "!include_try")
        }
        if rest.first == "=" {
            rest = rest.dropFirst().drop { $0 == " " || $0 == "\t" }
            if key.isEmpty { throw fail("a setting without a name") }
            return .setting(key: key, value: unquote(String(rest)))
        }
        if key == "}", rest.isEmpty { return .sectionEnd }
        if key.hasSuffix("{"), rest.isEmpty, key.count > 1 {
            return .sectionStart(name: String(key.dropLast()), label: nil)
        }
        if rest == "{" { return .sectionStart(name: key, label: nil) }
        if rest.hasSuffix("{") {
            var label = rest.dropLast()
            while let last = label.last, last == " " || last == "\t" { label.removeLast() }
            if !label.contains(" "), !label.contains("\t"), !label.isEmpty {
                return .sectionStart(name: key, label: unquote(String(label)))
            }
        }
        throw fail("expected 'key = value' or 'section {', not \(key.isEmpty ? "this line" : "'\(key)' ...")")
    }

    /// A value without its surrounding quotes (and their backslash escapes).
    static func unquote(_ s: String) -> String {
        guard s.count >= 2, let q = s.first, q == "\"" || q == "'", s.last == q else { return s }
        var out = ""
        var escaped = false
        for c in s.dropFirst().dropLast() {
            if escaped { out.append(c); escaped = false } else if c == "\\" { escaped = true } else { out.append(c) }
        }
        return out
    }
}
