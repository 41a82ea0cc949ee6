import Testing

@testable import PowaCore

/// The control loop's heartbeats and sleeps.
struct WorkerHeartbeatPlanTests {
    @Test func anIdleWorkerSleepsUntilItsNextHeartbeatAndSendsItThen() {
        let idle = WorkerMessage.idleHeartbeatInterval
        #expect(
            WorkerHeartbeatPlan.wait(now: 110, lastLineSentAt: 100, snapshotRunning: false, sendsHeartbeats: true)
                == idle - 10)
        #expect(
            !WorkerHeartbeatPlan.heartbeatDue(
                now: 100 + idle - 0.1, lastLineSentAt: 100, snapshotRunning: false, sendsHeartbeats: true))
        #expect(
            WorkerHeartbeatPlan.heartbeatDue(
                now: 100 + idle, lastLineSentAt: 100, snapshotRunning: false, sendsHeartbeats: true))
    }

    /// During a snapshot the budget is looked at every second, and the
    /// shorter promise makes heartbeats due sooner.
    @Test func duringASnapshotTheLoopWakesEverySecond() {
        #expect(
            WorkerHeartbeatPlan.wait(now: 100, lastLineSentAt: 100, snapshotRunning: true, sendsHeartbeats: true) == 1)
        let due = 100 + WorkerMessage.heartbeatInterval
        #expect(
            WorkerHeartbeatPlan.wait(now: due - 0.25, lastLineSentAt: 100, snapshotRunning: true, sendsHeartbeats: true)
                == 0.25)
        #expect(
            WorkerHeartbeatPlan.heartbeatDue(
                now: due, lastLineSentAt: 100, snapshotRunning: true, sendsHeartbeats: true))
    }

    /// Heartbeats withheld (a hung collector thread): none is ever due, and
    /// the loop still sleeps a second at a time instead of polling with a
    /// timeout of zero until the supervisor ends the worker.
    @Test func withheldHeartbeatsNeitherGoOutNorMakeTheLoopSpin() {
        for now in [105.0, 130, 200] {
            #expect(
                !WorkerHeartbeatPlan.heartbeatDue(
                    now: now, lastLineSentAt: 100, snapshotRunning: true, sendsHeartbeats: false))
            #expect(
                WorkerHeartbeatPlan.wait(now: now, lastLineSentAt: 100, snapshotRunning: true, sendsHeartbeats: false)
                    == 1)
        }
    }
}
