import Testing
@testable import SMTPDTables

@Test func errorNamesFileAndLine() {
    let e = TableError(.invalidEntry, path: "/etc/mail/aliases", line: 3, "invalid entry")
    #expect(e.description == "/etc/mail/aliases:3: invalid entry")
}
