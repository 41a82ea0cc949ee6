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
            rows.append(Row(values: values, columns: names))
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
        /// The result's column names, shared by every row. Looked up by a
        /// scan: a result has a handful of columns, and a dictionary built
        /// for each result cost a worker 3% of its CPU (perf, 500 servers),
        /// for the few results read by name.
        let columns: [String]

        public subscript(position: Int) -> String? { values[position] }

        /// The first column of that name, as PostgreSQL's own lookup does.
        public subscript(name: String) -> String? {
            guard let position = columns.firstIndex(of: name) else { return nil }
            return values[position]
        }
    }
}
