import Glibc
import PowaCore
import TestSupport
import Testing

/// What powa-web sees: the status of every worker, answered over NOTIFY.
@Suite(.enabled(if: TestEnvironment.isAvailable)) struct SupervisorStatusTests {
    @Test(arguments: PowaRelease.allCases)
    func threeRunningServersAndAnUnreachableOne(release: PowaRelease) async throws {
        try await withCollectorRepository(release: release) { repository in
            let ids = try (2...4).map { try repository.registerServer(address: $0, frequency: 60) }
            let unreachable = try repository.registerUnreachableServer(address: 5, frequency: 60)
            try await withCollector(on: repository) { supervisor in
                let client = try NotifyClient(cluster: repository.cluster, database: repository.database)
                var expected = Dictionary(uniqueKeysWithValues: ids.map { (String($0), WorkerStatusText.running) })
                expected[String(unreachable)] = WorkerStatusText.noRemoteConnection
                var last: [String: String]?
                let reached = try await eventually(timeout: 20) {
                    last = try await client.workersStatus()
                    return last == expected
                }
                #expect(reached, "last answer: \(String(describing: last))\n\(supervisor.logTail())")

                // One worker process per server, each named host:port.
                #expect(supervisor.workerPids().count == 4)
                for address in 2...5 {
                    let port = address == 5 ? repository.cluster.port : repository.remote.port
                    #expect(supervisor.workerPid(named: "127.0.0.\(address):\(port)") != nil, "\(supervisor.logTail())")
                }

                // One server at a time.
                #expect(try await client.workersStatus(ids[1]) == [String(ids[1]): WorkerStatusText.running])
                #expect(
                    try await client.workersStatus(unreachable) == [
                        String(unreachable): WorkerStatusText.noRemoteConnection
                    ])

                // The supervisor's own session, as the reference names it.
                let names = try repository.admin.execute(
                    "SELECT application_name FROM pg_stat_activity WHERE datname = current_database()"
                ).rows.compactMap { $0[0] }
                #expect(names.contains("PoWA collector - main thread (\(CollectorVersion.current))"), "\(names)")
            }
        }
    }

    /// powa-web LISTENs on a random channel, sends its request, waits one to
    /// three seconds and takes the first answer to its command.
    @Test(arguments: PowaRelease.powa5)
    func powaWebsWayOfAskingGetsRunning(release: PowaRelease) async throws {
        try await withCollectorRepository(release: release) { repository in
            let srvid = try repository.registerServer(address: 6, frequency: 60)
            try await withCollector(on: repository) { supervisor in
                let client = try NotifyClient(cluster: repository.cluster, database: repository.database)
                let healthy = try await eventually(timeout: 20) {
                    try await client.workersStatus(srvid) == [String(srvid): WorkerStatusText.running]
                }
                #expect(healthy, "\(supervisor.logTail())")
                for _ in 0..<20 {
                    let channel = NotifyClient.randomChannel()
                    try client.listen(channel)
                    try client.send("WORKERS_STATUS \(channel) \(srvid)")
                    let answer = try await client.answer(on: channel, command: "WORKERS_STATUS", timeout: 1)
                    #expect(answer == #"WORKERS_STATUS OK {"\#(srvid)":"running"}"#)
                }
            }
        }
    }

    /// Passwords (of the repository DSN and of `powa_servers`) reach the
    /// workers through their stdin only: never argv, environment, logs or
    /// answers, even at debug level.
    @Test func passwordsStayOutOfArgvEnvironmentLogsAndAnswers() async throws {
        let password = TestEnvironment.password
        try #require(!password.isEmpty)
        try await withCollectorRepository(powaMajor: 4) { repository in
            let srvid = try repository.registerServer(
                address: 7, frequency: 60, username: TestEnvironment.passwordRole, password: password)
            let quoted = "'" + password.replacing("\\", with: "\\\\").replacing("'", with: "\\'") + "'"
            let dsn =
                "host=\(repository.cluster.host) port=\(repository.cluster.port) dbname=\(repository.database)"
                + " user=\(TestEnvironment.passwordRole) password=\(quoted)"
            try await withCollector(on: repository, dsn: dsn, debug: true) { supervisor in
                let client = try NotifyClient(cluster: repository.cluster, database: repository.database)
                var answer: String?
                let running = try await eventually(timeout: 20) {
                    answer = try await client.request("WORKERS_STATUS", [String(srvid)])
                    return answer.flatMap(NotifyClient.decodeStatus) == [String(srvid): WorkerStatusText.running]
                }
                #expect(running, "\(supervisor.logTail())")
                #expect(answer?.contains(password) == false)
                let workers = supervisor.workerPids()
                #expect(workers.count == 1)
                for pid in [supervisor.pid] + workers {
                    #expect(!ProcessTable.commandLine(pid).contains(password))
                    #expect(!ProcessTable.environment(pid).contains(password))
                }
                #expect(!supervisor.log.contains(password), "\(supervisor.logTail())")
                #expect(supervisor.log.contains("DEBUG"), "debug logging is on, so the check above means something")
            }
        }
    }
}
