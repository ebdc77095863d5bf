/// One problem `SetupChecker` found, with the place it is written.
public struct Finding: Sendable, Equatable, Codable {
    /// How much a finding matters; `error` sorts first.
    public enum Severity: String, Sendable, Codable, Comparable {
        /// smtpd refuses it, or mail is lost or refused because of it.
        case error
        /// Very likely not what was meant.
        case warning
        /// Worth knowing; not counted as a finding for the exit status.
        case note

        private var rank: Int { self == .error ? 0 : self == .warning ? 1 : 2 }
        /// Errors before warnings before notes.
        public static func < (a: Severity, b: Severity) -> Bool { a.rank < b.rank }
    }

    /// How much it matters.
    public var severity: Severity
    /// A stable name for the kind of problem (`duplicate-entry`, `credentials-extra-fields`, ...).
    public var code: String
    /// The file the problem is in.
    public var file: String?
    /// The line in `file`, when known.
    public var line: Int?
    /// The smtpd.conf table concerned, if any.
    public var table: String?
    /// What is wrong, in words (never quoting a password or a hash).
    public var message: String

    /// A finding from its parts.
    public init(_ severity: Severity, _ code: String, file: String? = nil, line: Int? = nil, table: String? = nil,
                _ message: String) {
        self.severity = severity
        self.code = code
        self.file = file
        self.line = line
        self.table = table
        self.message = message
    }

    /// `FILE:LINE: severity: message [code]`, as the check command prints it.
    public var description: String {
        var place = ""
        if let file { place = line.map { "\(file):\($0): " } ?? "\(file): " }
        return "\(place)\(severity.rawValue): \(message) [\(code)]"
    }
}
