import PowaCore
import Testing

@Suite struct SnapshotBudgetWatchdogTests {
    let budget = 30.0
    let grace = SnapshotBudgetWatchdog.grace

    @Test func withinBudgetAndGraceNothingHappens() {
        var watchdog = SnapshotBudgetWatchdog()
        #expect(watchdog.observe(elapsed: 0, budget: budget) == nil)
        #expect(watchdog.observe(elapsed: budget + grace, budget: budget) == nil)
        #expect(watchdog.stage == .watching)
        #expect(watchdog.sendsHeartbeats)
    }

    @Test func stagesComeInOrderOnceEach() {
        var watchdog = SnapshotBudgetWatchdog()
        #expect(watchdog.observe(elapsed: budget + grace + 0.1, budget: budget) == .cancelStatements)
        #expect(watchdog.observe(elapsed: budget + grace + 0.2, budget: budget) == nil)
        #expect(watchdog.observe(elapsed: budget + 2 * grace + 0.1, budget: budget) == .shutDownSockets)
        #expect(watchdog.observe(elapsed: budget + 2 * grace + 0.2, budget: budget) == nil)
        #expect(watchdog.sendsHeartbeats)
        #expect(watchdog.observe(elapsed: budget + 3 * grace + 0.1, budget: budget) == .stopHeartbeats)
        #expect(watchdog.observe(elapsed: budget + 10 * grace, budget: budget) == nil)
        #expect(!watchdog.sendsHeartbeats)
    }

    /// A look that comes late takes one stage, never skips one: the sockets
    /// are only shut down after a cancel had its chance.
    @Test func aLateLookTakesOneStageAtATime() {
        var watchdog = SnapshotBudgetWatchdog()
        #expect(watchdog.observe(elapsed: budget + 10 * grace, budget: budget) == .cancelStatements)
        #expect(watchdog.observe(elapsed: budget + 10 * grace, budget: budget) == .shutDownSockets)
        #expect(watchdog.observe(elapsed: budget + 10 * grace, budget: budget) == .stopHeartbeats)
    }

    @Test func theEndOfTheSnapshotResetsForTheNext() {
        var watchdog = SnapshotBudgetWatchdog()
        _ = watchdog.observe(elapsed: budget + 10 * grace, budget: budget)
        _ = watchdog.observe(elapsed: budget + 10 * grace, budget: budget)
        _ = watchdog.observe(elapsed: budget + 10 * grace, budget: budget)
        #expect(watchdog.observe(elapsed: nil, budget: budget) == nil)
        #expect(watchdog.stage == .watching)
        #expect(watchdog.sendsHeartbeats)
        #expect(watchdog.observe(elapsed: budget + grace + 1, budget: budget) == .cancelStatements)
    }

    /// A reload that raises the budget mid-snapshot holds the next stage back.
    @Test func aRaisedBudgetDefersTheNextStage() {
        var watchdog = SnapshotBudgetWatchdog()
        #expect(watchdog.observe(elapsed: budget + grace + 1, budget: budget) == .cancelStatements)
        #expect(watchdog.observe(elapsed: budget + 2 * grace + 1, budget: budget * 2) == nil)
    }
}
