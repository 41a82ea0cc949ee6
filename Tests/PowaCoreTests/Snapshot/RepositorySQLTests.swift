import Testing

@testable import PowaCore

@Suite struct RepositorySQLTests {
    static let v40 = PowaVersion(extversion: "4.0.1")!
    static let v41 = PowaVersion(extversion: "4.1.4")!
    static let v50 = PowaVersion(extversion: "5.0.2")!

    func sql(_ version: PowaVersion, schema: String = "powa") -> RepositorySQL {
        RepositorySQL(version: version, powaSchema: schema, quoteIdentifier: FakeQuoting.identifier)
    }

    @Test func powa4ReadsModuleAsNameAndNeverExternal() {
        let statement = sql(Self.v41, schema: "public").globalDatasources(srvid: 3)
        #expect(
            statement.text == """
                SELECT module AS name, false AS external, query_source, query_cleanup, function_name, \
                extname::text AS required_extension \
                FROM "public".powa_functions WHERE operation = 'snapshot' AND enabled AND srvid = $1 \
                ORDER BY priority, name
                """)
        #expect(statement.parameters == ["3"])
    }

    @Test func powa5ReadsNameAndExternalFromTheView() {
        let statement = sql(Self.v50).globalDatasources(srvid: 12)
        #expect(
            statement.text == """
                SELECT name, external, query_source, query_cleanup, function_name, \
                NULL::text AS required_extension \
                FROM "powa".powa_functions WHERE operation = 'snapshot' AND enabled AND srvid = $1 \
                ORDER BY priority, name
                """)
        #expect(statement.parameters == ["12"])
    }

    @Test func oddSchemaNamesAreQuotedByTheInjectedFunction() {
        let statement = sql(Self.v50, schema: #"My "Powa" Schema"#).takeSnapshot(srvid: 1)
        #expect(statement.text == #"SELECT "My ""Powa"" Schema".powa_take_snapshot($1::integer)"#)
        #expect(statement.parameters == ["1"])
    }

    @Test func perDatabaseQueriesExistOnlyFromPowa5() throws {
        #expect(sql(Self.v41).databaseModules(srvid: 1, serverVersionNum: 150_004) == nil)
        #expect(sql(Self.v41).catalogs(srvid: 1, serverVersionNum: 150_004, forceRefresh: false) == nil)
        let modules = try #require(sql(Self.v50).databaseModules(srvid: 2, serverVersionNum: 150_004))
        #expect(
            modules.text == """
                SELECT db_module, query_source, tmp_table, dbnames \
                FROM "powa".powa_db_functions($1::integer, $2::integer) \
                WHERE operation = 'snapshot' AND enabled ORDER BY priority, db_module
                """)
        #expect(modules.parameters == ["2", "150004"])
    }

    @Test func catalogsUseOneYearUnlessARefreshIsForced() throws {
        let regular = try #require(sql(Self.v50).catalogs(srvid: 2, serverVersionNum: 160_001, forceRefresh: false))
        #expect(
            regular.text == """
                SELECT catname, query_source, tmp_table, excluded_dbnames \
                FROM "powa".powa_catalog_functions($1::integer, $2::integer, '1 year'::interval) ORDER BY catname
                """)
        #expect(regular.parameters == ["2", "160001"])
        let forced = try #require(sql(Self.v50).catalogs(srvid: 2, serverVersionNum: 160_001, forceRefresh: true))
        #expect(forced.text.contains("powa_catalog_functions($1::integer, $2::integer, NULL::interval)"))
    }

    @Test func errorsArePassedAsOneTextArrayParameter() throws {
        let errors = ["Error retrieving data of datasource x:\nboom", #"a "quoted", {braced} one"#]
        let append = sql(Self.v41, schema: "public").appendErrors(srvid: 4, errors: errors)
        #expect(
            append.text == """
                UPDATE "public".powa_snapshot_metas SET errors = pg_catalog.array_cat(errors, $2::text[]) WHERE srvid = $1
                """)
        #expect(append.parameters.count == 2)
        #expect(append.parameters[0] == "4")
        #expect(try TextArrayLiteral.decode(append.parameters[1]!) == errors.map { Optional($0) })

        let replace = sql(Self.v50).replaceErrors(srvid: 4, errors: ["down"])
        #expect(replace.text == #"UPDATE "powa".powa_snapshot_metas SET errors = $2::text[] WHERE srvid = $1"#)
        let clear = sql(Self.v50).clearErrors(srvid: 4)
        #expect(clear.text == #"UPDATE "powa".powa_snapshot_metas SET errors = NULL WHERE srvid = $1"#)
        #expect(clear.parameters == ["4"])
    }

    @Test func lastSnapshotTimeMapsMinusInfinityToNull() {
        let statement = sql(Self.v41, schema: "public").lastSnapshotTime(srvid: 7)
        #expect(
            statement.text == """
                SELECT CASE WHEN pg_catalog.isfinite(snapts) THEN EXTRACT(EPOCH FROM snapts) END \
                FROM "public".powa_snapshot_metas WHERE srvid = $1
                """)
        #expect(statement.parameters == ["7"])
    }

    @Test func versionStatementsUseEachVersionsTable() throws {
        let v4 = sql(Self.v41, schema: "public")
        let v5 = sql(Self.v50)
        #expect(
            try #require(v4.extensionVersions(srvid: 1)).text
                == #"SELECT extname, version FROM "public".powa_extensions WHERE srvid = $1"#)
        #expect(
            try #require(v5.extensionVersions(srvid: 1)).text
                == #"SELECT extname, version FROM "powa".powa_extension_config WHERE srvid = $1"#)
        let update = try #require(v5.updateExtensionVersion(srvid: 1, extname: "pg_qualstats", version: "2.1.0"))
        #expect(
            update.text
                == #"UPDATE "powa".powa_extension_config SET version = $3 WHERE srvid = $1 AND extname = $2"#)
        #expect(update.parameters == ["1", "pg_qualstats", "2.1.0"])
        let insert = try #require(v4.insertExtensionVersion(srvid: 1, extname: "hypopg", version: "1.3.1"))
        #expect(
            insert.text
                == #"INSERT INTO "public".powa_extensions (srvid, extname, version) VALUES ($1, $2, $3)"#)
        let delete = try #require(v4.deleteExtensionVersion(srvid: 1, extname: "hypopg"))
        #expect(delete.text == #"DELETE FROM "public".powa_extensions WHERE srvid = $1 AND extname = $2"#)
        let server = try #require(v5.saveServerVersion(srvid: 1, serverVersion: "15.10"))
        #expect(
            server.text
                == #"UPDATE "powa".powa_servers SET version = $2 WHERE id = $1 AND version IS DISTINCT FROM $2"#)
        #expect(server.parameters == ["1", "15.10"])
    }

    @Test func powa40RecordsNoVersions() {
        let v40 = sql(Self.v40, schema: "public")
        #expect(v40.saveServerVersion(srvid: 1, serverVersion: "15") == nil)
        #expect(v40.extensionVersions(srvid: 1) == nil)
        #expect(v40.updateExtensionVersion(srvid: 1, extname: "a", version: "1") == nil)
    }

    @Test func sessionStatementsAndNames() {
        let name = SessionSQL.setApplicationName(ApplicationName.repository(worker: "127.0.0.1:5433"))
        #expect(name.text == "SELECT pg_catalog.set_config('application_name', $1, false)")
        #expect(name.parameters == ["PoWA collector - repo_conn for worker 127.0.0.1:5433"])
        #expect(ApplicationName.worker("srv") == "PoWA collector - worker srv")
        #expect(ApplicationName.main(version: "1.0.0") == "PoWA collector - main thread (1.0.0)")
        #expect(
            SessionSQL.installedExtensions == """
                SELECT e.extname, n.nspname, e.extversion FROM pg_catalog.pg_extension e \
                JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
                """)
    }

    @Test func savepointStatements() {
        #expect(Savepoint.data.create == "SAVEPOINT data")
        #expect(Savepoint.takeSnapshot.release == "RELEASE powa_take_snapshot")
        #expect(Savepoint.source.rollback == "ROLLBACK TO src")
        let names = [Savepoint.data, .takeSnapshot, .metas].map(\.name)
        #expect(Set(names).count == names.count, "repository savepoints are distinct")
    }

    @Test func statementDescriptionShowsParameters() {
        let statement = SQLStatement("SELECT $1, $2", parameters: ["a", nil])
        #expect(statement.description == "SELECT $1, $2 [$1='a', $2=NULL]")
    }
}
