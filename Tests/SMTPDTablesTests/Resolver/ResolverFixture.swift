import Foundation
@testable import SMTPDTables

/// A resolver over an smtpd.conf written in a temporary directory (`$DIR` in the text stands for it), with
/// a fixed host name and interface list so answers do not depend on the machine.
struct ResolverFixture {
    static let hostname = "mx.test"
    let dir: String
    let resolver: Resolver

    init(dir: String, conf: String, files: [String: String] = [:], homeRoot: String = "",
         sender: SenderContext = SenderContext(), hostname: String = ResolverFixture.hostname) throws {
        self.dir = dir
        for (name, text) in files {
            _ = try TestSupport.write(text.replacingOccurrences(of: "$DIR", with: dir), to: name, in: dir)
        }
        let text = conf.replacingOccurrences(of: "$DIR", with: dir)
        let config = try SMTPDConfig.parse(text: text, path: dir + "/smtpd.conf")
        resolver = try Resolver(config: config, options: .init(hostname: hostname, sender: sender, homeRoot: homeRoot,
                                                                localAddresses: ["127.0.0.1", "[::1]"]))
    }

    func resolve(_ recipient: String) throws -> Resolution { try resolver.resolve(recipient) }

    /// The tree, one line per node in creation order: `depth kind value table:key ^parent`, plus ` dup` for a
    /// node smtpd discarded as already present. `$DIR` replaces the temporary directory.
    func tree(_ r: Resolution) -> [String] {
        r.nodes.map { n in
            let line = "\(n.depth) \(n.kind.rawValue) \(n.value) \(n.table ?? "-"):\(n.key ?? "-") ^\(n.parent.map(String.init) ?? "-")"
                + (n.duplicate ? " dup" : "")
            return line.replacingOccurrences(of: dir, with: "$DIR")
        }
    }

    /// Shorthand for a local user delivery.
    static func user(_ name: String, _ action: String, sub: String = "") -> Delivery {
        .user(name: name, subaddress: sub, action: action)
    }
}
