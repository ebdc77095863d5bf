/// What changed between OpenSMTPD releases: the one place that keys each behaviour to the release that
/// introduced it (from upstream's history, `git tag --contains` on the commit; see also the README's
/// "Versions" section). Code asks `version.has(.feature)`, never compares release numbers itself.
extension SMTPDVersion {
    /// A behaviour that differs between releases.
    public enum Feature: String, Sendable, CaseIterable {
        // 7.3
        /// db: tables offer the relayhost, string and regex services (regex walks the keys).
        case dbStringRelayhostRegex
        /// Every address of an expansion is SRS-decoded and the rules are matched on the decoded address
        /// (upstream commit fffa3ce8). Before, only the recipient as received was decoded, and the rules were
        /// matched on the address as received (its domain), with the decoded address then delivered.
        case srsDecoding
        /// Listeners take `ciphers`, `protocols` and up to 32 `pki`; `pki` is required for `tls`/`smtps`.
        case listenerTLSOptions
        /// Listener `pki` names are looked up as written (6.8 folded them to lower case).
        case pkiNamesAsWritten

        // 7.5
        /// makemap and file: tables share one line parser (upstream commit 5270a72a, util.c
        /// `parse_table_line`): `#` starts a comment only as the first non-blank of a line, no `\`
        /// continuation, no `\#` escape, CR and trailing blanks trimmed. Before it, makemap read its source
        /// with `fparseln(3)` (`#` anywhere, `\#` escaped, `\` continuation, CR and trailing blanks kept);
        /// file: tables already had the trimming grammar.
        case sharedLineParser
        /// A file or pipe in root's `.forward` is a temporary failure.
        case rootForwardRefusesFilesAndPipes
        /// An action with `user NAME` skips every other user's `.forward`.
        case actionUserSkipsForwards
        /// Multi-line `{ }` tables and filter chains in smtpd.conf.
        case multiLineBraces
        /// Match rules take mapping tables for `auth`, `mail-from` and `rcpt-to`.
        case matchMappingTables

        // 7.6
        /// The separator after a key is one space, tab or `:`, then only spaces and tabs are skipped (upstream
        /// commit 9b9a387c): `a : b` is `: b` and `a:: b` is `: b`. Before it, spaces and `:` followed by white
        /// space were skipped (`a : b` and `a:: b` are `b`).
        case singleSeparator
        /// A key starting with `[` runs through the first `]` (`[::1] localhost`); same commit. Before it, such
        /// a key ended at its first `:` like any other.
        case bracketKeys
        /// The proc: table protocol is the text protocol 0.1 (proc.md); old opensmtpd-extras backends die.
        case procTextProtocol
        /// A table may register the `auth` service.
        case authService
        /// `<localnames>` holds the machine's addresses only as written (`127.0.0.1`, `[::1]`), no longer also
        /// as address literals (`[127.0.0.1]`; upstream commit 23bb908b, in 7.5.0): `user@[127.0.0.1]` no
        /// longer matches `for local` and goes to whatever rule matches it (often relayed), where 6.8 delivered it
        /// to the local user `user`.
        case ipLiteralRelayed
        /// The mda refuses root as `MDA not allowed to deliver to: root` (6.8: `not allowed to deliver to: root`),
        /// and also refuses a file or pipe run as root by an mbox action (upstream commit 8eb1a272, in 7.5.0).
        case mdaRootMessage

        // 7.8
        /// IPv6 `source` and `addrname` values parse again (portable 7.5 to 7.7 never parsed them).
        case ipv6SourceAddrname
        /// AUTH user names and passwords containing CR or LF are refused; a proc: key with CR or LF is a
        /// temporary error.
        case authRefusesCRLF

        /// The first release with this behaviour.
        public var introduced: SMTPDVersion {
            switch self {
            case .dbStringRelayhostRegex, .srsDecoding, .listenerTLSOptions, .pkiNamesAsWritten: return .v7_3
            case .sharedLineParser, .rootForwardRefusesFilesAndPipes, .actionUserSkipsForwards, .multiLineBraces,
                 .matchMappingTables, .ipLiteralRelayed, .mdaRootMessage: return .v7_5
            case .singleSeparator, .bracketKeys, .procTextProtocol, .authService: return .v7_6
            case .authRefusesCRLF: return .v7_8
            case .ipv6SourceAddrname: return .v7_8
            }
        }

        /// Releases before `introduced` that had the behaviour too, before a regression took it away: IPv6
        /// source values parsed up to 7.4 (portable 7.5 to 7.7 called `inet_pton(PF_INET, ...)` on them).
        var alsoBefore: SMTPDVersion? {
            self == .ipv6SourceAddrname ? .v7_4 : nil
        }
    }

    /// Whether this release has `feature`.
    public func has(_ feature: Feature) -> Bool {
        if self >= feature.introduced { return true }
        if let upTo = feature.alsoBefore { return self <= upTo }
        return false
    }

    /// The features whose behaviour differs between this release and `other` (for `check --upgrade-to`).
    public func changes(upTo other: SMTPDVersion) -> [Feature] {
        Feature.allCases.filter { has($0) != other.has($0) }
    }

    static let v7_3 = SMTPDVersion(uncheckedMajor: 7, minor: 3)
    static let v7_4 = SMTPDVersion(uncheckedMajor: 7, minor: 4)
    static let v7_5 = SMTPDVersion(uncheckedMajor: 7, minor: 5)
    static let v7_6 = SMTPDVersion(uncheckedMajor: 7, minor: 6)
    static let v7_8 = SMTPDVersion(uncheckedMajor: 7, minor: 8)
}

extension TableLineParser {
    /// The line grammars upstream has had (see `SMTPDVersion.Feature`).
    enum Grammar: Sendable {
        /// 6.8's makemap: `fparseln(3)` lines (`#` anywhere unless `\#`, `\` continuation, CR and trailing
        /// blanks kept), the key ending at the first space, tab or `:`, then any run of `:` and white space.
        case fparseln
        /// 6.8's file: tables, 7.5's file: tables and makemap: trimmed lines, `#` first only, the key ending
        /// at the first space, tab or `:`, then white space and `:` followed by white space skipped.
        case skipColonBlanks
        /// 7.6 and later: one separator (space, tab, `:`) then spaces and tabs; `[` keys through `]`.
        case singleSeparator

        /// How smtpd `version` reads a `file:` table.
        static func fileTable(_ version: SMTPDVersion) -> Grammar {
            version.has(.singleSeparator) ? .singleSeparator : .skipColonBlanks
        }

        /// How makemap `version` reads its source.
        static func makemap(_ version: SMTPDVersion) -> Grammar {
            version.has(.sharedLineParser) ? fileTable(version) : .fparseln
        }
    }
}
