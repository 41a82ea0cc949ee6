import Glibc
import PowaCore
import Testing
import TestSupport

/// An overloaded collector makes snapshots wait for a repository slot.
/// Waiting is not running: the budget watch must not cancel a snapshot for
/// the time it spent in the queue.
@Suite(.enabled(if: TestEnvironment.isAvailable, "needs scripts/pg-env.sh (run scripts/test)"))
struct WorkerSlotWaitTests {
    @Test func aSnapshotThatWaitedLongForItsSlotStillCommits() throws {
        let fixture = try PowaRepositoryFixture(powaMajor: 4)
        let srvid = try fixture.registerServer(host: "127.0.0.37")
        var config = fixture.workerConfiguration(srvid: srvid, frequency: 5, host: "127.0.0.37", snapshotTimeout: 1)
        config.usesSnapshotSlots = true
        let worker = try WorkerProcess()
        try worker.send(.start(config))
        // With a 1 s budget the watch cancels at 6 s (5 s of grace): the
        // snapshot's slot is granted only after 8 s of waiting.
        let budgetPlusGrace = 1 + 5.0
        var granted = 0
        var snapshotSlotAskedAt: Double?
        let deadline = Monotonic.now() + 40
        while Monotonic.now() < deadline, (worker.statuses.last?.snapshotsTaken ?? 0) < 1 {
            worker.drain(for: 0.1)
            let requests = worker.slotMessages.filter { $0 == .slotRequest }.count
            guard requests > granted else { continue }
            if worker.statuses.last?.snapshotRunning == true {
                // The snapshot's own request: let it wait.
                let askedAt = snapshotSlotAskedAt ?? Monotonic.now()
                snapshotSlotAskedAt = askedAt
                if Monotonic.now() - askedAt < budgetPlusGrace + 2 { continue }
            }
            try worker.send(.slotGranted)
            granted += 1
        }
        #expect(snapshotSlotAskedAt != nil, "the snapshot never asked for a slot; log:\n\(worker.log)")
        let status = worker.statuses.last
        #expect(status?.snapshotsTaken == 1, "log:\n\(worker.log)")
        #expect(status?.snapshotsFailed == 0)
        #expect(!worker.log.contains("over its"), "cancelled for its wait; log:\n\(worker.log)")
        #expect((status?.lastSnapshotLateness ?? 0) >= budgetPlusGrace, "the wait shows as lateness")
        try worker.send(.stop)
        #expect(worker.waitForExit(timeout: 3) == .exited(0))
    }
}
