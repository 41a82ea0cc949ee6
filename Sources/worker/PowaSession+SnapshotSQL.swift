import PostgresClient
import PowaCore
import PowaPostgres

extension PowaSession {
    /// Runs one statement the pure plans (`SnapshotRun`, `FencedWrite`) ask
    /// for, and gives back what they read: the rows as text, or the failure
    /// with its SQLSTATE and message.
    func execute(_ sql: SnapshotSQL) -> Result<[[String?]], StatementFailure> {
        do throws(PostgresError) {
            let result =
                switch sql {
                case .simple(let text): try run(text)
                case .parameterized(let statement): try run(statement)
                }
            return .success(result.rows.map(\.values))
        } catch {
            return .failure(StatementFailure(error))
        }
    }

    /// Runs `sql` after `preamble` in one round trip (see
    /// `SnapshotRunCommand.execute`) and answers as `SnapshotRun` expects.
    func execute(_ sql: SnapshotSQL, after preamble: [SnapshotSQL]) -> SnapshotRunEvent {
        guard !preamble.isEmpty else {
            switch execute(sql) {
            case .success(let rows): return .succeeded(rows: rows)
            case .failure(let failure): return .failed(failure)
            }
        }
        let statements = preamble.map(\.preambleStatement)
        do throws(PreambleError) {
            let result =
                switch sql {
                case .simple(let text): try connection.executeSimple(text, after: statements)
                case .parameterized(let statement):
                    try connection.execute(statement.text, statement.parameters, after: statements)
                }
            return .succeeded(rows: result.rows.map(\.values))
        } catch {
            switch error {
            case .preamble(_, let failure): return .preambleFailed(StatementFailure(failure))
            case .statement(let failure): return .failed(StatementFailure(failure))
            }
        }
    }
}

extension SnapshotSQL {
    var preambleStatement: PreambleStatement {
        switch self {
        case .simple(let text): PreambleStatement(text)
        case .parameterized(let statement): PreambleStatement(statement.text, parameters: statement.parameters)
        }
    }
}
