import Foundation

/// The bundled Examples/ set up in a scratch folder the way Examples/run.sh does it: files copied, the config's
/// /etc/mail and /etc/ssl paths pointed at the copy, aliases.db built with our makemap, and (on request) a
/// throwaway certificate so that the real `smtpd -n` can load the config's pki.
enum ExampleSetup {
    static let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Examples").path

    static let files = ["aliases", "vdomains", "vusers", "passwd", "userinfo"]

    /// Sets the example up in `dir` and returns the path of its smtpd.conf.
    @discardableResult
    static func make(in dir: String, withCertificate: Bool = false) throws -> String {
        for f in files {
            try FileManager.default.copyItem(atPath: "\(examples)/\(f)", toPath: "\(dir)/\(f)")
        }
        let built = try TestSupport.run(TestSupport.product("makemap"), ["-t", "aliases", "\(dir)/aliases"])
        guard built.status == 0 else { throw ExampleError(message: "makemap failed: \(built.stderr)") }
        var text = try String(contentsOfFile: "\(examples)/smtpd.conf", encoding: .utf8)
            .replacingOccurrences(of: "/etc/mail/", with: "\(dir)/")
            .replacingOccurrences(of: "/etc/ssl/private/", with: "\(dir)/")
            .replacingOccurrences(of: "/etc/ssl/", with: "\(dir)/")
        if withCertificate {
            let r = try TestSupport.run("/usr/bin/openssl", [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=mail.example.org", "-days", "2",
                "-keyout", "\(dir)/mail.example.org.key", "-out", "\(dir)/mail.example.org.crt",
            ])
            guard r.status == 0 else { throw ExampleError(message: "openssl failed: \(r.stderr)") }
            chmod("\(dir)/mail.example.org.key", 0o600)
        } else {
            // Without a certificate the TLS listener cannot be loaded: leave pki and port 587 out.
            text = text.split(separator: "\n", omittingEmptySubsequences: false)
                .filter { !$0.hasPrefix("pki") && !$0.contains("port 587") }.joined(separator: "\n")
        }
        return try TestSupport.write(text, to: "smtpd.conf", in: dir)
    }

    struct ExampleError: Error { var message: String }
}
