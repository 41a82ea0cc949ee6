import Testing

@testable import PowaCore

@Suite struct PowaVersionTests {
    @Test(arguments: [
        ("4.1.4", 4, 1), ("5.0.2", 5, 0), ("4.0", 4, 0), ("5.1.0dev", 5, 1), ("4.2.2", 4, 2), ("10.12.1", 10, 12),
    ])
    func parsesMajorAndMinor(text: String, major: Int, minor: Int) throws {
        let version = try #require(PowaVersion(extversion: text))
        #expect(version.major == major)
        #expect(version.minor == minor)
        #expect(version.text == text)
        #expect(version.series == "\(major).\(minor)")
    }

    @Test(arguments: ["", "5", "abc", "x.1", "5.", ".1", "5.x"])
    func rejectsWhatIsNotMajorDotMinor(text: String) {
        #expect(PowaVersion(extversion: text) == nil)
    }

    @Test func missingExtensionIsReportedWithItsSide() {
        #expect(throws: PowaVersionError.notInstalled(.remote)) {
            try PowaVersion.validated(extversion: nil, on: .remote)
        }
        let error = PowaVersionError.notInstalled(.repository)
        #expect(error.description.contains("not installed on the repository server"))
    }

    @Test func versionsBeforeFourAreRefused() throws {
        #expect(throws: PowaVersionError.tooOld(.repository, PowaVersion(extversion: "3.2.0")!)) {
            try PowaVersion.validated(extversion: "3.2.0", on: .repository)
        }
        #expect(throws: PowaVersionError.unparsable(.remote, "devel")) {
            try PowaVersion.validated(extversion: "devel", on: .remote)
        }
        #expect(try PowaVersion.validated(extversion: "4.0.1", on: .remote).needsLoad)
    }

    @Test func sameMajorMinorIsCompatibleWhateverThePatch() throws {
        try PowaVersion.checkCompatible(
            repository: #require(PowaVersion(extversion: "4.1.4")), remote: #require(PowaVersion(extversion: "4.1.0")))
        try PowaVersion.checkCompatible(
            repository: #require(PowaVersion(extversion: "5.0.3")), remote: #require(PowaVersion(extversion: "5.0.2")))
    }

    @Test(arguments: [("4.1.4", "4.2.0"), ("4.1.4", "5.0.2"), ("5.1.0", "5.0.2")])
    func differentMajorMinorIsRefusedNamingBoth(repository: String, remote: String) throws {
        let repo = try #require(PowaVersion(extversion: repository))
        let rem = try #require(PowaVersion(extversion: remote))
        #expect(throws: PowaVersionError.incompatible(repository: repo, remote: rem)) {
            try PowaVersion.checkCompatible(repository: repo, remote: rem)
        }
        let text = PowaVersionError.incompatible(repository: repo, remote: rem).description
        #expect(text.contains("repository server (\(repo.series).X)"))
        #expect(text.contains("remote server (\(rem.series).X)"))
    }

    @Test func whatEachVersionImplies() throws {
        let v40 = try #require(PowaVersion(extversion: "4.0.1"))
        let v41 = try #require(PowaVersion(extversion: "4.1.4"))
        let v50 = try #require(PowaVersion(extversion: "5.0.2"))
        #expect(v40.needsLoad && !v41.needsLoad && !v50.needsLoad)
        #expect(!v40.usesSecureSearchPath && !v41.usesSecureSearchPath && v50.usesSecureSearchPath)
        #expect(!v41.collectsPerDatabaseData && v50.collectsPerDatabaseData)
        #expect(!v40.recordsComponentVersions && v41.recordsComponentVersions && v50.recordsComponentVersions)
        #expect(v41.extensionVersionTable == "powa_extensions")
        #expect(v50.extensionVersionTable == "powa_extension_config")
    }
}
