/// The statements of coordination between collector instances sharing one
/// repository, in the collector's own schema `powa_collector_coord`
/// (created here with IF NOT EXISTS, removable with
/// `DROP SCHEMA powa_collector_coord CASCADE` while no collector runs).
///
/// Every time is the repository's `clock_timestamp()`, never a machine's:
/// instances on machines whose clocks disagree still agree on leases.
///
/// Locks: a worker's fence takes `FOR KEY SHARE` on its server's row inside
/// the snapshot transaction. Renewals and releases are plain updates that
/// change no key, so they do not wait on it; a claim takes `FOR UPDATE ...
/// SKIP LOCKED`, so it never claims a row while a former owner's snapshot
/// holds it (the snapshot commits first) and never blocks the supervisor.
public enum CoordinationSQL {
    public static let schema = "powa_collector_coord"

    /// Creates the schema and its two tables if missing. One transaction
    /// (a multi-statement simple query) under an advisory lock, so that
    /// instances starting together do not collide on the catalogs.
    public static let createSchema = """
        SELECT pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('powa_collector_coord'));
        CREATE SCHEMA IF NOT EXISTS powa_collector_coord;
        CREATE TABLE IF NOT EXISTS powa_collector_coord.instances (
            id text PRIMARY KEY,
            hostname text NOT NULL,
            pid integer NOT NULL,
            backend_pid integer NOT NULL,
            backend_start timestamptz,
            lease_until timestamptz NOT NULL,
            statuses jsonb NOT NULL DEFAULT '{}');
        CREATE TABLE IF NOT EXISTS powa_collector_coord.ownership (
            srvid integer PRIMARY KEY,
            owner text,
            epoch bigint NOT NULL DEFAULT 0,
            lease_until timestamptz NOT NULL DEFAULT '-infinity')
        """

    /// Whether both tables exist already: creating them needs `CREATE` on
    /// the database even with IF NOT EXISTS, so a schema an administrator
    /// made beforehand is used as it is.
    public static let schemaExists = """
        SELECT pg_catalog.to_regclass('powa_collector_coord.instances') IS NOT NULL
           AND pg_catalog.to_regclass('powa_collector_coord.ownership') IS NOT NULL
        """

    /// Whether instance row `i` is live: lease not expired, and its
    /// repository session still exists, or predates the repository's
    /// last start (a repository restart ends every session; the lease
    /// alone decides then). `backend_start` may be hidden from another
    /// role: the pid alone counts then.
    static let instanceIsLive = """
        i.lease_until > pg_catalog.clock_timestamp() AND (
            EXISTS (SELECT 1 FROM pg_catalog.pg_stat_activity a WHERE a.pid = i.backend_pid
                    AND (a.backend_start IS NULL OR i.backend_start IS NULL OR a.backend_start = i.backend_start))
            OR i.backend_start < pg_catalog.pg_postmaster_start_time())
        """

    /// Whether ownership row `o` may be claimed now.
    static let rowIsClaimable = """
        (o.owner IS NULL OR o.lease_until <= pg_catalog.clock_timestamp() OR NOT EXISTS (
            SELECT 1 FROM powa_collector_coord.instances i WHERE i.id = o.owner AND \(instanceIsLive)))
        """

    /// One round, one statement: renews this instance's row (lease, session,
    /// published statuses) and the leases of the rows it owns, forgets
    /// instances dead for an hour, and reads the live instances and every
    /// ownership row. Columns: kind (`i` or `s`), id or srvid, owner, epoch,
    /// claimable, owner's published status. The read sees the rows as they
    /// were before this statement's own updates, which is why this instance
    /// is listed explicitly.
    public static func round(instance: String, hostname: String, pid: Int32, leaseSeconds: Double, statusesJSON: String)
        -> SQLStatement
    {
        SQLStatement(
            """
            WITH me AS (
                INSERT INTO powa_collector_coord.instances AS i
                    (id, hostname, pid, backend_pid, backend_start, lease_until, statuses)
                SELECT $1, $2, $3::integer, pg_catalog.pg_backend_pid(),
                    (SELECT a.backend_start FROM pg_catalog.pg_stat_activity a WHERE a.pid = pg_catalog.pg_backend_pid()),
                    pg_catalog.clock_timestamp() + pg_catalog.make_interval(secs => $4::double precision), $5::jsonb
                ON CONFLICT (id) DO UPDATE SET backend_pid = EXCLUDED.backend_pid,
                    backend_start = EXCLUDED.backend_start, lease_until = EXCLUDED.lease_until,
                    statuses = EXCLUDED.statuses
                RETURNING 1),
            renewed AS (
                UPDATE powa_collector_coord.ownership o
                SET lease_until = pg_catalog.clock_timestamp() + pg_catalog.make_interval(secs => $4::double precision)
                WHERE o.owner = $1
                RETURNING 1),
            forgotten AS (
                DELETE FROM powa_collector_coord.instances i
                WHERE i.lease_until < pg_catalog.clock_timestamp() - interval '1 hour'
                RETURNING 1)
            SELECT 'i', $1, NULL, NULL, NULL, NULL
            UNION ALL
            SELECT 'i', i.id, NULL, NULL, NULL, NULL
            FROM powa_collector_coord.instances i WHERE i.id <> $1 AND \(instanceIsLive)
            UNION ALL
            SELECT 's', o.srvid::text, o.owner, o.epoch::text,
                CASE WHEN \(rowIsClaimable) THEN 't' ELSE 'f' END,
                (SELECT i.statuses ->> o.srvid::text FROM powa_collector_coord.instances i
                 WHERE i.id = o.owner AND i.id <> $1)
            FROM powa_collector_coord.ownership o
            """, parameters: [instance, hostname, String(pid), String(leaseSeconds), statusesJSON])
    }

    /// Decodes the rows of `round`.
    public static func view(_ rows: [[String?]]) throws(RowDecodingError) -> CoordinationView {
        var instances: Set<String> = []
        var ownership: [OwnershipRow] = []
        for row in rows {
            guard row.count == 6 else { throw .wrongColumnCount(expected: 6, got: row.count) }
            guard let kind = row[0] else { throw .unexpectedNull(column: "kind") }
            guard let key = row[1] else { throw .unexpectedNull(column: "id") }
            switch kind {
            case "i":
                instances.insert(key)
            case "s":
                guard let srvid = Int(key) else {
                    throw .invalidValue(column: "srvid", value: key, expected: "an integer")
                }
                guard let epoch = row[3].flatMap({ Int64($0) }) else {
                    throw .invalidValue(column: "epoch", value: row[3] ?? "NULL", expected: "an integer")
                }
                ownership.append(
                    OwnershipRow(
                        srvid: srvid, owner: row[2], epoch: epoch, claimable: row[4] == "t", ownerStatus: row[5]))
            default:
                throw .invalidValue(column: "kind", value: kind, expected: "i or s")
            }
        }
        return CoordinationView(liveInstances: instances, rows: ownership)
    }

    /// Makes sure each server has a row to claim.
    public static func ensureRows(srvids: [Int]) -> SQLStatement {
        SQLStatement(
            """
            INSERT INTO powa_collector_coord.ownership (srvid)
            SELECT pg_catalog.unnest($1::integer[]) ON CONFLICT (srvid) DO NOTHING
            """, parameters: [integerArray(srvids)])
    }

    /// Claims those of `srvids` that are still claimable and not locked by
    /// a snapshot's fence: owner set, epoch incremented, lease started.
    /// Columns: srvid, new epoch.
    public static func claim(instance: String, leaseSeconds: Double, srvids: [Int]) -> SQLStatement {
        SQLStatement(
            """
            WITH free AS (
                SELECT o.srvid FROM powa_collector_coord.ownership o
                WHERE o.srvid = ANY ($3::integer[]) AND \(rowIsClaimable)
                FOR UPDATE OF o SKIP LOCKED)
            UPDATE powa_collector_coord.ownership o
            SET owner = $1, epoch = o.epoch + 1,
                lease_until = pg_catalog.clock_timestamp() + pg_catalog.make_interval(secs => $2::double precision)
            FROM free WHERE o.srvid = free.srvid
            RETURNING o.srvid::text, o.epoch::text
            """, parameters: [instance, String(leaseSeconds), integerArray(srvids)])
    }

    /// Decodes the rows of `claim`.
    public static func claimed(_ rows: [[String?]]) throws(RowDecodingError) -> [Int: Int64] {
        var claimed: [Int: Int64] = [:]
        for row in rows {
            guard row.count == 2 else { throw .wrongColumnCount(expected: 2, got: row.count) }
            guard let srvid = row[0].flatMap({ Int($0) }), let epoch = row[1].flatMap({ Int64($0) }) else {
                throw .invalidValue(column: "srvid, epoch", value: "\(row)", expected: "two integers")
            }
            claimed[srvid] = epoch
        }
        return claimed
    }

    /// Gives rows back (this instance's only): claimable by anyone at once.
    public static func release(instance: String, srvids: [Int]) -> SQLStatement {
        SQLStatement(
            """
            UPDATE powa_collector_coord.ownership SET owner = NULL, lease_until = '-infinity'
            WHERE owner = $1 AND srvid = ANY ($2::integer[])
            """, parameters: [instance, integerArray(srvids)])
    }

    /// The worker's fence, inside the snapshot transaction: one row when
    /// this worker's instance still owns the server at its epoch with a
    /// live lease, none otherwise (roll back). The lock holds until commit.
    public static func fence(srvid: Int, _ fence: OwnershipFence) -> SQLStatement {
        SQLStatement(
            """
            SELECT 1 FROM powa_collector_coord.ownership
            WHERE srvid = $1::integer AND owner = $2 AND epoch = $3::bigint
              AND lease_until > pg_catalog.clock_timestamp()
            FOR KEY SHARE
            """, parameters: [String(srvid), fence.owner, String(fence.epoch)])
    }

    /// Bounds how long the worker's repository session may sit idle inside
    /// the transaction whose fence holds the ownership row (a frozen
    /// worker). Set just before the fence, for that transaction only:
    /// earlier no row is held, and a remote slow to answer between two
    /// statements must not cost the whole snapshot.
    public static func idleInTransactionTimeout(_ fence: OwnershipFence) -> SQLStatement {
        SQLStatement(
            "SELECT pg_catalog.set_config('idle_in_transaction_session_timeout', $1, true)",
            parameters: [String(Int((fence.leaseSeconds * 1000).rounded()))])
    }

    /// For `powa-collector status`: each server's owner with a live lease
    /// (columns: srvid, hostname, pid), and one row with srvid NULL whose
    /// pid column counts the live instances. Read-only; a missing schema
    /// is checked first with `schemaExists`.
    public static let statusOwners = """
        SELECT o.srvid::text, i.hostname, i.pid::text
        FROM powa_collector_coord.ownership o
        JOIN powa_collector_coord.instances i ON i.id = o.owner
        WHERE o.lease_until > pg_catalog.clock_timestamp() AND i.lease_until > pg_catalog.clock_timestamp()
        UNION ALL
        SELECT NULL, NULL, pg_catalog.count(*)::text FROM powa_collector_coord.instances
        WHERE lease_until > pg_catalog.clock_timestamp()
        """

    /// Decodes `statusOwners`: srvid → `host pid N`, and the number of live
    /// instances.
    public static func statusOwners(_ rows: [[String?]]) -> (owners: [Int: String], liveInstances: Int) {
        var owners: [Int: String] = [:]
        var live = 0
        for row in rows where row.count == 3 {
            guard let srvidText = row[0] else {
                live = row[2].flatMap { Int($0) } ?? 0
                continue
            }
            guard let srvid = Int(srvidText) else { continue }
            owners[srvid] = "\(row[1] ?? "?") pid \(row[2] ?? "?")"
        }
        return (owners, live)
    }

    static func integerArray(_ values: [Int]) -> String {
        "{" + values.map(String.init).joined(separator: ",") + "}"
    }
}
