import Testing

@testable import PowaCore

@Suite struct VersionSavePlanTests {
    static func sql(_ version: String) -> RepositorySQL {
        RepositorySQL(
            version: PowaVersion(extversion: version)!, powaSchema: "powa",
            quoteIdentifier: FakeQuoting.identifier)
    }

    func subjects(_ steps: [VersionSaveStep]) -> [String] { steps.map(\.subject) }

    @Test func changedExtensionVersionsAreUpdatedUnchangedOnesLeftAlone() {
        let steps = VersionSavePlan.steps(
            sql: Self.sql("5.0.2"), srvid: 2, serverVersion: "15.10",
            recorded: [
                ExtensionVersionRow(extname: "powa", version: "5.0.2"),
                ExtensionVersionRow(extname: "pg_qualstats", version: "2.0.4"),
                ExtensionVersionRow(extname: "pg_stat_kcache", version: nil),
                ExtensionVersionRow(extname: "pg_wait_sampling", version: "1.1"),
            ],
            remoteVersions: ["powa": "5.0.2", "pg_qualstats": "2.1.0", "pg_stat_kcache": "2.2.3"],
            hypopgAvailableVersion: nil)
        #expect(subjects(steps) == ["server version", "extension pg_qualstats", "extension pg_stat_kcache"])
        #expect(steps[1].statement.parameters == ["2", "pg_qualstats", "2.1.0"])
        #expect(steps[1].statement.text.contains("powa_extension_config"))
        #expect(steps[2].statement.parameters == ["2", "pg_stat_kcache", "2.2.3"])
    }

    @Test func hypopgIsInsertedUpdatedOrDeletedFromItsAvailability() {
        let sql = Self.sql("4.1.4")
        let inserted = VersionSavePlan.steps(
            sql: sql, srvid: 1, serverVersion: nil, recorded: [], remoteVersions: [:], hypopgAvailableVersion: "1.4.0")
        #expect(
            inserted.map(\.statement) == [sql.insertExtensionVersion(srvid: 1, extname: "hypopg", version: "1.4.0")])

        let updated = VersionSavePlan.steps(
            sql: sql, srvid: 1, serverVersion: nil,
            recorded: [ExtensionVersionRow(extname: "hypopg", version: "1.3.1")],
            remoteVersions: ["hypopg": "1.3.1"], hypopgAvailableVersion: "1.4.0")
        #expect(
            updated.map(\.statement) == [sql.updateExtensionVersion(srvid: 1, extname: "hypopg", version: "1.4.0")],
            "the available version wins over the installed one")

        let deleted = VersionSavePlan.steps(
            sql: sql, srvid: 1, serverVersion: nil,
            recorded: [ExtensionVersionRow(extname: "hypopg", version: "1.3.1")],
            remoteVersions: [:], hypopgAvailableVersion: nil)
        #expect(deleted.map(\.statement) == [sql.deleteExtensionVersion(srvid: 1, extname: "hypopg")])

        let unchanged = VersionSavePlan.steps(
            sql: sql, srvid: 1, serverVersion: nil,
            recorded: [ExtensionVersionRow(extname: "hypopg", version: "1.4.0")],
            remoteVersions: [:], hypopgAvailableVersion: "1.4.0")
        #expect(unchanged.isEmpty)
        #expect(
            VersionSavePlan.steps(
                sql: sql, srvid: 1, serverVersion: nil, recorded: [], remoteVersions: [:],
                hypopgAvailableVersion: nil
            ).isEmpty)
    }

    @Test func powa40RecordsNothing() {
        let steps = VersionSavePlan.steps(
            sql: Self.sql("4.0.1"), srvid: 1, serverVersion: "15.10",
            recorded: [ExtensionVersionRow(extname: "powa", version: nil)],
            remoteVersions: ["powa": "4.0.1"], hypopgAvailableVersion: "1.4.0")
        #expect(steps.isEmpty)
    }
}
