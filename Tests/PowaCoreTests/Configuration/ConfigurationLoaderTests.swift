import Testing

@testable import PowaCore

@Suite struct ConfigurationLoaderTests {
    static let valid = Array(#"{"repository": {"dsn": "host=repo"}}"#.utf8)

    /// A fake file system: path → what reading it gives; anything else is missing.
    static func files(_ files: [String: ConfigurationFileReadResult]) -> (String) -> ConfigurationFileReadResult {
        { files[$0] ?? .missing }
    }

    @Test func standardLocationsInTheReferenceOrder() {
        #expect(
            ConfigurationSource.standard(homeDirectory: "/home/powa")
                == .search([
                    "/etc/powa-collector.conf",
                    "/home/powa/.config/powa-collector.conf",
                    "/home/powa/.powa-collector.conf",
                    "./powa-collector.conf",
                ]))
        #expect(
            ConfigurationSource.standard(homeDirectory: "/root/")
                == .search([
                    "/etc/powa-collector.conf", "/root/.config/powa-collector.conf", "/root/.powa-collector.conf",
                    "./powa-collector.conf",
                ]))
        #expect(
            ConfigurationSource.standard(homeDirectory: nil)
                == .search(["/etc/powa-collector.conf", "./powa-collector.conf"]))
        #expect(
            ConfigurationSource.standard(homeDirectory: "")
                == .search(["/etc/powa-collector.conf", "./powa-collector.conf"]))
    }

    @Test func commandLinePathReplacesTheSearch() {
        #expect(
            ConfigurationSource.from(commandLinePath: "/srv/c.json", homeDirectory: "/h")
                == .explicit(path: "/srv/c.json"))
        #expect(ConfigurationSource.from(commandLinePath: nil, homeDirectory: "/h") == .standard(homeDirectory: "/h"))
    }

    @Test func firstFileFoundWins() throws {
        let source = ConfigurationSource.standard(homeDirectory: "/home/powa")
        let other = Array(#"{"repository": {"dsn": "host=other"}}"#.utf8)
        let loaded = try ConfigurationLoader.load(
            from: source,
            readFile: Self.files([
                "/home/powa/.powa-collector.conf": .contents(Self.valid),
                "./powa-collector.conf": .contents(other),
            ]))
        #expect(loaded.path == "/home/powa/.powa-collector.conf")
        #expect(loaded.configuration.repositoryDSN == "host=repo")
        #expect(loaded.warnings.isEmpty)
    }

    @Test func aBrokenFirstFileIsAnErrorNotASkip() {
        let source = ConfigurationSource.search(["/a", "/b"])
        #expect(throws: ConfigurationError.missingKey(path: "/a", key: "repository.dsn")) {
            try ConfigurationLoader.load(
                from: source,
                readFile: Self.files([
                    "/a": .contents(Array("{}".utf8)), "/b": .contents(Self.valid),
                ]))
        }
    }

    @Test func unreadableFilesAreSkippedWithAWarning() throws {
        let loaded = try ConfigurationLoader.load(
            from: .search(["/a", "/b"]),
            readFile: Self.files([
                "/a": .unreadable(reason: "Permission denied"), "/b": .contents(Self.valid),
            ]))
        #expect(loaded.path == "/b")
        #expect(loaded.warnings == ["skipped configuration file /a: Permission denied"])
    }

    @Test func unknownKeysBecomeWarningsNamingTheFile() throws {
        let loaded = try ConfigurationLoader.load(
            from: .search(["/a"]),
            readFile: Self.files([
                "/a": .contents(Array(#"{"repository": {"dsn": "x"}, "debugg": true}"#.utf8))
            ]))
        #expect(loaded.warnings == ["ignored unknown key debugg in configuration file /a"])
    }

    @Test func nothingFoundListsWhereItLooked() {
        let source = ConfigurationSource.standard(homeDirectory: "/home/powa")
        guard case .search(let paths) = source else { return }
        #expect(throws: ConfigurationError.noConfigurationFile(searched: paths)) {
            try ConfigurationLoader.load(from: source, readFile: Self.files([:]))
        }
    }

    @Test func explicitPathMustExistAndBeReadable() throws {
        #expect(throws: ConfigurationError.unreadable(path: "/c", reason: "no such file")) {
            try ConfigurationLoader.load(from: .explicit(path: "/c"), readFile: Self.files([:]))
        }
        #expect(throws: ConfigurationError.unreadable(path: "/c", reason: "Is a directory")) {
            try ConfigurationLoader.load(
                from: .explicit(path: "/c"), readFile: Self.files(["/c": .unreadable(reason: "Is a directory")]))
        }
        let loaded = try ConfigurationLoader.load(
            from: .explicit(path: "/c"), readFile: Self.files(["/c": .contents(Self.valid)]))
        #expect(loaded.path == "/c")
    }

    @Test func explicitPathIsTheOnlyOneRead() throws {
        var asked: [String] = []
        _ = try ConfigurationLoader.load(from: .explicit(path: "./mine.conf")) { path in
            asked.append(path)
            return .contents(Self.valid)
        }
        #expect(asked == ["./mine.conf"])
    }
}
