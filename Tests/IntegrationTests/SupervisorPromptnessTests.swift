import Glibc
import PowaCore
import TestSupport
import Testing

/// Every request answered within powa-web's limit, asked as powa-web asks
/// (a fresh channel per request, 1 s), whatever else the supervisor does
/// on its repository connection meanwhile: answering, reloading the server
/// list on SIGHUP or RELOAD, while the workers snapshot.
///
/// A request that libpq read into its buffer while another statement ran on
/// the listening connection is invisible to poll(); these tests fail when
/// such a request waits for the next wake-up (a heartbeat, 3 s later).
@Suite(.enabled(if: TestEnvironment.isAvailable), .serialized) struct SupervisorPromptnessTests {
    /// Requests per long series (the issue's figure).
    static let seriesLength = 10_000

    /// `servers` servers on the remote cluster, `frequency` apart, running;
    /// then `body` with the collector and a powa-web-like client.
    static func collecting(
        servers: Int, frequency: Int, powaMajor: Int = 4,
        _ body: (SupervisorProcess, PowaWebAsker, [Int], PowaRepositoryFixture) async throws -> Void
    ) async throws {
        try await withCollectorRepository(powaMajor: powaMajor) { repository in
            var srvids: [Int] = []
            for address in 2..<(2 + servers) {
                srvids.append(try repository.registerServer(address: address, frequency: frequency))
            }
            try await withCollector(on: repository) { supervisor in
                let asker = try PowaWebAsker(cluster: repository.cluster, database: repository.database)
                let running = try await eventually(timeout: 60, interval: 0.2) {
                    let outcome = try await asker.ask("WORKERS_STATUS", timeout: 3)
                    return outcome.answer.flatMap(NotifyClient.decodeStatus).map { $0.count == servers } ?? false
                }
                try #require(running, "\(supervisor.logTail())")
                try await body(supervisor, asker, srvids, repository)
            }
        }
    }

    /// An answer listing exactly these servers.
    static func listsServers(_ srvids: [Int]) -> (String) -> Bool {
        let keys = Set(srvids.map(String.init))
        return { NotifyClient.decodeStatus($0).map { Set($0.keys) == keys } ?? false }
    }

    @Test func tenThousandRequestsOnAnIdleCollectorAreEachAnsweredWithinOneSecond() async throws {
        try await Self.collecting(servers: 2, frequency: 3600) { supervisor, asker, srvids, _ in
            var tally = PromptnessTally()
            for index in 0..<Self.seriesLength {
                // The server list (as powa-web's server list page asks) and one server.
                let arguments = index.isMultiple(of: 2) ? [] : [String(srvids[index % srvids.count])]
                let expected =
                    arguments.isEmpty ? Self.listsServers(srvids) : Self.listsServers([srvids[index % srvids.count]])
                tally.record(try await asker.ask("WORKERS_STATUS", arguments), expected: expected)
            }
            #expect(tally.answeredInTime == Self.seriesLength, "\(tally)")
            #expect(supervisor.process.exitStatus() == nil)
        }
    }

    @Test func tenThousandRequestsWhileTwentyServersSnapshotAreEachAnsweredWithinOneSecond() async throws {
        // Frequency 5, PoWA's smallest: snapshots start and end all the time.
        try await Self.collecting(servers: 20, frequency: 5) { supervisor, asker, srvids, repository in
            let before = try srvids.map { try repository.lastSnapshot($0) ?? 0 }
            var tally = PromptnessTally()
            for _ in 0..<Self.seriesLength {
                tally.record(try await asker.ask("WORKERS_STATUS"), expected: Self.listsServers(srvids))
            }
            #expect(tally.answeredInTime == Self.seriesLength, "\(tally)")
            // The workers did snapshot meanwhile.
            let after = try srvids.map { try repository.lastSnapshot($0) ?? 0 }
            #expect(zip(before, after).filter { $1 > $0 }.count == srvids.count, "\(supervisor.logTail())")
        }
    }

    /// Many requests sent before any answer is read: each channel gets
    /// exactly one answer, and the answers never stall (none comes more
    /// than powa-web's limit after the one before).
    @Test func aBurstOfRequestsIsAnsweredOncePerChannelWithoutStalling() async throws {
        try await Self.collecting(servers: 2, frequency: 3600) { supervisor, asker, srvids, _ in
            let expected = Self.listsServers(srvids)
            for round in 0..<10 {
                asker.forgetReceived()
                var channels: [String] = []
                for _ in 0..<500 { channels.append(try asker.send("WORKERS_STATUS", keepPreviousChannel: true)) }
                var lastProgress = Monotonic.now()
                var answered = 0
                var stalled = false
                while answered < channels.count {
                    try await asker.receive(waitingAtMost: 0.05)
                    let now = Monotonic.now()
                    let count = asker.receivedByChannel.values.reduce(0) { $0 + $1.count }
                    if count > answered {
                        answered = count
                        lastProgress = now
                    } else if now - lastProgress > PowaWebAsker.serverListTimeout {
                        stalled = true
                        break
                    }
                }
                // A moment more for duplicates, which must not come.
                try await asker.receive(waitingAtMost: 0.2)
                let received = asker.receivedByChannel
                #expect(!stalled, "round \(round): \(answered) of \(channels.count) answered, then nothing for 1 s")
                let once = channels.filter { received[$0]?.count == 1 && expected(received[$0]![0]) }
                #expect(
                    once.count == channels.count, "round \(round): \(once.count) of \(channels.count) answered once")
                #expect(Set(received.keys).isSubset(of: Set(channels)))
                // The next burst starts from no channel.
                try asker.connection.executeSimple("UNLISTEN *")
            }
            #expect(supervisor.process.exitStatus() == nil)
        }
    }

    /// SIGHUP and RELOAD make the supervisor read `powa_servers` on the
    /// listening connection; the requests that arrive meanwhile are still
    /// answered in time.
    @Test func requestsInterleavedWithReloadsAreEachAnsweredWithinOneSecond() async throws {
        try await Self.collecting(servers: 2, frequency: 3600) { supervisor, asker, srvids, _ in
            var tally = PromptnessTally()
            var reloads = 0
            for index in 0..<2_000 {
                if index % 10 == 3 {
                    supervisor.signal(SIGHUP)
                    reloads += 1
                }
                if index % 10 == 7 {
                    tally.record(try await asker.ask("RELOAD")) { $0 == "RELOAD OK OK" }
                    reloads += 1
                    continue
                }
                tally.record(try await asker.ask("WORKERS_STATUS"), expected: Self.listsServers(srvids))
            }
            #expect(tally.answeredInTime == tally.asked, "\(tally)")
            // The reloads did happen (several requests while one runs make one more).
            let done = await eventually(timeout: 10) {
                supervisor.logLines(thread: "-", containing: "reload done").count >= reloads / 4
            }
            #expect(done, "\(supervisor.logLines(thread: "-", containing: "reload done").count) reloads done")
            #expect(supervisor.process.exitStatus() == nil)
        }
    }
}
