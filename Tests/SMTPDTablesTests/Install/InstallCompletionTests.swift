import Foundation
import Testing

/// The completion scripts, run in a real bash: each registers its commands, and the candidates offered are the
/// services for `query -s`, makemap's types, and file names for tables and -f.
@Suite("Install: shell completions", .enabled(if: InstallSupport.bash != nil, "bash is not installed"))
struct InstallCompletionTests {
    /// Sources our three bash scripts in a non-interactive bash, then runs `body` (which may call `sim`) in a
    /// folder holding empty `files`.
    static func bash(_ body: String, in dir: String, files: [String] = []) throws -> ProcessResult {
        let generated = try TestSupport.run(TestSupport.product("smtpd-tables"), ["--generate-completion-script", "bash"])
        #expect(generated.status == 0)
        try TestSupport.write(generated.stdout, to: "smtpd-tables.bash", in: dir)
        let script = """
            source \(dir)/smtpd-tables.bash
            source \(InstallSupport.file("completions/makemap.bash"))
            source \(InstallSupport.file("completions/newaliases.bash"))
            # sim WORD...: complete the last word as bash would on TAB, print the candidates one per line.
            sim() {
                COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
                local spec; spec=$(complete -p "$1") || return 1
                local f=${spec#*-F }; f=${f%% *}
                COMPREPLY=()
                "$f" "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
                printf '%s\\n' "${COMPREPLY[@]}"
            }
            \(body)
            """
        // Completions run in an empty folder of their own (the script above must not be a candidate).
        let work = dir + "/work"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        for name in files { try TestSupport.write("", to: name, in: work) }
        return try TestSupport.run(InstallSupport.bash!, ["--norc", "--noprofile", "-c", script], currentDirectory: work)
    }

    static func candidates(_ words: String, files: [String] = []) throws -> Set<String> {
        try TestSupport.withTemporaryDirectory { dir in
            let result = try bash("sim \(words)", in: dir, files: files)
            #expect(result.status == 0, "\(result.stderr)")
            return Set(result.stdout.split(separator: "\n").map(String.init))
        }
    }

    @Test("sourcing the scripts registers every program and the installed .smtpd-tables names")
    func registered() throws {
        let output = try TestSupport.withTemporaryDirectory { dir in try Self.bash("complete -p", in: dir) }
        #expect(output.status == 0, "\(output.stderr)")
        for name in ["smtpd-tables", "makemap", "newaliases", "makemap.smtpd-tables", "newaliases.smtpd-tables"] {
            #expect(output.stdout.split(separator: "\n").contains { $0.hasSuffix(" \(name)") }, "\(name): \(output.stdout)")
        }
    }

    @Test("query -s offers every table service")
    func services() throws {
        let offered = try Self.candidates("smtpd-tables query -s ''")
        let services = ["alias", "domain", "credentials", "netaddr", "userinfo", "source", "mailaddr", "addrname",
                        "mailaddrmap", "relayhost", "string", "regex"]
        #expect(offered == Set(services))
        #expect(try Self.candidates("smtpd-tables query --service mail") == ["mailaddr", "mailaddrmap"])
    }

    @Test("tables, -f and makemap's operand complete as file names")
    func files() throws {
        let files = ["aliases", "vusers.db", "smtpd.conf"]
        #expect(try Self.candidates("smtpd-tables query ''", files: files) == Set(files))
        #expect(try Self.candidates("smtpd-tables dump v", files: files) == ["vusers.db"])
        #expect(try Self.candidates("smtpd-tables check -f s", files: files) == ["smtpd.conf"])
        #expect(try Self.candidates("smtpd-tables verify ''", files: files) == Set(files))
        #expect(try Self.candidates("makemap ''", files: files) == Set(files))
        #expect(try Self.candidates("makemap -t aliases a", files: files) == ["aliases"])
        #expect(try Self.candidates("makemap -O AliasFile=a", files: files) == ["AliasFile=aliases"])
        #expect(try Self.candidates("newaliases -f s", files: files) == ["smtpd.conf"])
    }

    @Test("makemap's option values and options, newaliases' options, smtpd-tables' subcommands")
    func words() throws {
        #expect(try Self.candidates("makemap -d ''") == ["hash", "btree"])
        #expect(try Self.candidates("makemap -t ''") == ["aliases", "set"])
        #expect(try Self.candidates("makemap -") == ["-U", "-d", "-o", "-t", "-b", "-C", "-O", "-V", "--version"])
        #expect(try Self.candidates("newaliases -") == ["-f", "-V", "--version"])
        let top = try Self.candidates("smtpd-tables ''")
        #expect(top.isSuperset(of: ["query", "resolve", "check", "dump", "convert", "encrypt", "verify", "serve", "--version"]))
        #expect(try Self.candidates("smtpd-tables convert --to ''") == ["file", "hash", "btree"])
        #expect(try Self.candidates("smtpd-tables encrypt --scheme ''") == ["bcrypt", "sha512", "sha256", "yescrypt"])
    }

    @Test("the zsh scripts parse", .enabled(if: TestSupport.system("zsh") != nil, "zsh is not installed"))
    func zsh() throws {
        for script in ["completions/_makemap", "completions/_newaliases"] {
            let result = try TestSupport.run(TestSupport.system("zsh")!, ["-n", InstallSupport.file(script)])
            #expect(result.status == 0, "\(script): \(result.stderr)")
        }
    }

    @Test("the fish scripts parse", .enabled(if: TestSupport.system("fish") != nil, "fish is not installed"))
    func fish() throws {
        for script in ["completions/makemap.fish", "completions/newaliases.fish"] {
            let result = try TestSupport.run(TestSupport.system("fish")!, ["-n", InstallSupport.file(script)])
            #expect(result.status == 0, "\(script): \(result.stderr)")
        }
    }
}
