/// Small smtpd.conf files, valid and invalid, judged by the real `smtpd -n -f` (ConfigOracleTests).
/// `@D@` stands for a temporary directory holding the table files of `ConfigCorpus.tableFiles`.
/// `line` is the line smtpd names for an invalid one (nil when it names none, as for `no rules`).
struct ConfigCase: Sendable, CustomTestStringConvertible {
    var name: String
    var text: String
    var valid: Bool
    var line: Int? = nil
    /// Other files of the case, written beside the configuration (for includes).
    var files: [String: String] = [:]

    var testDescription: String { name }
}

import Testing

enum ConfigCorpus {
    static let tableFiles: [String: String] = [
        "aliases": "root: bob\npostmaster: root\n",
        "domains": "example.org\nexample.net\n",
        "virtual": "@example.org bob\nabuse@example.org root\n",
        "creds": "bob $2b$08$abcdefghijklmnopqrstuuWnxlLqHwAbY0WvYNJcXcDtc7CgLlUVe\n",
        "hosts": "relay.example.org\n",
        "listdecl": "# @list\nroot\n",
        "broken": "root: bob\nbare\n",
        "relays": "example.org smtp://mx.example.org\n",
    ]

    static let cases: [ConfigCase] = [
        // MARK: valid
        ConfigCase(name: "minimal", text: """
            action "local" mbox
            match for local action "local"
            """, valid: true),
        ConfigCase(name: "debian default", text: """
            # $OpenBSD: smtpd.conf,v 1.10 2018/05/24 11:40:17 gilles Exp $

            # This is the smtpd server system-wide configuration file.
            # See smtpd.conf(5) for more information.

            table aliases file:@D@/aliases

            # To accept external mail, replace with: listen on all
            #
            listen on localhost

            action "local" mbox alias <aliases>
            action "relay" relay

            # Uncomment the following to accept external mail for domain "example.org"
            #
            # match from any for domain "example.org" action "local"
            match for local action "local"
            match from local for any action "relay"
            """, valid: true),
        ConfigCase(name: "macros and continuation", text: """
            dom = "example.org"
            al = "aliases"
            table aliases file:@D@/aliases
            action "local" maildir "~/Maildir" junk alias <$al>
            match from any \\
                for domain $dom \\
                action "local"
            match from any for domain "$dom" reject
            """, valid: true),
        ConfigCase(name: "inline tables", text: """
            table dom { example.org, example.net example.com }
            table map { root = bob, "postmaster" => root }
            action "local" mbox alias <map>
            match from any for domain <dom> action "local"
            match from src { 127.0.0.1, "::1" } for domain example.com action "local"
            match ! from any for domain { a.org, b.org } reject
            """, valid: true),
        ConfigCase(name: "every local method", text: """
            table aliases file:@D@/aliases
            table vdomains file:@D@/virtual
            table users { bob = "1000:1000:/home/bob" }
            mda wrapper "wrap" "/usr/bin/env %{mda}"
            action "a" mbox alias <aliases> ttl 4d
            action "b" maildir
            action "c" maildir junk
            action "d" maildir "/var/mail/%{user.username}"
            action "e" lmtp "/var/run/dovecot/lmtp" rcpt-to virtual <vdomains>
            action "f" lmtp "localhost:24"
            action "g" mda "/usr/bin/procmail -f -" user "nobody" userbase <users> wrapper "wrap"
            action "h" forward-only alias <aliases>
            action "i" expand-only virtual <vdomains>
            match for local action "a"
            """, valid: true),
        ConfigCase(name: "relay options", text: """
            table creds file:@D@/creds
            table hosts file:@D@/hosts
            table relays file:@D@/relays
            srs key "secret-key"
            action "r1" relay host "smtp+tls://label@relay.example.org:587" auth <creds> tls no-verify helo "mx.example.org"
            action "r2" relay backup mx "mx1.example.org" mail-from "@example.org"
            action "r3" relay backup
            action "r4" relay domain <relays> srs
            action "r5" relay host <hosts> tls
            action "r6" relay src { 192.0.2.1 } ttl 1h
            match from any for any action "r1"
            """, valid: true),
        ConfigCase(name: "match conditions", text: """
            table domains file:@D@/domains
            table creds file:@D@/creds
            action "x" mbox
            match from socket for local action "x"
            match from local for any action "x"
            match from rdns for domain <domains> action "x"
            match from rdns { "mx.example.org" } for any action "x"
            match from rdns regex { "^mx[0-9]\\\\.example\\\\.org$" } for any reject
            match from src regex { "^192\\\\.0\\\\.2\\\\." } for any reject
            match from auth for any action "x"
            match from auth { bob } for any action "x"
            match ! from auth for any reject
            match from mail-from { "@example.org" } for any action "x"
            match from mail-from regex { "^bob@" } for any action "x"
            match from any for rcpt-to { "bob@example.org" } action "x"
            match from any for rcpt-to regex { "^bob@" } reject
            match from any for domain regex { "example\\\\.(org|net)$" } action "x"
            match from any !for domain <domains> tag { ok } !helo { bad } tls auth { bob } action "x"
            match from any for any mail-from { "@a.org" } rcpt-to { "@b.org" } reject
            match from any for any helo regex { "^bad" } ! tag regex { "x" } reject
            match from any for any auth regex { "^b" } reject
            match from any for any mail-from regex { "x" } rcpt-to regex { "y" } reject
            match tls for local action "x"
            match auth from any for any action "x"
            match reject
            """, valid: true),
        ConfigCase(name: "other directives", text: """
            admd "example.org"
            bounce warn-interval 1h, 6h, 2d
            queue compression
            queue ttl 4d
            smtp limit max-rcpt 100 max-mails 10
            smtp max-message-size 35M
            smtp sub-addr-delim "-"
            mta max-deferred 100
            mta limit max-conn-per-host 10
            mta limit for domain "example.org" inet4 max-conn-per-host 2
            mda limit max-session 50
            scheduler limit max-inflight 10
            srs key "k"
            srs key backup "k2"
            srs ttl 5d
            proc "p" "/usr/bin/cat"
            filter "f1" proc "p"
            filter "f2" proc-exec "/usr/bin/true" user "nobody"
            filter "f3" phase connect match !rdns disconnect "550 no rdns"
            filter "f4" phase mail-from match mail-from regex { "spam" } reject "550 no"
            filter "f5" phase commit match !fcrdns report "x"
            filter "f6" phase helo match helo { "bad" } junk
            filter "c" chain { "f1", "f3", "f6" }
            listen on socket filter "f1" mask-src
            listen on 127.0.0.1 port 2525 tag "IN" hostname "mx.example.org" filter "c" no-dsn
            listen on 127.0.0.1 port submission mask-src received-auth
            listen on lo inet4 port smtp
            action "x" mbox
            match tag "IN" for local action "x"
            """, valid: true),
        ConfigCase(name: "include", text: """
            include "@D@/tables.conf"
            action "local" mbox alias <aliases>
            match for local action "local"
            """, valid: true, files: ["tables.conf": "table aliases file:@D@/aliases\n"]),
        ConfigCase(name: "bare path table and quoted keyword names", text: """
            table aliases "@D@/aliases"
            table "local" { "local", "any" }
            action "local" mbox alias <aliases>
            match for local action "local"
            """, valid: true),
        ConfigCase(name: "bare path table used as a domain list", text: """
            table aliases "@D@/aliases"
            table "local" { "local", "any" }
            action "relay" relay
            action "local" mbox alias <aliases>
            match from any for domain <aliases> action "relay"
            """, valid: false, line: 5),
        ConfigCase(name: "keyword as table reference", text: """
            table "local" { "local", "any" }
            action "relay" relay
            match from any for domain <local> action "relay"
            """, valid: false, line: 3),
        ConfigCase(name: "list file declared with @list", text: """
            table l file:@D@/listdecl
            action "x" mbox
            match from any for domain <l> action "x"
            """, valid: true),
        ConfigCase(name: "comments and blank lines", text: """

            # comment
              # indented comment
            action "x" mbox # trailing comment
            match for local action "x"   # another

            """, valid: true),

        // MARK: invalid
        ConfigCase(name: "keyword as inline key", text: """
            table t { local = x }
            action "x" mbox
            match for local action "x"
            """, valid: false, line: 1),
        ConfigCase(name: "trailing comma in list", text: """
            action "x" mbox
            match from any for domain { a.org, } action "x"
            """, valid: false, line: 2),
        ConfigCase(name: "space as sub-addr-delim", text: """
            smtp sub-addr-delim " "
            action "x" mbox
            match for local action "x"
            """, valid: false, line: 1),
        ConfigCase(name: "tls twice on relay", text: """
            action "x" relay tls tls
            match for any action "x"
            """, valid: false, line: 1),
        ConfigCase(name: "tls twice on rule", text: """
            action "x" mbox
            match tls tls action "x"
            """, valid: false, line: 2),
        ConfigCase(name: "from auth then auth", text: """
            action "x" mbox
            match from auth auth action "x"
            """, valid: false, line: 2),
        ConfigCase(name: "continued rule names its last line", text: """
            action "x" mbox
            match\\
             for local \\
             action "y"
            """, valid: false, line: 4),
        ConfigCase(name: "macro expanding to a keyword", text: """
            name = "local"
            action $name mbox
            match for local action "x"
            """, valid: false, line: 2),
        ConfigCase(name: "auth then from auth", text: """
            action "x" mbox
            match auth from auth action "x"
            """, valid: true),
        ConfigCase(name: "newline-separated table entries", text: """
            table t { a = b
             c = d }
            action "x" mbox
            match for domain { a.org
             b.org } action "x"
            """, valid: true),
        ConfigCase(name: "quoted macro value", text: """
            name = '"local"'
            action $name mbox
            match for local action "local"
            """, valid: true),
        ConfigCase(name: "no rules", text: """
            action "x" mbox
            """, valid: false, line: nil),
        ConfigCase(name: "unknown directive", text: """
            action "x" mbox
            match for local action "x"
            frobnicate yes
            """, valid: false, line: 3),
        ConfigCase(name: "keyword as action name", text: """
            action relay relay
            match for any action relay
            """, valid: false, line: 1),
        ConfigCase(name: "no such dispatcher", text: """
            action "x" mbox
            match from any for any action "y"
            """, valid: false, line: 2),
        ConfigCase(name: "no such table", text: """
            action "x" mbox alias <aliases>
            match for local action "x"
            """, valid: false, line: 1),
        ConfigCase(name: "undefined macro", text: """
            action "x" mbox
            match for domain $nope action "x"
            """, valid: false, line: 2),
        ConfigCase(name: "duplicate action", text: """
            action "x" mbox
            action "x" maildir
            match for local action "x"
            """, valid: false, line: 2),
        ConfigCase(name: "alias on a list table", text: """
            table d file:@D@/domains
            action "x" mbox alias <d>
            match for local action "x"
            """, valid: false, line: 2),
        ConfigCase(name: "alias on a bare word", text: """
            table aliases file:@D@/aliases
            action "x" mbox alias aliases
            match for local action "x"
            """, valid: false, line: 2),
        ConfigCase(name: "for domain on a mapping", text: """
            table aliases file:@D@/aliases
            action "x" mbox
            match from any for domain <aliases> action "x"
            """, valid: false, line: 3),
        ConfigCase(name: "user on mbox", text: """
            action "x" mbox user "bob"
            match for local action "x"
            """, valid: false, line: 1),
        ConfigCase(name: "alias and virtual", text: """
            table a { a = b }
            action "x" maildir alias <a> virtual <a>
            match for local action "x"
            """, valid: false, line: 2),
        ConfigCase(name: "ttl before options", text: """
            table a { a = b }
            action "x" mbox ttl 4d alias <a>
            match for local action "x"
            """, valid: false, line: 2),
        ConfigCase(name: "bad ttl", text: """
            action "x" mbox ttl 4w
            match for local action "x"
            """, valid: false, line: 1),
        ConfigCase(name: "auth without host", text: """
            table creds file:@D@/creds
            action "x" relay auth <creds>
            match for any action "x"
            """, valid: false, line: 2),
        ConfigCase(name: "backup and host", text: """
            action "x" relay backup host "smtp://a.example.org"
            match for any action "x"
            """, valid: false, line: 1),
        ConfigCase(name: "srs without key", text: """
            action "x" relay srs
            match for any action "x"
            """, valid: false, line: 1),
        ConfigCase(name: "from twice", text: """
            action "x" mbox
            match from any from local for any action "x"
            """, valid: false, line: 2),
        ConfigCase(name: "negated action", text: """
            action "x" mbox
            match from any ! action "x"
            """, valid: false, line: 2),
        ConfigCase(name: "match without decision", text: """
            action "x" mbox
            match from any for any
            """, valid: false, line: 2),
        ConfigCase(name: "unquoted path", text: """
            action "x" mda /usr/bin/procmail
            match for local action "x"
            """, valid: false, line: 1),
        ConfigCase(name: "unquoted sub-addr-delim", text: """
            smtp sub-addr-delim +
            action "x" mbox
            match for local action "x"
            """, valid: false, line: 1),
        ConfigCase(name: "sub-addr-delim too long", text: """
            smtp sub-addr-delim "+-"
            action "x" mbox
            match for local action "x"
            """, valid: false, line: 1),
        ConfigCase(name: "sub-addr-delim at", text: """
            smtp sub-addr-delim "@"
            action "x" mbox
            match for local action "x"
            """, valid: false, line: 1),
        ConfigCase(name: "relative table path", text: """
            table aliases file:aliases
            action "x" mbox alias <aliases>
            match for local action "x"
            """, valid: false, line: 1),
        ConfigCase(name: "missing table file", text: """
            table aliases file:@D@/nonexistent
            action "x" mbox alias <aliases>
            match for local action "x"
            """, valid: false, line: 1),
        ConfigCase(name: "malformed table file", text: """
            table b file:@D@/broken
            action "x" mbox alias <b>
            match for local action "x"
            """, valid: false, line: 1),
        ConfigCase(name: "missing include", text: """
            include "@D@/nope.conf"
            action "x" mbox
            match for local action "x"
            """, valid: false, line: 1),
        ConfigCase(name: "error inside include", text: """
            action "x" mbox
            include "@D@/inc.conf"
            match for local action "x"
            """, valid: false, line: 3, files: ["inc.conf": "\n\nmatch bogus\n"]),
        ConfigCase(name: "unterminated quote", text: """
            action "x" mbox
            match for domain "example.org action "x"
            match for local action "x
            """, valid: false, line: 2),
        ConfigCase(name: "number where a string is needed", text: """
            table t { 10 }
            action "x" mbox
            match for local action "x"
            """, valid: false, line: 1),
        ConfigCase(name: "mixed inline table", text: """
            table t { a = b, c }
            action "x" mbox
            match for local action "x"
            """, valid: false, line: 1),
        ConfigCase(name: "no wrapper", text: """
            action "x" mda "/bin/cat" wrapper "w"
            match for local action "x"
            """, valid: false, line: 1),
        ConfigCase(name: "filter phase option not allowed", text: """
            filter "f" phase connect match helo { "x" } junk
            action "x" mbox
            match for local action "x"
            """, valid: false, line: 1),
        ConfigCase(name: "unknown filter", text: """
            listen on socket filter "nope"
            action "x" mbox
            match for local action "x"
            """, valid: false, line: 1),
        ConfigCase(name: "filter proc unknown", text: """
            filter "f" proc "p"
            action "x" mbox
            match for local action "x"
            """, valid: false, line: 1),
        ConfigCase(name: "bad mta limit", text: """
            mta limit max-bananas 3
            action "x" mbox
            match for local action "x"
            """, valid: false, line: 1),
        ConfigCase(name: "bad size", text: """
            smtp max-message-size 10Q
            action "x" mbox
            match for local action "x"
            """, valid: false, line: 1),
        ConfigCase(name: "auth listener without tls", text: """
            listen on 127.0.0.1 auth
            action "x" mbox
            match for local action "x"
            """, valid: false, line: nil),
        ConfigCase(name: "bad port", text: """
            listen on 127.0.0.1 port 70000
            action "x" mbox
            match for local action "x"
            """, valid: false, line: 1),
        ConfigCase(name: "duplicate table", text: """
            table t { a }
            table t { b }
            action "x" mbox
            match for local action "x"
            """, valid: false, line: nil),
        ConfigCase(name: "macro with keyword name", text: """
            local = "x"
            action "x" mbox
            match for local action "x"
            """, valid: false, line: 1),
        ConfigCase(name: "bad ca name", text: """
            ca "-bad.example.org" cert "/etc/ssl/cert.pem"
            action "x" mbox
            match for local action "x"
            """, valid: false, line: 1),
        ConfigCase(name: "garbage after include", text: """
            include "@D@/inc.conf" extra
            action "x" mbox
            match for local action "x"
            """, valid: false, line: 1, files: ["inc.conf": "# nothing\n"]),
    ]
}
