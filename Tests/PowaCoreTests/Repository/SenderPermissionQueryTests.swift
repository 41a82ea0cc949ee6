import Testing

@testable import PowaCore

@Suite struct SenderPermissionQueryTests {
    static let powa4 = PowaVersion(major: 4, minor: 1, patch: 4)
    static let powa5 = PowaVersion(major: 5, minor: 0, patch: 2)

    static func roles(_ literal: String?) throws -> [String] {
        try TextArrayLiteral.decode(literal ?? "").compactMap { $0 }
    }

    @Test func powa5AsksPredefinedAndMappedPowaRoles() throws {
        let statement = SenderPermissionQuery.statement(
            senderPID: 4242, serverVersionNum: 150_018, powaVersion: Self.powa5, powaSchema: #""powa""#)
        #expect(statement.text.contains(#""powa".powa_roles"#))
        #expect(try Self.roles(statement.parameters[0]) == ["pg_signal_backend"])
        #expect(
            try Self.roles(statement.parameters[1]) == ["powa_signal_backend", "powa_write_all_data", "powa_admin"])
        #expect(statement.parameters[2] == "4242")
    }

    @Test func powa5BeforePostgres14HasNoPredefinedRole() throws {
        let statement = SenderPermissionQuery.statement(
            senderPID: 1, serverVersionNum: 130_010, powaVersion: Self.powa5, powaSchema: "public")
        #expect(try Self.roles(statement.parameters[0]).isEmpty)
        #expect(try Self.roles(statement.parameters[1]).count == 3)
    }

    @Test func powa4OnPostgres14AsksPgSignalBackendOnly() throws {
        let statement = SenderPermissionQuery.statement(
            senderPID: 77, serverVersionNum: 140_000, powaVersion: Self.powa4, powaSchema: "public")
        #expect(!statement.text.contains("powa_roles"))
        #expect(try Self.roles(statement.parameters[0]) == ["pg_signal_backend"])
        #expect(statement.parameters[1] == "77")
    }

    @Test func powa4BeforePostgres14FallsBackToInsertOnPowaStatements() {
        let statement = SenderPermissionQuery.statement(
            senderPID: 77, serverVersionNum: 130_004, powaVersion: Self.powa4, powaSchema: #""pow""a""#)
        #expect(statement.text.contains("has_table_privilege"))
        #expect(statement.text.contains("'INSERT'"))
        // The table name travels as a value, the schema quoted inside it.
        #expect(statement.parameters == [#""pow""a".powa_statements"#, "77"])
    }

    /// The combined statement numbers the check's parameters after the
    /// channel and the two payloads, which travel as values too.
    @Test(arguments: [(150_018, 5), (140_000, 4), (130_004, 4)])
    func answerIfPermittedKeepsEveryValueAParameter(serverVersionNum: Int, powaMajor: Int) {
        let version = powaMajor == 5 ? Self.powa5 : Self.powa4
        let check = SenderPermissionQuery.statement(
            senderPID: 9, serverVersionNum: serverVersionNum, powaVersion: version, powaSchema: "public")
        let combined = SenderPermissionQuery.answerIfPermitted(
            senderPID: 9, serverVersionNum: serverVersionNum, powaVersion: version, powaSchema: "public",
            channel: "c'h", answer: "WORKERS_STATUS OK {}", denied: "WORKERS_STATUS ERROR Permission denied")
        #expect(
            combined.parameters == ["c'h", "WORKERS_STATUS OK {}", "WORKERS_STATUS ERROR Permission denied"]
                + check.parameters)
        #expect(combined.text.contains("pg_notify($1, CASE WHEN c.permitted THEN $2 ELSE $3 END)"))
        for index in 1...combined.parameters.count { #expect(combined.text.contains("$\(index)")) }
        #expect(!combined.text.contains("$\(combined.parameters.count + 1)"))
        #expect(!combined.text.contains("c'h"))
    }

    @Test func onlyASingleTrueMeansPermitted() {
        #expect(SenderPermissionQuery.isPermitted([["t"]]))
        #expect(!SenderPermissionQuery.isPermitted([["f"]]))
        #expect(!SenderPermissionQuery.isPermitted([[nil]]), "backend gone or no role mapped")
        #expect(!SenderPermissionQuery.isPermitted([]), "no such backend")
        #expect(!SenderPermissionQuery.isPermitted([[]]))
    }
}
