/// The server settings the table layer only checks and keeps as written: `pki`, `ca`, `proc`, `mda`, `mta`,
/// `queue`, `scheduler`, `smtp`, `srs`, `bounce` and `admd`.
extension ConfigParser {
    mutating func pkiDirective() throws(TableError) {
        _ = try advance()
        pkiNames.insert(try hostName())
        while true {
            if tok.isKeyword(.cert) || tok.isKeyword(.key) {
                _ = try advance()
                _ = try expectString()
            } else if try accept(.dhe) {
                if !["none", "auto", "legacy"].contains(try expectString().lowercased()) {
                    throw semantic("invalid DHE keyword: \(previous.text)")
                }
            } else {
                return
            }
        }
    }

    mutating func caDirective() throws(TableError) {
        _ = try advance()
        caNames.insert(try hostName())
        try expect(.cert)
        _ = try expectString()
    }

    /// `ca NAME` and `pki NAME`: `*` or a valid host name, folded to lower case.
    private mutating func hostName() throws(TableError) -> String {
        let name = try expectString()
        if name != "*" && !ConfigValues.isHostName(name) {
            throw semantic("not a valid domain name: \(name)")
        }
        return name.lowercased()
    }

    mutating func procDirective() throws(TableError) {
        _ = try advance()
        let name = try expectString()
        _ = try expectString()
        if processors.contains(name) { throw semantic("processor already exists with that name: \(name)") }
        try procParams()
        processors.insert(name)
    }

    /// `user`, `group` and `chroot` of a processor, each at most once.
    mutating func procParams() throws(TableError) {
        var given = GivenOptions(" for this processor")
        while case .keyword(let k) = tok.kind, k == .user || k == .group || k == .chroot {
            _ = try stringOption(k.rawValue, &given)
        }
    }

    mutating func mdaDirective() throws(TableError) {
        _ = try advance()
        if try accept(.limit) {
            try limits(["max-session", "max-session-per-user", "task-lowat", "task-hiwat", "task-release"],
                       what: "scheduler")
        } else if try accept(.wrapper) {
            let name = try expectString()
            _ = try expectString()
            if mdaWrappers.contains(name) {
                throw semantic("mda wrapper already declared with that name: \(name)")
            }
            mdaWrappers.insert(name)
        } else {
            throw syntaxError()
        }
    }

    mutating func mtaDirective() throws(TableError) {
        _ = try advance()
        if try accept(.maxDeferred) {
            _ = try expectNumber()
            return
        }
        try expect(.limit)
        if try accept(.for) {
            try expect(.domain)
            _ = try expectString()
        }
        try limits(ConfigValues.mtaLimits, what: "mta", families: true)
    }

    /// `STRING NUMBER` pairs with keys from `keys`; `inet4` and `inet6` may come between them where `families`.
    private mutating func limits(_ keys: Set<String>, what: String, families: Bool = false) throws(TableError) {
        while true {
            if families, tok.isKeyword(.inet4) || tok.isKeyword(.inet6) {
                _ = try advance()
                continue
            }
            guard tok.isString else { return }
            let key = try advance().text
            _ = try expectNumber()
            if !keys.contains(key) { throw semantic("invalid \(what) limit keyword: \(key)") }
        }
    }

    mutating func queueDirective() throws(TableError) {
        _ = try advance()
        if try accept(.compression) {
        } else if try accept(.encryption) {
            if tok.isString { _ = try advance() }
        } else if try accept(.ttl) {
            let d = try expectString()
            if ConfigValues.delay(d) == nil { throw semantic("invalid ttl delay: \(d)") }
        } else {
            throw syntaxError()
        }
    }

    mutating func schedulerDirective() throws(TableError) {
        _ = try advance()
        try expect(.limit)
        try limits(["max-inflight", "max-evp-batch-size", "max-msg-batch-size", "max-schedule"], what: "scheduler")
    }

    mutating func smtpDirective() throws(TableError) {
        _ = try advance()
        if try accept(.limit) {
            try limits(["max-rcpt", "max-mails"], what: "session")
        } else if try accept(.ciphers) {
            _ = try expectString()
        } else if try accept(.maxMessageSize) {
            if tok.kind == .number {
                let t = try advance()
                if t.number < 0 { throw semantic("invalid size: \(t.text)") }
            } else {
                let s = try expectString()
                if ConfigValues.scaled(s) == nil { throw semantic("invalid size: \(s)") }
            }
        } else if try accept(.subAddrDelim) {
            let bytes = Array(try expectString().utf8)
            guard bytes.count == 1 else { throw semantic("subaddressing-delimiter must be one character") }
            let c = bytes[0]
            if c == 32 || (c >= 9 && c <= 13) || c < 0x20 || c > 0x7e || c == UInt8(ascii: "@") {
                throw semantic("sub-addr-delim uses invalid character")
            }
            config.subaddressingDelimiter = c
        } else {
            throw syntaxError()
        }
    }

    mutating func srsDirective() throws(TableError) {
        _ = try advance()
        if try accept(.key) {
            // `srs key backup SECRET` alone does not enable srs in actions.
            let backup = try accept(.backup)
            let secret = Array(try expectString().utf8)
            if backup { config.srs.backupKey = secret } else { config.srs.key = secret; hasSRSKey = true }
        } else if try accept(.ttl) {
            let d = try expectString()
            guard let seconds = ConfigValues.delay(d) else { throw semantic("ttl delay \"\(d)\" is invalid") }
            if seconds / 86400 == 0 { throw semantic("ttl delay \"\(d)\" is too short") }
            config.srs.ttlDays = seconds / 86400
        } else {
            throw syntaxError()
        }
    }

    mutating func bounceDirective() throws(TableError) {
        _ = try advance()
        try expect(.warnInterval)
        while true {
            let d = try expectString()
            if ConfigValues.delay(d) == nil { throw semantic("invalid bounce delay: \(d)") }
            guard tok.isChar(",") else { return }
            _ = try advance()
        }
    }

    mutating func admdDirective() throws(TableError) {
        _ = try advance()
        let s = try expectString()
        if s.utf8.contains(where: { $0 < 0x20 || $0 > 0x7e }) { throw semantic("not a valid admd") }
    }
}
