import Foundation
import Testing

@Suite("smtpd-tables query: exit status")
struct QueryCommandTests {
    let tool = TestSupport.product("smtpd-tables")

    @Test("keys as arguments and keys on stdin give the same status: 0 any found, 1 none, 2 errors",
          arguments: [(["k1", "nope"], Int32(0)), (["nope", "k2"], Int32(0)), (["k1", "k2"], Int32(0)),
                      (["k1"], Int32(0)), (["nope", "nada"], Int32(1)), (["nope"], Int32(1))] as [([String], Int32)])
    func sameStatusBothForms(keys: [String], status: Int32) throws {
        try TestSupport.withTemporaryDirectory { dir in
            let table = try TestSupport.write("k1 v1\nk2 v2\n", to: "t", in: dir)
            let arguments = try TestSupport.run(tool, ["query", table] + keys)
            let stdin = try TestSupport.run(tool, ["query", table, "-"], stdin: Data((keys.joined(separator: "\n") + "\n").utf8))
            #expect(arguments.status == status)
            #expect(stdin.status == status)
            if keys.count > 1 { #expect(arguments.stdout == stdin.stdout) }
        }
    }

    @Test("an invalid value is an error (2) in both forms, even with another key found")
    func errors() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let table = try TestSupport.write("k1 v1\nbad not-a-netaddr\n", to: "t", in: dir)
            let arguments = try TestSupport.run(tool, ["query", "-s", "source", table, "k1", "bad"])
            let stdin = try TestSupport.run(tool, ["query", "-s", "source", table, "-"], stdin: Data("k1\nbad\n".utf8))
            #expect(arguments.status == 2 && stdin.status == 2)
        }
    }

    @Test("the help states the rule")
    func help() throws {
        let r = try TestSupport.run(tool, ["query", "--help"])
        #expect(r.stdout.replacingOccurrences(of: "\n", with: " ").contains("0 when any key is found, 1 when none is"))
    }
}
