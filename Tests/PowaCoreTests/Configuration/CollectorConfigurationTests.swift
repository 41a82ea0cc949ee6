import Testing

@testable import PowaCore

@Suite struct CollectorConfigurationTests {
    static let path = "/etc/powa-collector.conf"

    static func parse(_ text: String) throws(ConfigurationError) -> (
        configuration: CollectorConfiguration, unknownKeys: [String]
    ) {
        try CollectorConfiguration.parse(Array(text.utf8), path: path)
    }

    static func error(_ text: String) -> ConfigurationError? {
        do {
            _ = try parse(text)
            return nil
        } catch {
            return error
        }
    }

    @Test func readsTheReferenceFormat() throws {
        let parsed = try Self.parse(
            """
            {
                "repository": {
                    "dsn": "postgresql://powa_user@localhost:5432/powa"
                },
                "use_server_alias": true,
                "debug": true
            }
            """)
        #expect(
            parsed.configuration
                == CollectorConfiguration(
                    repositoryDSN: "postgresql://powa_user@localhost:5432/powa", debug: true, useServerAlias: true))
        #expect(parsed.unknownKeys.isEmpty)
    }

    @Test func booleansDefaultToFalse() throws {
        let parsed = try Self.parse(#"{"repository": {"dsn": "host=repo dbname=powa"}}"#)
        #expect(parsed.configuration == CollectorConfiguration(repositoryDSN: "host=repo dbname=powa"))
    }

    @Test func unknownKeysAreListedWithTheirPath() throws {
        let parsed = try Self.parse(
            #"{"repository": {"dsn": "x", "password": "p"}, "use_server_alais": true, "servers": {}}"#)
        #expect(parsed.unknownKeys == ["use_server_alais", "servers", "repository.password"])
        #expect(parsed.configuration.useServerAlias == false)
    }

    @Test func missingRepositoryOrDSN() {
        #expect(Self.error(#"{"debug": true}"#) == .missingKey(path: Self.path, key: "repository.dsn"))
        #expect(Self.error(#"{"repository": {}}"#) == .missingKey(path: Self.path, key: "repository.dsn"))
        #expect(Self.error(#"{"repository": {"DSN": "x"}}"#) == .missingKey(path: Self.path, key: "repository.dsn"))
    }

    @Test func wrongTypesNameTheKey() {
        #expect(
            Self.error(#"{"repository": "postgresql://x"}"#)
                == .wrongType(path: Self.path, key: "repository", expected: "an object", found: "a string"))
        #expect(
            Self.error(#"{"repository": {"dsn": 5432}}"#)
                == .wrongType(path: Self.path, key: "repository.dsn", expected: "a string", found: "a number"))
        #expect(
            Self.error(#"{"repository": {"dsn": "x"}, "debug": "false"}"#)
                == .wrongType(path: Self.path, key: "debug", expected: "true or false", found: "a string"))
        #expect(
            Self.error(#"{"repository": {"dsn": "x"}, "use_server_alias": 1}"#)
                == .wrongType(path: Self.path, key: "use_server_alias", expected: "true or false", found: "a number"))
        #expect(
            Self.error(#"{"repository": {"dsn": "x"}, "debug": null}"#)
                == .wrongType(path: Self.path, key: "debug", expected: "true or false", found: "null"))
    }

    @Test func topLevelMustBeAnObject() {
        #expect(Self.error(#"["repository"]"#) == .notAnObject(path: Self.path, found: "an array"))
        #expect(Self.error("null") == .notAnObject(path: Self.path, found: "null"))
    }

    @Test func syntaxErrorsSayWhere() {
        // The reference's own sample has a trailing comma.
        let error = Self.error(
            """
            {
                "repository": {
                    "dsn": "postgresql://powa_user@localhost:5432/powa",
                },
                "debug": false
            }
            """)
        guard case .invalidJSON(let path, let syntax) = error else {
            Issue.record("expected a JSON error, got \(String(describing: error))")
            return
        }
        #expect(path == Self.path)
        #expect((syntax.line, syntax.column) == (4, 5))
        #expect(
            error!.description.hasPrefix(
                "invalid JSON in configuration file /etc/powa-collector.conf at line 4, column 5: "))
    }

    @Test func descriptionsNameTheFileAndTheProblem() {
        let cases: [(ConfigurationError, [String])] = [
            (
                .noConfigurationFile(searched: ["/etc/powa-collector.conf", "./powa-collector.conf"]),
                ["/etc/powa-collector.conf, ./powa-collector.conf"]
            ),
            (.unreadable(path: "/x.conf", reason: "Permission denied"), ["/x.conf", "Permission denied"]),
            (.notAnObject(path: "/x.conf", found: "an array"), ["/x.conf", "an array"]),
            (.missingKey(path: "/x.conf", key: "repository.dsn"), ["/x.conf", "repository.dsn"]),
            (
                .wrongType(path: "/x.conf", key: "debug", expected: "true or false", found: "a string"),
                ["/x.conf", "debug must be true or false, found a string"]
            ),
        ]
        for (error, fragments) in cases {
            for fragment in fragments { #expect(error.description.contains(fragment), "\(error.description)") }
        }
    }

    // MARK: snapshot_timeout

    @Test func snapshotTimeoutIsOptionalAndReachesEveryWorker() throws {
        let absent = try Self.parse(#"{"repository": {"dsn": "x"}}"#).configuration
        #expect(absent.snapshotTimeout == nil)
        let parsed = try Self.parse(#"{"repository": {"dsn": "x"}, "snapshot_timeout": 90.5}"#)
        #expect(parsed.configuration.snapshotTimeout == 90.5)
        #expect(parsed.unknownKeys.isEmpty)
        let rows: [ServerRow] = [.sample(1), .sample(2)]
        let workers = ServerRow.workerConfigurations(rows, collector: parsed.configuration)
        #expect(workers.values.map(\.snapshotTimeout) == [90.5, 90.5])
        #expect(ServerRow.workerConfigurations(rows, collector: absent).values.allSatisfy { $0.snapshotTimeout == nil })
    }

    @Test(arguments: [
        (#""60""#, "a string"), ("true", "a boolean"), ("null", "null"), ("[60]", "an array"),
        ("0", "0"), ("-5", "-5"), ("0.0", "0.0"), ("1e400", "1e400"),
    ])
    func snapshotTimeoutMustBeAPositiveNumber(value: String, found: String) {
        #expect(
            Self.error(#"{"repository": {"dsn": "x"}, "snapshot_timeout": "# + value + "}")
                == .wrongType(
                    path: Self.path, key: "snapshot_timeout",
                    expected: "a number of seconds greater than 0", found: found))
    }

    // MARK: max_concurrent_snapshots

    @Test func maxConcurrentSnapshotsHasADefaultAndIsRead() throws {
        let absent = try Self.parse(#"{"repository": {"dsn": "x"}}"#).configuration
        #expect(absent.maxConcurrentSnapshots == CollectorConfiguration.defaultMaxConcurrentSnapshots)
        let parsed = try Self.parse(#"{"repository": {"dsn": "x"}, "max_concurrent_snapshots": 3}"#)
        #expect(parsed.configuration.maxConcurrentSnapshots == 3)
        #expect(parsed.unknownKeys.isEmpty)
    }

    @Test(arguments: [(#""3""#, "a string"), ("0", "0"), ("-1", "-1"), ("2.5", "2.5"), ("null", "null")])
    func maxConcurrentSnapshotsMustBeAPositiveWholeNumber(value: String, found: String) {
        #expect(
            Self.error(#"{"repository": {"dsn": "x"}, "max_concurrent_snapshots": "# + value + "}")
                == .wrongType(
                    path: Self.path, key: "max_concurrent_snapshots",
                    expected: "a whole number greater than 0", found: found))
    }
}
