/// The words smtpd.conf's lexer turns into keywords (parse.y `lookup`): an unquoted word in this set is never a
/// plain string, so `action local ...` is a syntax error while `action "local" ...` is not.
enum ConfigKeyword: String, CaseIterable, Sendable {
    case action, admd, alias, any, auth
    case authOptional = "auth-optional"
    case backup, bounce, bypass, ca, cert, chain, chroot, ciphers, commit, compression, connect, data
    case dataLine = "data-line"
    case dhe, disconnect, domain, ehlo, encryption
    case expandOnly = "expand-only"
    case fcrdns, filter
    case `for`
    case forwardOnly = "forward-only"
    case from, group, helo
    case heloSrc = "helo-src"
    case host, hostname, hostnames, include, inet4, inet6, junk, key, limit, listen, lmtp, local
    case mailFrom = "mail-from"
    case maildir
    case maskSrc = "mask-src"
    case masquerade, match
    case maxDeferred = "max-deferred"
    case maxMessageSize = "max-message-size"
    case mbox, mda, mta, mx
    case noDSN = "no-dsn"
    case noVerify = "no-verify"
    case noop, on, phase, pki, port, proc
    case procExec = "proc-exec"
    case protocols
    case proxyV2 = "proxy-v2"
    case queue, quit
    case rcptTo = "rcpt-to"
    case rdns
    case receivedAuth = "received-auth"
    case recipient, regex, reject, relay, report, rewrite, rset, scheduler, senders, smtp
    case smtpIn = "smtp-in"
    case smtpOut = "smtp-out"
    case smtps, socket, src, srs
    case subAddrDelim = "sub-addr-delim"
    case table, tag, tagged, tls
    case tlsRequire = "tls-require"
    case ttl, user, userbase, verify, virtual
    case warnInterval = "warn-interval"
    case wrapper
}

/// One token of smtpd.conf, as parse.y's `yylex` returns them.
struct ConfigToken: Sendable {
    enum Kind: Equatable, Sendable {
        /// A word or a quoted string; `text` holds it.
        case string
        /// A decimal number (`25`, `-1`); `number` holds it, `text` its spelling.
        case number
        case keyword(ConfigKeyword)
        /// `=>`
        case arrow
        /// A single character that is not part of a word: `{ } < > ! , = ( ) /` and the like.
        case char(UInt8)
        case newline
        case end
    }

    var kind: Kind
    var text: String
    var number: Int64 = 0
    /// The file and 1-based line the token starts on.
    var file: String
    var line: Int
    /// Byte offsets of the token in `file` (nil when not known, for instance inside a macro's value).
    var start: Int?
    var end: Int?

    var isString: Bool { kind == .string }
    func isKeyword(_ k: ConfigKeyword) -> Bool { kind == .keyword(k) }
    func isChar(_ c: Character) -> Bool {
        guard let a = c.asciiValue else { return false }
        return kind == .char(a)
    }
}

/// The smtpd.conf lexer: comments, quoted strings, `\` continuations, `$macro` expansion and a stack of
/// included files, following parse.y's `lgetc`/`yylex` character for character.
struct ConfigLexer {
    /// A character with the place it came from; `c` is a byte, `eof`, or one of the expansion markers.
    private struct Item {
        var c: Int
        var start: Int
        var end: Int
    }

    private static let eof = -1
    private static let startExpand = 256
    private static let doneExpand = 257

    private final class Source {
        let name: String
        let bytes: [UInt8]
        var pos = 0
        var line: Int
        var eofReached = false
        var unget: [Item] = []
        init(name: String, bytes: [UInt8], line: Int) {
            self.name = name
            self.bytes = bytes
            self.line = line
        }
    }

    /// The deepest include nesting accepted (upstream stops only when it runs out of file descriptors).
    static let maxIncludeDepth = 16

    private var files: [Source] = []
    private var expanding = false
    private(set) var macros: [(name: String, value: String)] = []
    /// Every file read, the top one first.
    private(set) var filesRead: [String] = []
    /// The line of the last token returned: where parse.y's `yyerror` points.
    private(set) var lastLine = 1
    /// The file of the last token returned.
    private(set) var lastFile: String

    init(text: [UInt8], path: String) {
        files = [Source(name: path, bytes: text, line: 1)]
        filesRead = [path]
        texts[path] = text
        lastFile = path
    }

    private var texts: [String: [UInt8]] = [:]

    /// The source bytes of one file read so far, for quoting a directive as written.
    func bytes(of file: String) -> [UInt8]? {
        texts[file]
    }

    private func error(_ message: String) -> TableError {
        TableError(.config, path: lastFile, line: lastLine, message)
    }

    // MARK: macros

    mutating func define(_ name: String, _ value: String) {
        macros.removeAll { $0.name == name }
        macros.append((name, value))
    }

    func macro(_ name: String) -> String? {
        macros.first(where: { $0.name == name })?.value
    }

    // MARK: includes

    /// Starts reading `path` (as given, relative to the working directory like upstream) where the lexer stands.
    mutating func include(_ path: String) throws(TableError) {
        if files.contains(where: { $0.name == path }) {
            throw error("include cycle: \(path) is already being read")
        }
        if files.count >= Self.maxIncludeDepth {
            throw error("failed to include file \(path): includes nested more than \(Self.maxIncludeDepth) deep")
        }
        guard let bytes = try? ConfigSource.read(path: path) else {
            throw error("failed to include file \(path)")
        }
        let source = Source(name: path, bytes: bytes, line: 0)
        files.append(source)
        filesRead.append(path)
        texts[path] = source.bytes
        // parse.y pushes a newline into the new file to end the include directive.
        source.unget.append(Item(c: 10, start: -1, end: -1))
    }

    // MARK: characters

    private var file: Source {
        // `files` is never empty: the top file is never popped.
        files[files.count - 1]
    }

    private mutating func igetc() -> Item {
        while true {
            let f = file
            let item: Item
            if let u = f.unget.popLast() {
                item = u
            } else if f.pos < f.bytes.count {
                item = Item(c: Int(f.bytes[f.pos]), start: f.pos, end: f.pos + 1)
                f.pos += 1
            } else {
                item = Item(c: Self.eof, start: f.pos, end: f.pos)
            }
            if item.c == Self.startExpand {
                expanding = true
            } else if item.c == Self.doneExpand {
                expanding = false
            } else {
                return item
            }
        }
    }

    private mutating func lungetc(_ item: Item) {
        if item.c == Self.eof { return }
        file.unget.append(item)
    }

    private mutating func lgetc(quoted: Bool) throws(TableError) -> Item {
        if quoted {
            let item = igetc()
            if item.c == Self.eof {
                throw error("reached end of file while parsing quoted string")
            }
            return item
        }
        var item = igetc()
        while item.c == 92 { // backslash
            let next = igetc()
            if next.c != 10 {
                item = next
                break
            }
            file.line += 1
            item = igetc()
        }
        if item.c == Self.eof {
            // A fake end of line the first time, so a last line without newline still ends its directive.
            if !file.eofReached {
                file.eofReached = true
                return Item(c: 10, start: item.start, end: item.start)
            }
            while item.c == Self.eof {
                if files.count == 1 { return item }
                files.removeLast()
                item = igetc()
            }
        }
        return item
    }

    // MARK: tokens

    private static func isAlnum(_ c: Int) -> Bool {
        (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122)
    }

    private static func isDigit(_ c: Int) -> Bool { c >= 48 && c <= 57 }

    private static func isPunct(_ c: Int) -> Bool {
        (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126)
    }

    private static func isSpace(_ c: Int) -> Bool { c == 32 || (c >= 9 && c <= 13) }

    private static func allowedToEndNumber(_ c: Int) -> Bool {
        isSpace(c) || c == 41 || c == 44 || c == 47 || c == 125 || c == 61 // ) , / } =
    }

    private static func allowedInString(_ c: Int) -> Bool {
        if isAlnum(c) { return true }
        guard isPunct(c) else { return false }
        switch c {
        case 40, 41, 123, 125, 60, 62, 33, 61, 35, 44: return false // ( ) { } < > ! = # ,
        default: return true
        }
    }

    private static let maxTokenLength = 8096 - 2

    /// The next token, or a `TableError` naming the file and line.
    mutating func next() throws(TableError) -> ConfigToken {
        top: while true {
            var item = try lgetc(quoted: false)
            while item.c == 32 || item.c == 9 {
                item = try lgetc(quoted: false)
            }
            lastLine = file.line
            lastFile = file.name
            let line = file.line
            let name = file.name
            func token(_ kind: ConfigToken.Kind, _ text: String, start: Int?, end: Int?) -> ConfigToken {
                ConfigToken(kind: kind, text: text, file: name, line: line,
                            start: start.flatMap { $0 >= 0 ? $0 : nil }, end: end.flatMap { $0 >= 0 ? $0 : nil })
            }
            if item.c == 35 { // '#': skip to the end of the line
                while item.c != 10 && item.c != Self.eof {
                    item = try lgetc(quoted: false)
                }
            }
            if item.c == 36 && !expanding { // '$': a macro
                var nameBytes: [UInt8] = []
                let start = item.start
                var end = item.end
                while true {
                    let c = try lgetc(quoted: false)
                    if c.c == Self.eof { return token(.end, "", start: nil, end: nil) }
                    if nameBytes.count >= Self.maxTokenLength { throw error("string too long") }
                    if Self.isAlnum(c.c) || c.c == 95 {
                        nameBytes.append(UInt8(c.c))
                        end = c.end
                        continue
                    }
                    lungetc(c)
                    break
                }
                let macroName = String(decoding: nameBytes, as: UTF8.self)
                guard let value = macro(macroName) else {
                    throw error("macro '\(macroName)' not defined")
                }
                lungetc(Item(c: Self.doneExpand, start: start, end: end))
                for b in Array(value.utf8).reversed() {
                    lungetc(Item(c: Int(b), start: start, end: end))
                }
                lungetc(Item(c: Self.startExpand, start: start, end: end))
                continue top
            }

            switch item.c {
            case 39, 34: // quoted string
                let quote = item.c
                var buf: [UInt8] = []
                let start = item.start
                var end = item.end
                while true {
                    var c = try lgetc(quoted: true)
                    if c.c == 10 {
                        file.line += 1
                        continue
                    } else if c.c == 92 {
                        let next = try lgetc(quoted: true)
                        if next.c == quote || next.c == 32 || next.c == 9 {
                            c = next
                        } else if next.c == 10 {
                            file.line += 1
                            continue
                        } else {
                            lungetc(next)
                        }
                    } else if c.c == quote {
                        end = c.end
                        break
                    } else if c.c == 0 {
                        throw error("syntax error")
                    }
                    if buf.count >= Self.maxTokenLength { throw error("string too long") }
                    buf.append(UInt8(truncatingIfNeeded: c.c))
                }
                return token(.string, String(decoding: buf, as: UTF8.self), start: start, end: end)
            default:
                break
            }

            var c = item
            if c.c == 45 || Self.isDigit(c.c) { // '-' or a digit: maybe a number
                var items: [Item] = []
                repeat {
                    items.append(c)
                    if items.count >= Self.maxTokenLength { throw error("string too long") }
                    c = try lgetc(quoted: false)
                } while c.c != Self.eof && Self.isDigit(c.c)
                lungetc(c)
                let onlyMinus = items.count == 1 && items[0].c == 45
                if !onlyMinus && (c.c == Self.eof || Self.allowedToEndNumber(c.c)) {
                    let text = String(decoding: items.map { UInt8($0.c) }, as: UTF8.self)
                    guard let n = Int64(text) else {
                        throw error("\"\(text)\" invalid number: too large")
                    }
                    var t = token(.number, text, start: items.first?.start, end: items.last?.end)
                    t.number = n
                    return t
                }
                // Not a number: give the characters back and read them again as a word.
                for it in items.dropFirst().reversed() { lungetc(it) }
                c = items[0]
                if c.c == 45 {
                    return token(.char(45), "-", start: c.start, end: c.end)
                }
            }

            if c.c == 61 { // '=' or '=>'
                let n = try lgetc(quoted: false)
                if n.c == 62 { return token(.arrow, "=>", start: c.start, end: n.end) }
                lungetc(n)
            }

            if Self.isAlnum(c.c) || c.c == 58 || c.c == 95 { // a word
                var buf: [UInt8] = []
                let start = c.start
                var end = c.end
                repeat {
                    buf.append(UInt8(c.c))
                    end = c.end
                    if buf.count >= Self.maxTokenLength { throw error("string too long") }
                    c = try lgetc(quoted: false)
                } while c.c != Self.eof && Self.allowedInString(c.c)
                lungetc(c)
                let text = String(decoding: buf, as: UTF8.self)
                if let k = ConfigKeyword(rawValue: text) {
                    return token(.keyword(k), text, start: start, end: end)
                }
                return token(.string, text, start: start, end: end)
            }
            if c.c == 10 {
                lastLine = file.line
                file.line += 1
                return token(.newline, "\n", start: c.start, end: c.start)
            }
            if c.c == Self.eof {
                return token(.end, "", start: nil, end: nil)
            }
            let byte = UInt8(truncatingIfNeeded: c.c)
            return token(.char(byte), String(decoding: [byte], as: UTF8.self), start: c.start, end: c.end)
        }
    }
}
