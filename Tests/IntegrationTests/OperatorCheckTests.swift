import Glibc
import PowaCore
import ProcessSupport
import TestSupport
import Testing

/// `powa-collector check` and `powa-collector status` against real
/// repositories, remotes and collectors.
@Suite(.enabled(if: TestEnvironment.isAvailable)) struct OperatorCheckTests {
    static func run(_ arguments: [String], in directory: TemporaryDirectory) async throws
        -> (termination: ChildProcess.Termination?, stdout: String, stderr: String)
    {
        try await TestProcess.run(BuiltProducts.collector, arguments, in: directory, name: "cli", timeout: 60)
    }

    @Test func checkPassesASoundSetupAndNamesEveryBrokenServer() async throws {
        try await withCollectorRepository(powaMajor: 4) { repository in
            let directory = try TemporaryDirectory(prefix: "check")
            defer { directory.remove() }
            let conf = try directory.write("c.conf", SupervisorProcess.configuration(dsn: repository.dsn))
            let port = repository.remote.port
            try repository.registerServer(address: 2)

            let sound = try await Self.run(["check", "--config", conf], in: directory)
            #expect(sound.termination == .exited(0), "\(sound.stdout)\(sound.stderr)")
            #expect(sound.stdout.contains("repository: OK (powa 4.1"), "\(sound.stdout)")
            #expect(sound.stdout.contains("127.0.0.2:\(port): OK"), "\(sound.stdout)")

            try repository.registerUnreachableServer(address: 3)
            let wrongPassword = "not the password"
            try repository.registerServer(address: 4, username: TestEnvironment.passwordRole, password: wrongPassword)
            let powa5 = TestEnvironment.powa5Remote.port
            try repository.registerServer(host: "127.0.0.1", port: powa5)
            let noWait = try repository.remote.createRemoteDatabase(
                prefix: "nowait", extensions: ["pg_qualstats", "pg_stat_kcache", "pg_track_settings"])
            defer { repository.remote.dropDatabase(noWait) }
            try repository.registerServer(host: "127.0.0.5", dbname: noWait)
            try repository.registerServer(address: 6, username: TestEnvironment.unprivilegedRole)

            let broken = try await Self.run(["check", "--config", conf], in: directory)
            let out = broken.stdout
            #expect(broken.termination == .exited(1), "\(out)\(broken.stderr)")
            let lines = out.split(separator: "\n").map(String.init)
            func line(_ name: String) -> String { lines.first { $0.hasPrefix(name + ": ") } ?? "(no line for \(name))" }
            #expect(line("127.0.0.2:\(port)") == "127.0.0.2:\(port): OK")
            #expect(line("127.0.0.3:\(repository.cluster.port)").contains("FAIL cannot connect: connection to server"))
            #expect(line("127.0.0.4:\(port)").contains("password authentication failed"), "\(out)")
            #expect(line("127.0.0.1:\(powa5)").contains("PoWA versions differ"), "\(out)")
            #expect(
                line("127.0.0.5:\(port)").contains(
                    "extension pg_wait_sampling configured in the repository but not installed"), "\(out)")
            #expect(line("127.0.0.6:\(port)").contains("pg_read_all_stats"), "\(out)")
            #expect(!out.contains(wrongPassword))

            let json = try await Self.run(["check", "--config", conf, "--json"], in: directory)
            #expect(json.termination == .exited(1))
            #expect(json.stdout.hasPrefix("{\"repository\": {\"ok\": true"), "\(json.stdout)")
            #expect(json.stdout.contains("\"exit_code\": 1"))
        }
    }

    @Test func checkExitsTwoWhenTheRepositoryOrConfigurationFails() async throws {
        let directory = try TemporaryDirectory(prefix: "check")
        defer { directory.remove() }
        let dead = TestEnvironment.powa4Repository.uri(database: "no_such_database")
        let conf = try directory.write("c.conf", SupervisorProcess.configuration(dsn: dead))
        let result = try await Self.run(["check", "--config", conf], in: directory)
        #expect(result.termination == .exited(2))
        #expect(result.stdout.contains("repository: FAIL cannot use the repository"), "\(result.stdout)")
        let missing = try await Self.run(["check", "--config", directory.path + "/none.conf"], in: directory)
        #expect(missing.termination == .exited(2))
        #expect(missing.stdout.contains("none.conf"))
    }

    @Test func statusAsksTheRunningCollectorAndFailsClearlyWithoutOne() async throws {
        try await withCollectorRepository(powaMajor: 4) { repository in
            let srvid = try repository.registerServer(address: 8, frequency: 5)
            let port = repository.remote.port
            let directory = try TemporaryDirectory(prefix: "status")
            defer { directory.remove() }
            let conf = try directory.write("c.conf", SupervisorProcess.configuration(dsn: repository.dsn))

            let none = try await Self.run(["status", "--config", conf], in: directory)
            #expect(none.termination == .exited(1))
            #expect(none.stderr.contains("no collector answered within 2 s"), "\(none.stderr)")

            try await withCollector(on: repository) { supervisor in
                let snapshotted = try await eventually(timeout: 60) { try repository.lastSnapshot(srvid) != nil }
                try #require(snapshotted, "\(supervisor.logTail())")
                let result = try await Self.run(["status", "--config", conf], in: directory)
                #expect(result.termination == .exited(0), "\(result.stderr)")
                let lines = result.stdout.split(separator: "\n").map(String.init)
                #expect(lines.first?.hasPrefix("SRVID  NAME") == true, "\(result.stdout)")
                let row = lines.first { $0.hasPrefix("\(srvid) ") } ?? ""
                #expect(row.contains("127.0.0.8:\(port)"), "\(result.stdout)")
                #expect(row.contains(" running "), "\(result.stdout)")
                #expect(row.contains("Z"), "a last snapshot time: \(result.stdout)")

                let json = try await Self.run(["status", "--config", conf, "--json"], in: directory)
                #expect(
                    json.stdout.contains(
                        "\"srvid\": \(srvid), \"name\": \"127.0.0.8:\(port)\", \"status\": \"running\""),
                    "\(json.stdout)")
            }
        }
    }
}
