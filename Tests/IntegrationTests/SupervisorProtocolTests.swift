import Glibc
import PostgresClient
import PowaCore
import TestSupport
import Testing

/// The NOTIFY protocol as powa-web and operators use it: every command,
/// every error, hostile requests, volume, and who may ask.
@Suite(.enabled(if: TestEnvironment.isAvailable)) struct SupervisorProtocolTests {
    /// One server whose last snapshot was a minute ago at frequency 3600,
    /// so that no scheduled snapshot gets in the way of forced ones for the
    /// next hour, and a forced one is not refused for being too close to
    /// the last one.
    static func quietServer(
        _ repository: PowaRepositoryFixture, _ body: (SupervisorProcess, NotifyClient, Int) async throws -> Void
    ) async throws {
        let srvid = try repository.registerServer(address: 2, frequency: 3600)
        try repository.admin.execute(
            "UPDATE powa_snapshot_metas SET snapts = now() - interval '1 minute' WHERE srvid = $1", [String(srvid)])
        try await withCollector(on: repository) { supervisor in
            let client = try NotifyClient(cluster: repository.cluster, database: repository.database)
            let running = try await eventually(timeout: 20) {
                try await client.workersStatus(srvid) == [String(srvid): WorkerStatusText.running]
            }
            try #require(running, "\(supervisor.logTail())")
            try await body(supervisor, client, srvid)
        }
    }

    @Test func everyCommandAndEveryMistakeGetsItsAnswer() async throws {
        try await withCollectorRepository(powaMajor: 4) { repository in
            try await Self.quietServer(repository) { supervisor, client, srvid in
                let id = String(srvid)
                let running = #"{"\#(id)":"running"}"#
                let exact: [(String, [String], String)] = [
                    ("RELOAD", [], "RELOAD OK OK"),
                    ("WORKERS_STATUS", [], "WORKERS_STATUS OK \(running)"),
                    ("WORKERS_STATUS", [id], "WORKERS_STATUS OK \(running)"),
                    ("WORKERS_STATUS", [id, "extra", "words"], "WORKERS_STATUS OK \(running)"),
                    ("WORKERS_STATUS", ["abc"], "WORKERS_STATUS OK \(running)"),
                    ("WORKERS_STATUS", ["999999"], "WORKERS_STATUS OK {}"),
                    ("WORKERS_STATUS", ["99999999999999999999999"], "WORKERS_STATUS OK {}"),
                    ("REFRESH_DB_CAT", [id, "0"], "REFRESH_DB_CAT OK catalogs will be refreshed at the next snapshot"),
                    (
                        "REFRESH_DB_CAT", [id, "2", "powa", "postgres"],
                        "REFRESH_DB_CAT OK catalogs will be refreshed at the next snapshot"
                    ),
                ]
                for (command, arguments, expected) in exact {
                    let answer = try await client.request(command, arguments)
                    #expect(answer == expected, "\(command) \(arguments)")
                }
                let refused: [(String, [String])] = [
                    ("FORCE_SNAPSHOT", []), ("FORCE_SNAPSHOT", ["x"]), ("FORCE_SNAPSHOT", ["999999"]),
                    ("FORCE_SNAPSHOT", [id, "2"]), ("FORCE_SNAPSHOT", [""]),
                    ("REFRESH_DB_CAT", [id]), ("REFRESH_DB_CAT", []), ("REFRESH_DB_CAT", ["x", "0"]),
                    ("REFRESH_DB_CAT", [id, "2", "powa"]), ("REFRESH_DB_CAT", [id, "many", "powa"]),
                    ("REFRESH_DB_CAT", ["999999", "0"]),
                ]
                for (command, arguments) in refused {
                    let answer = try await client.request(command, arguments)
                    #expect(
                        answer?.hasPrefix("\(command) ERROR ") == true,
                        "\(command) \(arguments): \(String(describing: answer))")
                }
                for command in ["NOPE", "workers_status", "RELOAD;"] {
                    let answer = try await client.request(command)
                    #expect(
                        answer?.hasPrefix("\(command) UNKNOWN ") == true, "\(command): \(String(describing: answer))")
                }

                // A forced snapshot is accepted, really taken, and a second
                // one right after is refused.
                let before = try repository.lastSnapshot(srvid) ?? 0
                #expect(
                    try await client.request("FORCE_SNAPSHOT", [id]) == "FORCE_SNAPSHOT OK snapshot will begin shortly")
                let taken = try await eventually(timeout: 15, interval: 0.2) {
                    (try repository.lastSnapshot(srvid) ?? 0) > before
                }
                #expect(taken, "\(supervisor.logTail())")
                let again = try await client.request("FORCE_SNAPSHOT", [id])
                #expect(again?.hasPrefix("FORCE_SNAPSHOT ERROR ") == true, "\(String(describing: again))")

                // An answer that would not fit in a NOTIFY payload.
                let long = String(repeating: "X", count: 7970)
                #expect(try await client.request(long, timeout: 3) == "\(long) KO {ANSWER TOO LONG}")

                // RELOAD without a channel: done, not answered.
                try client.send("RELOAD -")
                let reloaded = await eventually(timeout: 10) {
                    supervisor.logLines(thread: "-", containing: "reload done").count == 2
                }
                #expect(reloaded, "\(supervisor.logTail())")
            }
        }
    }

    @Test(arguments: PowaRelease.powa5)
    func hostilePayloadsNeverStopTheSupervisor(release: PowaRelease) async throws {
        try await withCollectorRepository(release: release) { repository in
            try await Self.quietServer(repository) { supervisor, client, srvid in
                let payloads = [
                    "", " ", "   ", "\t\n", String(repeating: "A", count: 7999), String(repeating: "é", count: 3999),
                    "ÉTAT 🎉 ü", "WORKERS_STATUS", "WORKERS_STATUS -", "WORKERS_STATUS - 1", "WORKERS_STATUS  1",
                    "FORCE_SNAPSHOT  \(srvid)", "RELOAD c 1 2 3",
                    #"WORKERS_STATUS c"';DROP/**/TABLE/**/powa_servers;--"#,
                    "WORKERS_STATUS " + String(repeating: "c", count: 64),
                    "WORKERS_STATUS " + String(repeating: "ü", count: 40),
                    "REFRESH_DB_CAT c \(srvid) -1", "REFRESH_DB_CAT c \(srvid) 99999999999999999999999",
                    "REFRESH_DB_CAT c \(srvid) 1 " + String(repeating: "d", count: 7000),
                    String(repeating: "WORKERS_STATUS ", count: 500), "\\", "'", "\"", "%s%n%x",
                ]
                for payload in payloads { try client.send(payload) }
                // Still there, still connected, still answering.
                let channel = "ü_chan"
                try client.listen(channel)
                try client.send("WORKERS_STATUS \(channel)")
                #expect(
                    try await client.answer(on: channel, command: "WORKERS_STATUS", timeout: 5)
                        == #"WORKERS_STATUS OK {"\#(srvid)":"running"}"#)
                #expect(try await client.workersStatus(srvid) == [String(srvid): "running"])
                #expect(supervisor.process.exitStatus() == nil)
                #expect(
                    supervisor.logLines(containing: "connection to the repository").isEmpty, "\(supervisor.logTail())")
                #expect(try repository.admin.execute("SELECT to_regclass('powa_servers') IS NOT NULL").first?[0] == "t")
            }
        }
    }

    /// The answer's channel is a `pg_notify` value: a name crafted to close
    /// the quotes of `NOTIFY "…"` (the reference's way) only names a
    /// strange channel, which gets its answer.
    @Test func aChannelNameCraftedToInjectSQLRunsNothing() async throws {
        try await withCollectorRepository(powaMajor: 4) { repository in
            try await Self.quietServer(repository) { supervisor, client, srvid in
                let attempts = [
                    (#"x";CREATE/**/TABLE/**/injected_a();--"#, "injected_a"),
                    (#"x');CREATE/**/TABLE/**/injected_b();--"#, "injected_b"),
                    (#"x"/**/,'';CREATE/**/TABLE/**/injected_c();--"#, "injected_c"),
                ]
                for (channel, table) in attempts {
                    try client.listen(channel)
                    try client.send("WORKERS_STATUS \(channel) \(srvid)")
                    let answer = try await client.answer(on: channel, command: "WORKERS_STATUS", timeout: 3)
                    #expect(answer == #"WORKERS_STATUS OK {"\#(srvid)":"running"}"#, "on \(channel)")
                    let exists = try repository.admin.execute("SELECT to_regclass($1) IS NOT NULL", [table]).first?[0]
                    #expect(exists == "f", "\(table) was created")
                }
            }
        }
    }

    @Test(arguments: PowaRelease.allCases)
    func anUnprivilegedSenderIsRefused(release: PowaRelease) async throws {
        try await withCollectorRepository(release: release) { repository in
            try await Self.quietServer(repository) { supervisor, _, srvid in
                let nobody = try NotifyClient(
                    cluster: repository.cluster, database: repository.database, user: TestEnvironment.unprivilegedRole)
                for (command, arguments) in [
                    ("WORKERS_STATUS", []), ("RELOAD", []), ("FORCE_SNAPSHOT", [String(srvid)]),
                    ("REFRESH_DB_CAT", [String(srvid), "0"]), ("NOPE", []),
                ] {
                    let answer = try await nobody.request(command, arguments)
                    #expect(answer == "\(command) ERROR Permission denied", "\(String(describing: answer))")
                }
                #expect(supervisor.logLines(containing: "reloading the configuration").isEmpty)
                #expect(supervisor.logLines(containing: "forced snapshot requested").isEmpty)
                // Whether checked apart or with its answer, each refusal is
                // logged (once the answer is out: a check and an answer go
                // in one statement).
                for command in ["WORKERS_STATUS", "RELOAD", "FORCE_SNAPSHOT", "REFRESH_DB_CAT", "NOPE"] {
                    let logged = await eventually(timeout: 5, interval: 0.02) {
                        supervisor.logLines(containing: "refused \(command): the sender is not permitted").count == 1
                    }
                    #expect(logged, "\(supervisor.logTail())")
                }
            }
        }
    }

    /// Members of `pg_signal_backend` (PostgreSQL 14+) may ask, and on
    /// PoWA 5 members of the roles `powa_roles` maps.
    @Test(
        arguments: [(PowaRelease.powa4, "pg_signal_backend")]
            + PowaRelease.powa5.flatMap { release in
                ["powa_signal_backend", "powa_admin", "powa_write_all_data"].map { (release, $0) }
            })
    func aMemberOfAPermittedRoleIsAnswered(release: PowaRelease, role: String) async throws {
        try await withCollectorRepository(release: release) { repository in
            let member = "t_notify_\(UInt32.random(in: 0...UInt32.max))"
            let admin = try repository.cluster.connect()
            defer {
                _ = try? admin.executeSimple("DROP ROLE IF EXISTS \(member)")
                admin.close()
            }
            try admin.executeSimple("CREATE ROLE \(member) LOGIN IN ROLE \(try admin.escapeIdentifier(role))")
            try await Self.quietServer(repository) { supervisor, _, srvid in
                let client = try NotifyClient(cluster: repository.cluster, database: repository.database, user: member)
                defer { client.connection.close() }
                #expect(
                    try await client.request("WORKERS_STATUS", [String(srvid)])
                        == #"WORKERS_STATUS OK {"\#(srvid)":"running"}"#)
            }
        }
    }
}
