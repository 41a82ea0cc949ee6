import PostgresClient
import PowaCore
import PowaPostgres

/// The fence for the worker's writes outside a snapshot. With several
/// instances on the repository, a worker whose instance lost the server
/// (frozen, then resumed before its supervisor stops it) must not write
/// about that server either: its errors would replace those the new owner
/// recorded, and the UI would show another instance's failures.
extension Collector {
    /// Runs `statement` in a transaction that first takes the fence (the
    /// ownership row, `FOR KEY SHARE`, as the snapshot does); nothing is
    /// written when this instance no longer owns the server at its epoch
    /// with a live lease. Without coordination it just runs. Returns
    /// whether it ran. `repository` must be outside a transaction.
    @discardableResult
    func runFenced(_ statement: SQLStatement, on repository: PowaSession) throws(PostgresError) -> Bool {
        guard let fence = config.fence else {
            _ = try repository.run(statement)
            return true
        }
        _ = try repository.run(SessionSQL.begin)
        do {
            _ = try repository.run(CoordinationSQL.idleInTransactionTimeout(fence))
            guard try !repository.run(CoordinationSQL.fence(srvid: config.srvid, fence)).rows.isEmpty else {
                _ = try? repository.run(SessionSQL.rollback)
                logger.debug("Not recording errors for server \(config.srvid): this instance no longer owns it")
                return false
            }
            _ = try repository.run(statement)
            _ = try repository.run(SessionSQL.commit)
            return true
        } catch {
            _ = try? repository.run(SessionSQL.rollback)
            throw error
        }
    }
}
