/// One problem `SetupChecker` found, with the place it is written.
public struct Finding: Sendable, Equatable, Codable {
    public enum Severity: String, Sendable, Codable, Comparable {
        /// smtpd refuses it, or mail is lost or refused because of it.
        case error
        /// Very likely not what was meant.
        case warning
        /// Worth knowing; not counted as a finding for the exit status.
        case note

        private var rank: Int { self == .error ? 0 : self == .warning ? 1 : 2 }
        public static func < (a: Severity, b: Severity) -> Bool { a.rank < b.rank }
    }

    public var severity: Severity
    /// A stable name for the kind of problem (`duplicate-entry`, `credentials-extra-fields`, ...).
    public var code: String
    /// The file the problem is in, and its line when known.
    public var file: String?
    public var line: Int?
    /// The smtpd.conf table concerned, if any.
    public var table: String?
    public var message: String

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
