import SMTPDTables

/// A JSON value, built by the subcommands for `--json`.
///
/// Every `--json` output has one shape: one JSON array (one document), one object per item (address, key,
/// entry, finding, user), one object per line, each object naming the `smtpdVersion` whose behaviour was
/// applied. Field names are camelCase; a field that does not apply is absent or null as the man page says.
/// Control characters, DEL and C1 are written as `\u` escapes, so the output is valid JSON and safe on a
/// terminal; bytes that are not UTF-8 are replaced by U+FFFD.
indirect enum JSONValue {
    case string(String)
    case int(Int)
    case bool(Bool)
    case null
    case array([JSONValue])
    /// Fields in the order written.
    case object([(String, JSONValue)])

    /// Bytes from a table, as text.
    static func bytes<C: Collection>(_ b: C) -> JSONValue where C.Element == UInt8 { .string(String(decoding: b, as: UTF8.self)) }

    /// An optional string, or null.
    static func optional(_ s: String?) -> JSONValue { s.map(JSONValue.string) ?? .null }

    /// The compact text of the value (`, ` and `: ` between items).
    var text: String {
        var out = ""
        write(to: &out)
        return out
    }

    func write(to out: inout String) {
        switch self {
        case .string(let s): JSONValue.quote(s, to: &out)
        case .int(let n): out += String(n)
        case .bool(let b): out += b ? "true" : "false"
        case .null: out += "null"
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += ", " }
                item.write(to: &out)
            }
            out += "]"
        case .object(let fields):
            out += "{"
            for (i, (key, value)) in fields.enumerated() {
                if i > 0 { out += ", " }
                JSONValue.quote(key, to: &out)
                out += ": "
                value.write(to: &out)
            }
            out += "}"
        }
    }

    private static let hex = Array("0123456789abcdef")

    static func quote(_ s: String, to out: inout String) {
        out += "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                // C0, DEL and C1 as \u escapes: valid JSON either way, and never a terminal control sequence.
                if u.value < 0x20 || (0x7F...0x9F).contains(u.value) {
                    out += "\\u00"
                    out.append(hex[Int(u.value >> 4)])
                    out.append(hex[Int(u.value & 0xF)])
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        out += "\""
    }
}

/// Writes the one JSON array of a `--json` run, an object per line, as the items come (a dump of millions
/// of entries is never held whole).
struct JSONArrayWriter {
    private var out = OutputBuffer()
    private var count = 0
    private let smtpdVersion: SMTPDVersion

    init(smtpdVersion: SMTPDVersion) { self.smtpdVersion = smtpdVersion }

    /// One item: `fields`, then `smtpdVersion`.
    mutating func append(_ fields: [(String, JSONValue)]) {
        var text = count == 0 ? "[\n  " : ",\n  "
        JSONValue.object(fields + [("smtpdVersion", .string(smtpdVersion.description))]).write(to: &text)
        // JSON escapes every control character itself: no terminal escaping needed.
        out.append(text)
        count += 1
    }

    /// Ends the array (`[]` when there were no items) and writes everything out.
    mutating func finish() {
        out.append(count == 0 ? "[]\n" : "\n]\n")
        out.flush()
    }
}

/// Passwords and hashes in JSON output: withheld unless asked for (`--show-secrets`).
enum SecretPolicy {
    static let withheldNote = "looks like a password or a hash: withheld (--show-secrets prints it)"

    /// The value field(s) for a table value: the value, or null and a `withheld` note.
    static func valueFields<C: Collection>(_ value: C?, secret: Bool, show: Bool) -> [(String, JSONValue)]
    where C.Element == UInt8 {
        guard let value else { return [("value", .null)] }
        if secret, !show { return [("value", .null), ("withheld", .string(withheldNote))] }
        return [("value", .bytes(value))]
    }
}
