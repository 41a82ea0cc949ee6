import PostgresClient
import PowaCore

/// The coordination statements on the supervisor's own repository
/// connection; what they mean is `CoordinationSQL`'s, what to do with the
/// answers the state machine's.
extension RepositorySession {
    /// Renews this instance and its servers' leases and reads the others.
    /// Creates the collector's schema on the first round of a session.
    func coordinate(_ round: CoordinationRound) throws(RepositorySessionError) -> CoordinationView {
        if !coordinationSchemaReady {
            if try rows(of: SQLStatement(CoordinationSQL.schemaExists)).first?.first ?? nil != "t" {
                do {
                    try Self.postgres { () throws(PostgresError) in
                        _ = try connection.executeSimple(CoordinationSQL.createSchema)
                    }
                } catch {
                    throw permissionExplained(error, creating: true)
                }
            }
            coordinationSchemaReady = true
        }
        let statement = CoordinationSQL.round(
            instance: round.identity.id, hostname: round.identity.hostname, pid: round.identity.pid,
            leaseSeconds: round.leaseSeconds, statusesJSON: WorkersStatusJSON.encode(round.statuses))
        let rows: [[String?]]
        do {
            rows = try self.rows(of: statement)
        } catch {
            throw permissionExplained(error, creating: false)
        }
        do {
            return try CoordinationSQL.view(rows)
        } catch {
            throw .unexpectedRows(error)
        }
    }

    /// Claims what is still claimable among `srvids`; returns the new epochs.
    func claim(instance: String, leaseSeconds: Double, srvids: [Int]) throws(RepositorySessionError) -> [Int: Int64] {
        _ = try rows(of: CoordinationSQL.ensureRows(srvids: srvids))
        let rows = try rows(of: CoordinationSQL.claim(instance: instance, leaseSeconds: leaseSeconds, srvids: srvids))
        do {
            return try CoordinationSQL.claimed(rows)
        } catch {
            throw .unexpectedRows(error)
        }
    }

    func release(instance: String, srvids: [Int]) throws(RepositorySessionError) {
        _ = try rows(of: CoordinationSQL.release(instance: instance, srvids: srvids))
    }

    /// A refusal (SQLSTATE 42501) of the coordination schema, turned into
    /// an error that says what to grant, to which role, on which database.
    private func permissionExplained(_ error: RepositorySessionError, creating: Bool) -> RepositorySessionError {
        guard case .postgres(let postgres) = error, postgres.sqlState == "42501" else { return error }
        let names = try? rows(of: SQLStatement("SELECT pg_catalog.current_database(), current_user")).first
        let database = (names?[0]).flatMap { $0 } ?? "the repository database"
        let role = (names?[1]).flatMap { $0 } ?? "the collector's role"
        return .coordinationNotPermitted(
            CoordinationPermissionError(
                creating: creating, database: database, role: role, cause: postgres))
    }

    /// Every statement here runs on the listening connection; the
    /// connection itself marks that notifications may wait in libpq's
    /// buffer, so the supervisor drains before it sleeps.
    private func rows(of statement: SQLStatement) throws(RepositorySessionError) -> [[String?]] {
        try Self.postgres { () throws(PostgresError) in
            try connection.execute(statement.text, statement.parameters).rows.map(\.values)
        }
    }
}
