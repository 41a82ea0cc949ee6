import PostgresClient
import PowaCore
import PowaPostgres

/// The fence for the worker's writes outside a snapshot: the decisions are
/// `FencedWrite`'s; this runs its statements.
extension Collector {
    /// Runs `statement` as a `FencedWrite` on `repository`, which must be
    /// outside a transaction; nothing is written when this instance no
    /// longer owns the server at its epoch with a live lease. Without
    /// coordination it just runs.
    func runFenced(_ statement: SQLStatement, on repository: PowaSession) -> FencedWrite.Outcome {
        var write = FencedWrite(statement, srvid: config.srvid, fence: config.fence)
        var step = write.start()
        while true {
            switch step {
            case .finished(let outcome):
                if outcome == .notOwner {
                    logger.debug("Not recording errors for server \(config.srvid): this instance no longer owns it")
                }
                return outcome
            case .execute(let sql):
                step = write.next(repository.execute(sql))
            }
        }
    }
}
