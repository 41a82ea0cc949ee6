import Testing

@testable import PowaCore

@Suite struct ServerListQueryTests {
    @Test func readsTheRepositorysFilterInIdOrderFromThePowaSchema() {
        let statement = ServerListQuery.statement(powaSchema: #""my schema""#)
        #expect(statement.text.contains(#"FROM "my schema".powa_servers"#))
        #expect(statement.text.contains("WHERE id > 0 AND frequency > 0"))
        #expect(statement.text.hasSuffix("ORDER BY id"))
        #expect(statement.parameters.isEmpty)
    }

    @Test func decodesRowsWithNullPasswordAndAlias() throws {
        let rows = try ServerListQuery.serverRows([
            ["1", "db1", "5432", "powa", nil, "powa", "300", nil],
            ["7", "127.0.0.2", "5433", "u", "s3cr'et", "d", "5", "prod"],
        ])
        #expect(
            rows == [
                ServerRow(
                    id: 1, hostname: "db1", port: 5432, username: "powa", password: nil,
                    dbname: "powa", frequency: 300, alias: nil),
                ServerRow(
                    id: 7, hostname: "127.0.0.2", port: 5433, username: "u", password: "s3cr'et",
                    dbname: "d", frequency: 5, alias: "prod"),
            ])
    }

    @Test func aSchemaSurpriseIsAnErrorNotACrash() {
        #expect(throws: RowDecodingError.wrongColumnCount(expected: 8, got: 2)) {
            try ServerListQuery.serverRows([["1", "db"]])
        }
        #expect(throws: RowDecodingError.invalidValue(column: "port", value: "x", expected: "an integer")) {
            try ServerListQuery.serverRows([["1", "db", "x", "u", nil, "d", "5", nil]])
        }
        #expect(throws: RowDecodingError.unexpectedNull(column: "hostname")) {
            try ServerListQuery.serverRows([["1", nil, "5432", "u", nil, "d", "5", nil]])
        }
    }
}
