/// An error from reading, parsing or querying a table, with the place it happened.
///
/// Its `description` is the message a user sees: `PATH:LINE: what is wrong` when a line is known,
/// `PATH: what is wrong` otherwise, the same shape as OpenSMTPD's own `FILE:LINE: invalid entry`.
public struct TableError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What kind of failure this is, for programs that branch on it.
    public enum Kind: String, Sendable {
        /// A line of a table file that does not parse (`invalid entry`).
        case invalidEntry
        /// A key longer than smtpd's 1023-byte limit.
        case keyTooLong
        /// The same key twice where duplicates are refused (makemap).
        case duplicateEntry
        /// A value that is not valid for the service it was looked up as.
        case invalidValue
        /// The file could not be opened, read or written.
        case io
        /// The file is not of the expected format (not a table, not a db).
        case format
        /// A configuration (smtpd.conf) error.
        case config
        /// Anything else the caller asked for that cannot be done.
        case usage
    }

    /// What kind of failure this is.
    public var kind: Kind
    /// The file concerned, if any.
    public var path: String?
    /// The 1-based line number in `path`, if known.
    public var line: Int?
    /// What is wrong, in words.
    public var message: String
    /// More about what is wrong, for a second line after `description` (makemap keeps upstream's bare
    /// `FILE:LINE: invalid entry`, which scripts match, and says why on the next line).
    public var detail: String?

    /// An error of `kind` at `path` and `line`, with `message` in words.
    public init(_ kind: Kind, path: String? = nil, line: Int? = nil, _ message: String, detail: String? = nil) {
        self.kind = kind
        self.path = path
        self.line = line
        self.message = message
        self.detail = detail
    }

    /// `description`, then `PATH:LINE: detail` on a second line when there is a detail.
    public var explained: String {
        guard let detail else { return description }
        let place = TableError(kind, path: path, line: line, detail).description
        return description + "\n" + place
    }

    /// `PATH:LINE: message`, `PATH: message` or the message alone, as much as is known.
    public var description: String {
        switch (path, line) {
        case let (path?, line?): return "\(path):\(line): \(message)"
        case let (path?, nil): return "\(path): \(message)"
        default: return message
        }
    }
}
