import Testing
import GetOpt

@Suite struct GetOptTests {
    let spec = "b:C:d:ho:O:t:U"

    @Test func groupedFlagsAndAttachedArguments() throws {
        let g = try GetOpt(["-Ut", "set", "-dbtree", "map"], spec: spec)
        #expect(g.options == [.init(letter: "U", argument: nil), .init(letter: "t", argument: "set"),
                              .init(letter: "d", argument: "btree")])
        #expect(g.operands == ["map"])
    }

    @Test func permutesLikeGlibcUnlessPosixlyCorrect() throws {
        let g = try GetOpt(["aliases", "-t", "aliases"], spec: spec)
        #expect(g.options == [.init(letter: "t", argument: "aliases")])
        #expect(g.operands == ["aliases"])
        let p = try GetOpt(["aliases", "-t", "aliases"], spec: spec, posixlyCorrect: true)
        #expect(p.options.isEmpty)
        #expect(p.operands == ["aliases", "-t", "aliases"])
    }

    @Test func doubleDashAndStdinOperand() throws {
        let g = try GetOpt(["-o", "x.db", "--", "-", "-U"], spec: spec)
        #expect(g.options == [.init(letter: "o", argument: "x.db")])
        #expect(g.operands == ["-", "-U"])
    }

    @Test func errors() {
        #expect(throws: GetOpt.Failure.unknownOption("z")) { try GetOpt(["-z"], spec: spec) }
        #expect(throws: GetOpt.Failure.missingArgument("d")) { try GetOpt(["-d"], spec: spec) }
    }
}
