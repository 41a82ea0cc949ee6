import Testing

@testable import PowaCore

/// `powa-collector status` with several instances: an INSTANCE column says
/// which one owns each server; alone, the table is unchanged.
@Suite struct StatusOwnersTests {
    let rows = [
        StatusRow(srvid: 1, name: "a:5432", status: "running", lastSnapshot: 0, lastError: nil, owner: "db1 pid 10"),
        StatusRow(srvid: 2, name: "b:5432", status: "running", lastSnapshot: nil, lastError: "boom", owner: nil),
    ]

    @Test func ownersDecodeWithTheLiveInstanceCount() {
        let decoded = CoordinationSQL.statusOwners([["1", "db1", "10"], ["3", "db2", "20"], [nil, nil, "2"]])
        #expect(decoded.owners == [1: "db1 pid 10", 3: "db2 pid 20"])
        #expect(decoded.liveInstances == 2)
    }

    @Test func theInstanceColumnComesBeforeTheLastError() {
        let lines = StatusTable.text(rows, showingOwners: true).split(separator: "\n").map(String.init)
        #expect(lines[0] == "SRVID  NAME    STATUS   LAST SNAPSHOT         INSTANCE    LAST ERROR")
        #expect(lines[1] == "1      a:5432  running  1970-01-01 00:00:00Z  db1 pid 10  -")
        #expect(lines[2] == "2      b:5432  running  never                 -           boom")
    }

    @Test func aloneTheTableIsAsBefore() {
        let lines = StatusTable.text(rows).split(separator: "\n").map(String.init)
        #expect(lines[0] == "SRVID  NAME    STATUS   LAST SNAPSHOT         LAST ERROR")
        #expect(!StatusTable.text(rows).contains("db1"))
    }

    @Test func jsonNamesTheInstance() {
        let json = StatusTable.json(rows)
        #expect(json.contains(#""last_error": null, "instance": "db1 pid 10"}"#), "\(json)")
        #expect(json.contains(#""last_error": "boom", "instance": null}"#), "\(json)")
    }
}
