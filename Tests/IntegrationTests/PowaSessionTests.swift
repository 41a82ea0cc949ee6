import PostgresClient
import PowaCore
import PowaPostgres
import TestSupport
import Testing

/// `PowaSession`, the one way both executables open a PoWA connection,
/// against real repositories of every PoWA release.
@Suite(.enabled(if: TestEnvironment.isAvailable, "needs scripts/pg-env.sh (run scripts/test)"))
struct PowaSessionTests {
    private func show(_ setting: String, on session: PowaSession) throws -> String? {
        try session.run("SHOW \(setting)").first?[0]
    }

    /// What the reference sets on its connections, plus the text formats
    /// that datasources travel in, whichever executable opened it.
    @Test(arguments: PowaRelease.allCases)
    func aSessionIsSetUpAsTheReferenceSetsItsConnections(release: PowaRelease) throws {
        let cluster = release.repository
        let database = try cluster.createRepositoryDatabase()
        defer { cluster.dropDatabase(database) }
        let session = try PowaSession.open(
            cluster.parameters(database: database), applicationName: "PoWA collector - session test",
            statementTimeout: 1.5)
        defer { session.close() }
        #expect(try show("application_name", on: session) == "PoWA collector - session test")
        #expect(try show("lock_timeout", on: session) == "2s")
        #expect(try show("statement_timeout", on: session) == "1500ms")
        #expect(try show("DateStyle", on: session) == "ISO, YMD")
        #expect(try show("client_encoding", on: session) == "UTF8")
        let searchPath = try show("search_path", on: session)
        #expect((searchPath == "pg_catalog") == (release.major >= 5), "\(searchPath ?? "NULL")")
        #expect(try session.validatedPowaVersion(on: .repository).series == release.majorMinor)
    }

    /// A lock_timeout the database (or role, or server) already has is the
    /// user's choice and is kept.
    @Test func anExistingLockTimeoutIsKept() throws {
        let cluster = TestEnvironment.powa4Repository
        let database = try cluster.createRepositoryDatabase()
        defer { cluster.dropDatabase(database) }
        let admin = try cluster.connect()
        try admin.executeSimple("ALTER DATABASE \(try admin.escapeIdentifier(database)) SET lock_timeout = '7s'")
        admin.close()
        let session = try PowaSession.open(cluster.parameters(database: database), applicationName: "t")
        defer { session.close() }
        #expect(try show("lock_timeout", on: session) == "7s")
    }

    /// Without powa the session still opens (a worker records the refusal
    /// in the repository through it); the version check is what refuses.
    @Test func aDatabaseWithoutPowaOpensButFailsTheVersionCheck() throws {
        let cluster = TestEnvironment.powa4Repository
        let database = try cluster.createDatabase(prefix: "nopowa")
        defer { cluster.dropDatabase(database) }
        let session = try PowaSession.open(cluster.parameters(database: database), applicationName: "t")
        defer { session.close() }
        #expect(throws: PowaVersionError.self) { try session.validatedPowaVersion(on: .repository) }
        #expect(try show("search_path", on: session) == "pg_catalog")
    }
}
