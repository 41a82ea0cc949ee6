import Testing

@testable import PowaCore

@Suite struct DatasourceStepsTests {
    func steps(
        _ rows: [DatasourceRow], remote: [String: String], repository: [String: String], srvid: Int = 3
    ) -> [DatasourceStep] {
        SnapshotPlan.datasourceSteps(
            srvid: srvid, serverName: "10.0.0.5:5432", datasources: rows,
            remoteSchemas: remote, repositorySchemas: repository, quoteIdentifier: FakeQuoting.identifier)
    }

    @Test func powa4DatasourcesAllLiveInPowasSchema() {
        let rows = [
            DatasourceRow(
                name: "pg_stat_statements", external: false, querySource: "powa_statements_src",
                queryCleanup: nil, functionName: "powa_statements_snapshot"),
            DatasourceRow(
                name: "pg_qualstats", external: false, querySource: "powa_qualstats_src",
                queryCleanup: "SELECT pg_qualstats_reset()", functionName: "powa_qualstats_snapshot"),
        ]
        let result = steps(
            rows, remote: ["powa": "public", "pg_qualstats": "elsewhere"], repository: ["powa": "public"])
        #expect(
            result == [
                .copy(
                    CopyStep(
                        name: "pg_stat_statements",
                        source: #"COPY (SELECT 3, * FROM "public".powa_statements_src(0)) TO STDOUT"#,
                        target: #"COPY "public".powa_statements_src_tmp FROM STDIN"#)),
                .copy(
                    CopyStep(
                        name: "pg_qualstats",
                        source: #"COPY (SELECT 3, * FROM "public".powa_qualstats_src(0)) TO STDOUT"#,
                        target: #"COPY "public".powa_qualstats_src_tmp FROM STDIN"#,
                        cleanup: .run("SELECT pg_qualstats_reset()"))),
            ])
    }

    @Test func powa41SkipsADatasourceWhoseExtensionTheRemoteLacks() {
        // PoWA 4.1 names the extension a module reads; its source function
        // lives in powa's schema, present on both sides, and would fail
        // with an obscure error if run.
        let rows = [
            DatasourceRow(
                name: "pg_wait_sampling", external: false, querySource: "powa_wait_sampling_src",
                queryCleanup: nil, functionName: "powa_wait_sampling_snapshot",
                requiredExtension: "pg_wait_sampling"),
            DatasourceRow(
                name: "pg_stat_bgwriter", external: false, querySource: "powa_stat_bgwriter_src",
                queryCleanup: nil, functionName: "powa_stat_bgwriter_snapshot", requiredExtension: nil),
        ]
        let result = steps(rows, remote: ["powa": "public"], repository: ["powa": "public"])
        #expect(result.count == 2)
        #expect(
            result.first
                == .skip(
                    datasource: "pg_wait_sampling",
                    error: "Extension pg_wait_sampling is not installed on the remote server 10.0.0.5:5432"))
        guard case .copy = result.last else {
            Issue.record("a datasource without a required extension is copied")
            return
        }
        // Installed on the remote: copied, whatever the repository has.
        let installed = steps(
            Array(rows.prefix(1)), remote: ["powa": "public", "pg_wait_sampling": "public"],
            repository: ["powa": "public"])
        guard case .copy = installed.first else {
            Issue.record("expected a copy when the remote has the extension")
            return
        }
    }

    @Test func powa5ExternalDatasourcesUseTheirExtensionsSchemaOnEachSide() {
        let row = DatasourceRow(
            name: "pg_track_settings", external: true, querySource: "pg_track_settings_settings_src",
            queryCleanup: nil, functionName: "pg_track_settings_snapshot_settings")
        let result = steps(
            [row], remote: ["powa": "powa", "pg_track_settings": "track"],
            repository: ["powa": "powa", "pg_track_settings": #"Odd "Repo""#], srvid: 42)
        #expect(
            result == [
                .copy(
                    CopyStep(
                        name: "pg_track_settings",
                        source: #"COPY (SELECT 42, * FROM "track".pg_track_settings_settings_src(0)) TO STDOUT"#,
                        target: #"COPY "Odd ""Repo""".pg_track_settings_settings_src_tmp FROM STDIN"#))
            ])
    }

    @Test func cleanupPlaceholdersNameTheRemoteSchema() {
        let row = DatasourceRow(
            name: "pg_qualstats", external: false, querySource: "powa_qualstats_src",
            queryCleanup: "SELECT {pg_qualstats}.pg_qualstats_reset()",
            functionName: "powa_qualstats_snapshot")
        let result = steps(
            [row], remote: ["powa": "powa", "pg_qualstats": "qual stats"],
            repository: ["powa": "powa", "pg_qualstats": "not this one"])
        guard case .copy(let copy) = result.first else {
            Issue.record("expected a copy, got \(result)")
            return
        }
        #expect(copy.cleanup == .run(#"SELECT "qual stats".pg_qualstats_reset()"#))
    }

    @Test func cleanupNamingAnExtensionMissingOnTheRemoteBecomesAnError() {
        let row = DatasourceRow(
            name: "pg_qualstats", external: false, querySource: "powa_qualstats_src",
            queryCleanup: "SELECT {pg_qualstats}.pg_qualstats_reset()",
            functionName: "powa_qualstats_snapshot")
        let result = steps([row], remote: ["powa": "powa"], repository: ["powa": "powa", "pg_qualstats": "public"])
        guard case .copy(let copy) = result.first, case .unresolvable(let error) = copy.cleanup else {
            Issue.record("expected a copy with an unresolvable cleanup, got \(result)")
            return
        }
        // The data is still copied; only the cleanup is replaced by an error.
        #expect(copy.source == #"COPY (SELECT 3, * FROM "powa".powa_qualstats_src(0)) TO STDOUT"#)
        #expect(error.contains("pg_qualstats"))
        #expect(error.contains("remote server 10.0.0.5:5432"))
    }

    @Test func extensionMissingOnEitherSideSkipsWithAnError() {
        let row = DatasourceRow(
            name: "pg_track_settings", external: true, querySource: "pg_track_settings_rds_src",
            queryCleanup: nil, functionName: "pg_track_settings_snapshot_rds")
        #expect(
            steps([row], remote: ["powa": "powa"], repository: ["powa": "powa", "pg_track_settings": "public"]) == [
                .skip(
                    datasource: "pg_track_settings",
                    error: "Extension pg_track_settings is not installed on the remote server 10.0.0.5:5432")
            ])
        #expect(
            steps([row], remote: ["powa": "powa", "pg_track_settings": "public"], repository: ["powa": "powa"]) == [
                .skip(
                    datasource: "pg_track_settings",
                    error: "Extension pg_track_settings is not installed on the repository server")
            ])
    }

    @Test func datasourceWithoutQuerySourceIsOnlyLogged() {
        let rows = [
            DatasourceRow(
                name: "custom", external: false, querySource: nil, queryCleanup: "SELECT 1",
                functionName: "custom_snapshot"),
            DatasourceRow(
                name: "pg_stat_bgwriter", external: false, querySource: "powa_stat_bgwriter_src",
                queryCleanup: nil, functionName: "powa_stat_bgwriter_snapshot"),
        ]
        let result = steps(rows, remote: ["powa": "public"], repository: ["powa": "public"])
        #expect(result.count == 2)
        guard case .ignore(let name, _) = result[0] else {
            Issue.record("expected ignore, got \(result[0])")
            return
        }
        #expect(name == "custom")
        guard case .copy(let copy) = result[1] else {
            Issue.record("expected a copy, got \(result[1])")
            return
        }
        #expect(copy.name == "pg_stat_bgwriter", "order is kept")
    }
}
