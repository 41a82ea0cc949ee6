/// Which statements a snapshot runs where: pure builders from what the
/// worker read (versions, datasource rows, schemas) to ordered steps that
/// the worker executes with libpq.
///
/// Order of one snapshot, all repository work in one transaction:
/// 1. check versions (`PowaVersion.checkCompatible`) on fresh
///    `SessionSQL.installedExtensions` of both sides;
/// 2. read `RepositorySQL.globalDatasources`, run `datasourceSteps`;
/// 3. PoWA 5: read `RemoteSQL.now`, `RemoteSQL.databases`,
///    `RepositorySQL.databaseModules` and `.catalogs`, run `perDatabasePlan`
///    (a failure reading any of these lists aborts the snapshot, so they
///    need no savepoint);
/// 4. `RepositorySQL.takeSnapshot` in `Savepoint.takeSnapshot`, on failure
///    `RepositorySQL.clearErrors`; then reset the application name;
/// 5. `RepositorySQL.appendErrors` with the collector's errors (in
///    `Savepoint.metas`), commit.
public enum SnapshotPlan {}
