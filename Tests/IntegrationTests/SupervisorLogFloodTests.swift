import PowaCore
import TestSupport
import Testing

/// Any role that can connect to the repository can NOTIFY: requests from a
/// role with no privilege are each answered, and yet add only a few lines
/// to the log, whose counts account for every one of them.
@Suite(.enabled(if: TestEnvironment.isAvailable)) struct SupervisorLogFloodTests {
    @Test func twoThousandRequestsFromAnUnprivilegedRoleAreAnsweredAndAddAFewLogLines() async throws {
        try await withCollectorRepository(powaMajor: 5) { repository in
            let srvid = try repository.registerServer(address: 2, frequency: 3600)
            try await withCollector(on: repository) { supervisor in
                let client = try NotifyClient(cluster: repository.cluster, database: repository.database)
                let running = try await eventually(timeout: 20) {
                    try await client.workersStatus(srvid) == [String(srvid): WorkerStatusText.running]
                }
                try #require(running, "\(supervisor.logTail())")
                let nobody = try PowaWebAsker(
                    cluster: repository.cluster, database: repository.database, user: TestEnvironment.unprivilegedRole)
                let requests: [(String, [String])] = [
                    ("RELOAD", []), ("WORKERS_STATUS", []), ("FORCE_SNAPSHOT", [String(srvid)]), ("NOPE", []),
                ]
                let linesBefore = supervisor.logLines(containing: "").count
                let start = Monotonic.now()
                var tally = PromptnessTally()
                // Answered, whatever the delay (promptness has its own tests).
                for index in 0..<2_000 {
                    let (command, arguments) = requests[index % requests.count]
                    tally.record(try await nobody.ask(command, arguments, timeout: 5)) {
                        $0 == "\(command) ERROR Permission denied"
                    }
                }
                let elapsed = Monotonic.now() - start
                #expect(tally.answeredInTime == 2_000, "\(tally)")

                // Four kinds of refusal: a first line each, then at most one
                // summary per kind and 10 s window (and the last ones).
                let refusals = { supervisor.logLines(thread: "-", containing: ": the sender is not permitted") }
                let accounted = await eventually(timeout: 2 * RequestLogThrottle.standardInterval.inSeconds) {
                    Self.refusalsCounted(refusals()) == 2_000
                }
                #expect(accounted, "\(Self.refusalsCounted(refusals())) refusals in \(refusals())")
                let bound = requests.count * (2 + Int(elapsed / RequestLogThrottle.standardInterval.inSeconds) + 1)
                #expect(refusals().count <= bound, "\(refusals().count) lines: \(refusals())")
                let added = supervisor.logLines(containing: "").count - linesBefore
                #expect(added <= bound + 10, "\(added) lines added:\n\(supervisor.logTail(60))")

                // Nothing was done for them.
                #expect(supervisor.logLines(containing: "reloading the configuration").isEmpty)
                #expect(supervisor.logLines(containing: "forced snapshot requested").isEmpty)
                #expect(try await client.workersStatus(srvid) == [String(srvid): WorkerStatusText.running])
            }
        }
    }

    /// Each line stands for one refusal, or for the count it gives.
    static func refusalsCounted(_ lines: [String]) -> Int {
        lines.reduce(0) { total, line in
            guard let range = line.firstRange(of: ": the sender is not permitted: ") else { return total + 1 }
            return total + (Int(line[range.upperBound...].prefix(while: \.isNumber)) ?? 0)
        }
    }
}
