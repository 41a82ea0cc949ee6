import Testing

@testable import PowaCore

@Suite struct RowDecodingTests {
    @Test func datasourceRowsOfBothVersions() throws {
        // PoWA 4 row: module as name, external forced false by the query.
        let v4 = try DatasourceRow(row: [
            "pg_qualstats", "f", "powa_qualstats_src", "SELECT pg_qualstats_reset()",
            "powa_qualstats_snapshot", "pg_qualstats",
        ])
        #expect(
            v4
                == DatasourceRow(
                    name: "pg_qualstats", external: false, querySource: "powa_qualstats_src",
                    queryCleanup: "SELECT pg_qualstats_reset()", functionName: "powa_qualstats_snapshot",
                    requiredExtension: "pg_qualstats"))
        #expect(v4.schemaExtension == "powa")
        let v5 = try DatasourceRow(row: [
            "pg_track_settings", "t", "pg_track_settings_settings_src", nil,
            "pg_track_settings_snapshot_settings", nil,
        ])
        #expect(v5.external)
        #expect(v5.queryCleanup == nil)
        #expect(v5.schemaExtension == "pg_track_settings")
    }

    @Test func malformedRowsAreTypedErrors() {
        #expect(throws: RowDecodingError.wrongColumnCount(expected: 6, got: 4)) {
            try DatasourceRow(row: ["a", "t", nil, nil])
        }
        #expect(throws: RowDecodingError.unexpectedNull(column: "name")) {
            try DatasourceRow(row: [nil, "t", nil, nil, "f", nil])
        }
        #expect(throws: RowDecodingError.invalidValue(column: "external", value: "yes", expected: "a boolean")) {
            try DatasourceRow(row: ["a", "yes", nil, nil, "f", nil])
        }
        #expect(throws: RowDecodingError.self) {
            try DbModuleRow(row: ["m", "SELECT 1", "t", "{unterminated"])
        }
    }

    @Test func dbModuleDbnamesNullMeansEveryDatabase() throws {
        let all = try DbModuleRow(row: ["pg_stat_all_tables", "SELECT 1", "\"powa\".powa_all_tables_src_tmp", nil])
        #expect(all.dbnames == nil)
        #expect(all.applies(to: "anything"))
        let some = try DbModuleRow(row: ["pg_stat_all_tables", "SELECT 1", "t", #"{app,"my db","quo\"te"}"#])
        #expect(some.dbnames == ["app", "my db", "quo\"te"])
        #expect(some.applies(to: "my db"))
        #expect(!some.applies(to: "other"))
    }

    @Test func catalogRows() throws {
        let row = try CatalogRow(row: ["pg_class", "SELECT 1", "\"powa\".\"powa_catalog_class_src_tmp\"", "{a,b}"])
        #expect(row.excludedDbnames == ["a", "b"])
        let empty = try CatalogRow(row: ["pg_type", nil, "t", "{}"])
        #expect(empty.excludedDbnames == [])
        #expect(empty.querySource == nil)
    }

    @Test(
        arguments: [
            [], [""], ["plain"], ["with space", "comma,inside"], ["{braces}", "quote\"s", "back\\slash"],
            ["NULL", "null"],
            ["é", "  padded  "],
        ] as [[String]])
    func textArraysRoundTrip(elements: [String]) throws {
        let literal = TextArrayLiteral.encode(elements)
        #expect(try TextArrayLiteral.decode(literal) == elements.map { Optional($0) })
    }

    @Test func textArraysAsPostgreSQLPrintsThem() throws {
        #expect(try TextArrayLiteral.decode("{a,NULL,\"NULL\",\"b c\"}") == ["a", nil, "NULL", "b c"])
        #expect(try TextArrayLiteral.decode("[0:1]={x,y}") == ["x", "y"])
        #expect(try TextArrayLiteral.decode("{}") == [])
        for bad in ["", "a,b", "{a,,b}", "{\"a}", "{a\"b}", "{a,}"] {
            #expect(throws: TextArrayLiteral.DecodeError.self) { try TextArrayLiteral.decode(bad) }
        }
    }

    @Test func installedExtensions() throws {
        let installed = try InstalledExtensions(rows: [
            ["powa", "public", "4.1.4"], ["pg_qualstats", "My Schema", "2.0.4"],
        ])
        #expect(installed.powaVersionText == "4.1.4")
        #expect(installed.schemas == ["powa": "public", "pg_qualstats": "My Schema"])
        #expect(installed.versions["pg_qualstats"] == "2.0.4")
        #expect(try InstalledExtensions(rows: []).powaVersionText == nil)
        #expect(throws: RowDecodingError.self) { try InstalledExtensions(rows: [["powa", nil, "5.0.2"]]) }
    }

    @Test func snapshotTimestamps() {
        #expect(SnapshotTimestamp.parseEpoch("1764064929.157312") == 1_764_064_929.157312)
        #expect(SnapshotTimestamp.parseEpoch(nil) == nil)
        #expect(SnapshotTimestamp.parseEpoch("-Infinity") == nil)
        #expect(SnapshotTimestamp.parseEpoch("Infinity") == nil)
        #expect(SnapshotTimestamp.parseEpoch("NaN") == nil)
        #expect(SnapshotTimestamp.parseEpoch("garbage") == nil)
    }
}
