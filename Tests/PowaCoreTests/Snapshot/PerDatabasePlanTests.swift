import Testing

@testable import PowaCore

@Suite struct PerDatabasePlanTests {
    static let tables = DbModuleRow(
        dbModule: "pg_stat_all_tables", querySource: "SELECT relid FROM t",
        tmpTable: "powa.powa_all_tables_src_tmp", dbnames: nil)
    static let functions = DbModuleRow(
        dbModule: "pg_stat_user_functions", querySource: "SELECT funcid FROM f",
        tmpTable: "powa.powa_user_functions_src_tmp", dbnames: ["app"])
    static let pgClass = CatalogRow(
        catname: "pg_class", querySource: "SELECT oid FROM pg_catalog.pg_class",
        tmpTable: "powa.\"powa_catalog_class_src_tmp\"", excludedDbnames: ["app", "other"])
    static let pgType = CatalogRow(
        catname: "pg_type", querySource: "SELECT oid FROM pg_catalog.pg_type",
        tmpTable: "powa.\"powa_catalog_type_src_tmp\"", excludedDbnames: ["app"])

    func plan(
        databases: [String] = ["app", "other", "postgres"], modules: [DbModuleRow] = [], catalogs: [CatalogRow] = [],
        refresh: CatalogRefreshRequest? = nil, now: String = "2026-11-25 10:42:09.157312+00"
    ) -> PerDatabasePlan {
        SnapshotPlan.perDatabasePlan(
            srvid: 5, remoteDatabases: databases, databaseModules: modules, catalogs: catalogs,
            catalogRefresh: refresh, remoteNow: now, quoteLiteral: FakeQuoting.literal)
    }

    func names(_ plan: PerDatabasePlan) -> [String: [String]] {
        Dictionary(uniqueKeysWithValues: plan.databases.map { ($0.dbname, $0.copies.map(\.name)) })
    }

    @Test func moduleCopyStatementsCarryServerTimestampAndDatabaseOid() throws {
        let result = plan(databases: ["app"], modules: [Self.tables])
        let copy = try #require(result.databases.first?.copies.first)
        #expect(
            copy.source == """
                COPY (SELECT 5 AS srvid, '2026-11-25 10:42:09.157312+00' AS ts, d.dbid, src.*
                FROM (
                SELECT relid FROM t
                ) src
                CROSS JOIN (SELECT oid AS dbid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database()) d
                ) TO STDOUT
                """)
        #expect(copy.target == "COPY powa.powa_all_tables_src_tmp FROM STDIN")
        #expect(copy.cleanup == nil)
    }

    @Test func catalogCopyStatementsHaveNoTimestamp() throws {
        let result = plan(databases: ["postgres"], catalogs: [Self.pgClass])
        let copy = try #require(result.databases.first?.copies.first)
        #expect(
            copy.source == """
                COPY (SELECT 5 AS srvid, d.dbid, src.*
                FROM (
                SELECT oid FROM pg_catalog.pg_class
                ) src
                CROSS JOIN (SELECT oid AS dbid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database()) d
                ) TO STDOUT
                """)
        #expect(copy.target == #"COPY powa."powa_catalog_class_src_tmp" FROM STDIN"#)
    }

    @Test func timestampIsQuotedAsALiteral() throws {
        let result = plan(databases: ["app"], modules: [Self.tables], now: "x'); DROP TABLE t; --")
        let copy = try #require(result.databases.first?.copies.first)
        #expect(copy.source.contains(#"'x''); DROP TABLE t; --' AS ts"#))
    }

    @Test func nullDbnamesCollectsEveryDatabaseListedOnesOnlyThose() {
        let result = plan(modules: [Self.tables, Self.functions])
        #expect(
            names(result) == [
                "app": ["pg_stat_all_tables", "pg_stat_user_functions"],
                "other": ["pg_stat_all_tables"],
                "postgres": ["pg_stat_all_tables"],
            ])
        #expect(result.databases.map(\.dbname) == ["app", "other", "postgres"], "remote order is kept")
    }

    @Test func freshCatalogsAreNotImportedAgain() {
        let result = plan(catalogs: [Self.pgClass, Self.pgType])
        #expect(names(result) == ["other": ["pg_type"], "postgres": ["pg_class", "pg_type"]])
    }

    @Test func databaseWithoutWorkGetsNoConnection() {
        let fresh = CatalogRow(
            catname: "pg_class", querySource: "SELECT 1", tmpTable: "t",
            excludedDbnames: ["app", "other", "postgres"])
        #expect(plan(modules: [Self.functions], catalogs: [fresh]).databases.map(\.dbname) == ["app"])
        #expect(plan(catalogs: [fresh]).databases.isEmpty)
        #expect(plan().databases.isEmpty)
    }

    @Test func forcedRefreshOfAllDatabasesImportsEveryCatalogEverywhere() {
        // Forced rows come back with empty exclusions; a stale exclusion
        // list must not defeat the request either.
        let result = plan(catalogs: [Self.pgClass, Self.pgType], refresh: .allDatabases)
        #expect(
            names(result) == [
                "app": ["pg_class", "pg_type"], "other": ["pg_class", "pg_type"], "postgres": ["pg_class", "pg_type"],
            ])
    }

    @Test func forcedRefreshOfSomeDatabasesImportsCatalogsOnlyThere() {
        let unexcluded = [Self.pgClass, Self.pgType].map {
            CatalogRow(catname: $0.catname, querySource: $0.querySource, tmpTable: $0.tmpTable, excludedDbnames: [])
        }
        let result = plan(modules: [Self.functions], catalogs: unexcluded, refresh: .databases(["other"]))
        #expect(
            names(result) == [
                "app": ["pg_stat_user_functions"],
                "other": ["pg_class", "pg_type"],
            ])
    }

    @Test func modulesComeBeforeCatalogsInEachDatabase() {
        let result = plan(databases: ["postgres"], modules: [Self.tables], catalogs: [Self.pgType])
        #expect(names(result) == ["postgres": ["pg_stat_all_tables", "pg_type"]])
    }

    @Test func rowsWithoutSourceQueryAreWarnedAboutOnce() {
        let noSource = DbModuleRow(dbModule: "custom", querySource: nil, tmpTable: "t", dbnames: nil)
        let noCatalogSource = CatalogRow(catname: "pg_new", querySource: nil, tmpTable: "t", excludedDbnames: [])
        let result = plan(modules: [noSource], catalogs: [noCatalogSource])
        #expect(result.databases.isEmpty)
        #expect(result.warnings.count == 2)
        #expect(result.warnings.contains { $0.contains("custom") })
        #expect(result.warnings.contains { $0.contains("pg_new") })
    }
}
