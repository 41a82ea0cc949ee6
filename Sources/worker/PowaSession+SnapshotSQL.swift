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
}
