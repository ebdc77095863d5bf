#if canImport(Glibc)
import Glibc
#endif

/// An OpenSMTPD release, major.minor (`6.8`, `7.6`): the behaviour this library reproduces.
///
/// Every behaviour that changed between releases is keyed to the release that introduced it
/// (`SMTPDVersion.Feature`, in Versions.swift); tables (`TableOptions.version`), makemap (`MapBuilder`) and the
/// tools take the version to serve. Releases 6.8 to 7.9 are known; `newest` is the default of the library.
public struct SMTPDVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let major: Int
    public let minor: Int

    /// The oldest release served: Debian 12's and Ubuntu LTS's 6.8.
    public static let oldest = SMTPDVersion(uncheckedMajor: 6, minor: 8)
    /// The newest release served (Debian sid's 7.9).
    public static let newest = SMTPDVersion(uncheckedMajor: 7, minor: 9)

    /// The environment variable `makemap`, `newaliases` and the `smtpd-tables` tool read when no version is given.
    public static let environmentVariable = "SMTPD_TABLES_SMTPD_VERSION"

    init(uncheckedMajor major: Int, minor: Int) {
        self.major = major
        self.minor = minor
    }

    /// A known release (6.8, 6.9, 7.0 ... 7.9).
    public init(major: Int, minor: Int) throws(ParseError) {
        let v = SMTPDVersion(uncheckedMajor: major, minor: minor)
        guard SMTPDVersion.known.contains(v) else { throw ParseError(text: "\(major).\(minor)", kind: .unknownRelease) }
        self = v
    }

    /// Parses `X.Y` (`7.6`); a release string `X.Y.Z...` (`7.6.0p1`, `7.6.0-portable`) is read as its `X.Y`.
    /// Anything else, and releases outside 6.8 to 7.9, are refused with an error that says what is accepted.
    public init(_ text: String) throws(ParseError) {
        let bytes = Array(text.utf8)
        var i = 0
        func number() -> Int? {
            let start = i
            while i < bytes.count, isASCIIDigit(bytes[i]), i - start < 4 { i += 1 }
            guard i > start, i - start < 4 else { return nil }
            return bytes[start..<i].reduce(0) { $0 * 10 + Int($1 - 0x30) }
        }
        guard let major = number(), i < bytes.count, bytes[i] == UInt8(ascii: "."), ({ i += 1; return true }()),
              let minor = number(),
              i == bytes.count || (bytes[i] == UInt8(ascii: ".") && i + 1 < bytes.count && isASCIIDigit(bytes[i + 1]))
        else { throw ParseError(text: text, kind: .notAVersion) }
        do {
            try self.init(major: major, minor: minor)
        } catch {
            throw ParseError(text: text, kind: .unknownRelease)
        }
    }

    /// Every release served, oldest first: 6.8, 6.9 (OpenBSD's), 7.0 to 7.9.
    public static let known: [SMTPDVersion] =
        [SMTPDVersion(uncheckedMajor: 6, minor: 8), SMTPDVersion(uncheckedMajor: 6, minor: 9)]
        + (0...9).map { SMTPDVersion(uncheckedMajor: 7, minor: $0) }

    public var description: String { "\(major).\(minor)" }

    public static func < (a: SMTPDVersion, b: SMTPDVersion) -> Bool { (a.major, a.minor) < (b.major, b.minor) }

    /// Why a text is not a version this library serves.
    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        enum Kind: Sendable { case notAVersion, unknownRelease }
        /// The text refused.
        public let text: String
        let kind: Kind

        public var description: String {
            let range = "\(SMTPDVersion.oldest) to \(SMTPDVersion.newest)"
            switch kind {
            case .notAVersion: return "'\(text)' is not an OpenSMTPD version (give X.Y, from \(range), e.g. 7.6)"
            case .unknownRelease: return "unsupported OpenSMTPD version '\(text)' (known: \(range))"
            }
        }
    }
}

// MARK: The version in use

extension SMTPDVersion {
    /// The version a program serves and where it came from, for tools that say what they applied.
    public struct Selection: Sendable, Equatable, CustomStringConvertible {
        /// Where the version came from, most explicit first.
        public enum Origin: String, Sendable {
            /// A command-line option (`--smtpd-version`).
            case option
            /// The environment variable `SMTPD_TABLES_SMTPD_VERSION`.
            case environment
            /// The smtpd installed on this machine (`smtpd -h`).
            case installed
            /// None of those: the newest release.
            case newest
        }

        public var version: SMTPDVersion
        public var origin: Origin

        public init(version: SMTPDVersion, origin: Origin) {
            self.version = version
            self.origin = origin
        }

        /// `7.6 (installed smtpd)`, `6.8 (SMTPD_TABLES_SMTPD_VERSION)`, ...
        public var description: String {
            switch origin {
            case .option: return "\(version) (--smtpd-version)"
            case .environment: return "\(version) (\(SMTPDVersion.environmentVariable))"
            case .installed: return "\(version) (installed smtpd)"
            case .newest: return "\(version) (newest; no smtpd installed)"
            }
        }
    }

    /// The version to serve: `option` if given, else the environment variable `SMTPD_TABLES_SMTPD_VERSION`
    /// (unset or empty: ignored), else the installed smtpd's (`installed()`), else `newest`.
    /// - Throws: when `option` or the variable is not a known version (the error names the variable).
    public static func select(option: String? = nil) throws(SelectionError) -> Selection {
        if let option {
            do { return Selection(version: try SMTPDVersion(option), origin: .option) } catch {
                throw SelectionError(source: "--smtpd-version", error: error)
            }
        }
        if let p = getenv(environmentVariable), p.pointee != 0 {
            let text = String(cString: p)
            do { return Selection(version: try SMTPDVersion(text), origin: .environment) } catch {
                throw SelectionError(source: environmentVariable, error: error)
            }
        }
        if let v = installed() { return Selection(version: v, origin: .installed) }
        return Selection(version: newest, origin: .newest)
    }

    /// A version given on the command line or in the environment that is not known.
    public struct SelectionError: Error, Sendable, CustomStringConvertible {
        /// `--smtpd-version` or the variable's name.
        public let source: String
        public let error: ParseError
        public var description: String { "\(source): \(error)" }
    }
}

// MARK: The installed smtpd

extension SMTPDVersion {
    /// Where smtpd is looked for after `PATH` (it lives in sbin, often not in a user's `PATH`).
    static let smtpdFolders = ["/usr/sbin", "/usr/local/sbin", "/sbin", "/usr/bin", "/usr/local/bin"]

    /// The version of the smtpd installed on this machine, from `smtpd -h` (which prints
    /// `version: OpenSMTPD 7.6.0-portable` or `version: OpenSMTPD 6.8.0p2` before its usage and exits 1);
    /// nil when there is none, it prints no version, or its release is not one of `known`. Asked once per
    /// process.
    public static func installed() -> SMTPDVersion? { installedOnce }

    private static let installedOnce: SMTPDVersion? = {
        guard let smtpd = findSmtpd() else { return nil }
        return installed(executable: smtpd)
    }()

    /// The version `executable -h` prints (see `installed()`).
    public static func installed(executable: String) -> SMTPDVersion? {
        guard let output = runCapturingOutput(executable, ["-h"]) else { return nil }
        return SMTPDVersion(smtpdHelp: String(decoding: output, as: UTF8.self))
    }

    /// The version named in `smtpd -h` output: the first line `version: OpenSMTPD X.Y...`; nil when there is
    /// none or its release is not known.
    public init?(smtpdHelp output: String) {
        let prefix = "version: OpenSMTPD "
        for line in output.split(separator: "\n") where line.hasPrefix(prefix) {
            let release = line.dropFirst(prefix.count).prefix { $0 != " " }
            guard let v = try? SMTPDVersion(String(release)) else { return nil }
            self = v
            return
        }
        return nil
    }

    private static func findSmtpd() -> String? { findProgram("smtpd") }

    /// The first regular, executable `name` in `PATH`, then in the sbin and bin folders.
    static func findProgram(_ name: String) -> String? {
        var folders: [String] = []
        if let p = getenv("PATH") { folders = String(cString: p).split(separator: ":").map(String.init) }
        for dir in folders + smtpdFolders where !dir.isEmpty {
            let path = dir + "/" + name
            var st = stat()
            if stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, access(path, X_OK) == 0 { return path }
        }
        return nil
    }

    /// Runs `path arguments` with standard input from /dev/null and standard output and error into one pipe;
    /// returns what it printed (at most 64 KiB), whatever its exit status, or nil when it cannot be started.
    static func runCapturingOutput(_ path: String, _ arguments: [String]) -> [UInt8]? {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { return nil }
        // Neither end may leak into other children this process starts meanwhile (dup2 clears it in smtpd's).
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 2)
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        // An empty environment: smtpd -h needs none, and nothing of ours leaks into it.
        var envp: [UnsafeMutablePointer<CChar>?] = [nil]
        let spawned = argv.withUnsafeBufferPointer { a in
            posix_spawn(&pid, path, &actions, nil, UnsafeMutablePointer(mutating: a.baseAddress!), &envp)
        }
        close(fds[1])
        guard spawned == 0 else {
            close(fds[0])
            return nil
        }
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while output.count < 1 << 16 {
            let n = buffer.withUnsafeMutableBytes { read(fds[0], $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            if n <= 0 { break }
            output.append(contentsOf: buffer[..<n])
        }
        close(fds[0])  // a child still writing gets EPIPE rather than blocking our wait
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1, errno == EINTR {}
        return output
    }
}
