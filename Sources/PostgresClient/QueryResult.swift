import CLibPQ

/// The outcome of one statement, copied out of libpq's PGresult so that it
/// can outlive it: column names, rows of text values (nil is SQL NULL, kept
/// distinct from an empty string), command status and affected rows.
public struct QueryResult: Sendable {
    public let columns: [String]
    public let rows: [Row]
    /// The command tag, e.g. `INSERT 0 3`, `SELECT 2`.
    public let commandStatus: String
    /// Rows affected by INSERT/UPDATE/DELETE/COPY…, nil when not applicable.
    public let affectedRows: Int?

    init(owning result: OpaquePointer) {
        defer { PQclear(result) }
        let columnCount = Int(PQnfields(result))
        let names = (0..<columnCount).map { String(cString: PQfname(result, Int32($0))) }
        var index: [String: Int] = [:]
        for (position, name) in names.enumerated() where index[name] == nil { index[name] = position }
        let rowCount = Int(PQntuples(result))
        var rows: [Row] = []
        rows.reserveCapacity(rowCount)
        for row in 0..<rowCount {
            var values: [String?] = []
            values.reserveCapacity(columnCount)
            for column in 0..<columnCount {
                if PQgetisnull(result, Int32(row), Int32(column)) != 0 {
                    values.append(nil)
                } else {
                    values.append(String(cString: PQgetvalue(result, Int32(row), Int32(column))))
                }
            }
            rows.append(Row(values: values, columnIndex: index))
        }
        columns = names
        self.rows = rows
        commandStatus = String(cString: PQcmdStatus(result))
        let tuples = String(cString: PQcmdTuples(result))
        affectedRows = Int(tuples)
    }

    /// The first row, when there is one.
    public var first: Row? { rows.first }

    /// One row: values by position or by column name, in PostgreSQL's text
    /// format (PowaCore's row types read them; `TextRow`).
    public struct Row: Sendable {
        public let values: [String?]
        let columnIndex: [String: Int]

        public subscript(position: Int) -> String? { values[position] }

        public subscript(name: String) -> String? {
            guard let position = columnIndex[name] else { return nil }
            return values[position]
        }
    }
}
