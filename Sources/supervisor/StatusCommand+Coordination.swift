import PostgresClient
import PowaCore

/// What `powa-collector status` adds from the coordination schema: which
/// instance owns which server.
extension StatusCommand {
    /// Owners by srvid and the number of live instances; empty when the
    /// schema is missing or unreadable for this role (the table is then
    /// printed without owners, as before coordination existed).
    static func owners(_ repository: RepositorySession) -> (owners: [Int: String], liveInstances: Int) {
        do {
            let exists = try repository.connection.execute(CoordinationSQL.schemaExists).first?[0]
            guard exists == "t" else { return ([:], 0) }
            let rows = try repository.connection.execute(CoordinationSQL.statusOwners).rows.map(\.values)
            return CoordinationSQL.statusOwners(rows)
        } catch {
            return ([:], 0)
        }
    }
}
