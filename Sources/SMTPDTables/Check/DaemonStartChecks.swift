/// What `smtpd -n` (and smtpd at start-up) refuses beyond the grammar, and what fails at the first delivery:
/// listener interfaces and addresses, pki certificate and key files, the programs and sockets of `mda` and
/// `lmtp` actions. `check` reports them all as findings, where smtpd stops at the first.
public enum DaemonStartChecks {
    /// The findings for `config` on this machine.
    public static func findings(_ config: SMTPDConfig) -> [Finding] {
        var out: [Finding] = []
        let names = HostFacts.interfaceNames()
        let local = Set(HostFacts.interfaceAddresses())
        for listener in config.listeners where listener.interface != "socket" {
            let i = listener.interface
            let bracketed = i.contains(":") && !i.hasPrefix("[") ? "[\(i)]" : i
            if names.contains(i) || local.contains(bracketed) { continue }
            if HostFacts.resolvedAddresses(i).contains(where: local.contains) { continue }
            out.append(Finding(.error, "listen-interface", file: listener.location.file, line: listener.location.line,
                               "listen on \(i): no interface, local address or name of this machine's addresses "
                               + "(smtpd: invalid virtual ip or interface: \(i))"))
        }
        for directive in config.otherDirectives where directive.keyword == "pki" || directive.keyword == "ca" {
            let words = ConfigWords.split(directive.text)
            guard words.count >= 4 else { continue }
            for (i, word) in words.enumerated() where i + 1 < words.count && (word == "cert" || word == "key") {
                let path = words[i + 1]
                if let problem = SystemFile.readProblem(path) {
                    out.append(Finding(.error, "pki-file", file: directive.location.file, line: directive.location.line,
                                       "\(directive.keyword) \(words[1]) \(word) \(path): \(problem) (smtpd refuses to "
                                       + "start: load_pki_tree: failed to load \(word == "cert" ? "certificate" : "key") file)"))
                }
            }
        }
        for action in config.actions {
            switch action.method {
            case .lmtp(let destination, _) where destination.hasPrefix("/"):
                if SystemFile.status(destination) == nil {
                    // A note: the socket exists only while the LMTP server runs, and a config is often checked
                    // before that server is started.
                    out.append(Finding(.note, "lmtp-socket", file: action.location.file, line: action.location.line,
                                       "action \"\(action.name)\": the LMTP socket \(destination) does not exist now (is "
                                       + "the LMTP server running?); deliveries are deferred while it is missing"))
                }
            case .mda(let command):
                let program = ConfigWords.split(command).first ?? ""
                if program.hasPrefix("/"), !SystemFile.isExecutable(program) {
                    out.append(Finding(.warning, "mda-program", file: action.location.file, line: action.location.line,
                                       "action \"\(action.name)\": the mda program \(program) is not an executable "
                                       + "file; deliveries will fail"))
                }
            default: break
            }
        }
        return out
    }
}

/// Words of a directive or command as written: blanks separate, double quotes group (and are removed).
enum ConfigWords {
    static func split(_ text: String) -> [String] {
        var words: [String] = []
        var current = ""
        var quoted = false
        var any = false
        for c in text {
            if c == "\"" { quoted.toggle(); any = true; continue }
            if !quoted, c == " " || c == "\t" {
                if any { words.append(current) }
                current = ""
                any = false
                continue
            }
            current.append(c)
            any = true
        }
        if any { words.append(current) }
        return words
    }
}
