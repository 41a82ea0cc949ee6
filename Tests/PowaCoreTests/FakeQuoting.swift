/// Stand-ins for libpq's PQescapeIdentifier / PQescapeLiteral: always quote,
/// doubling the quote character, as those do.
enum FakeQuoting {
    static func identifier(_ name: String) -> String {
        "\"" + name.replacing("\"", with: "\"\"") + "\""
    }

    static func literal(_ value: String) -> String {
        "'" + value.replacing("'", with: "''") + "'"
    }
}
