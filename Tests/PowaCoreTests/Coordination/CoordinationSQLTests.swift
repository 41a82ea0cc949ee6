import Testing

@testable import PowaCore

@Suite struct CoordinationSQLTests {
    @Test func aRoundsRowsDecodeIntoTheView() throws {
        let view = try CoordinationSQL.view([
            ["i", "me", nil, nil, nil, nil],
            ["i", "other", nil, nil, nil, nil],
            ["s", "4", "other", "12", "f", "running"],
            ["s", "5", nil, "3", "t", nil],
        ])
        #expect(view.liveInstances == ["me", "other"])
        #expect(
            view.rows[4] == OwnershipRow(srvid: 4, owner: "other", epoch: 12, claimable: false, ownerStatus: "running"))
        #expect(view.rows[5] == OwnershipRow(srvid: 5, owner: nil, epoch: 3, claimable: true))
        #expect(view.otherOwner(of: 4, me: "me") == "other")
        #expect(view.otherOwner(of: 5, me: "me") == nil)
    }

    @Test func badRowsAreTypedErrors() {
        #expect(throws: RowDecodingError.wrongColumnCount(expected: 6, got: 1)) { try CoordinationSQL.view([["i"]]) }
        #expect(throws: RowDecodingError.invalidValue(column: "kind", value: "x", expected: "i or s")) {
            try CoordinationSQL.view([["x", "1", nil, nil, nil, nil]])
        }
        #expect(throws: RowDecodingError.self) { try CoordinationSQL.claimed([["1", nil]]) }
    }

    @Test func valuesTravelAsParametersNeverInTheText() {
        let fence = OwnershipFence(owner: "x'; DROP TABLE y; --", epoch: 5, leaseSeconds: 30)
        let statement = CoordinationSQL.fence(srvid: 3, fence)
        #expect(!statement.text.contains("DROP"))
        #expect(statement.parameters == ["3", "x'; DROP TABLE y; --", "5"])
        #expect(
            CoordinationSQL.claim(instance: "i", leaseSeconds: 30, srvids: [1, 2]).parameters == ["i", "30.0", "{1,2}"])
        #expect(CoordinationSQL.idleInTransactionTimeout(fence).parameters == ["30000"])
    }
}
