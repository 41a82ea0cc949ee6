import Testing

@testable import PowaCore

/// Plays the worker's loop on a fake clock: sleep until `nextWakeUp`, poll,
/// run a snapshot of the given duration, report it finished.
private func runSnapshots(
    _ schedule: inout SnapshotSchedule, from start: Double, durations: [Double]
) -> (starts: [Double], now: Double) {
    var now = start
    var starts: [Double] = []
    for duration in durations {
        guard let wake = schedule.nextWakeUp(now: now) else {
            Issue.record("no wake-up while idle")
            break
        }
        now = max(now, wake)
        guard let started = schedule.poll(now: now) else {
            Issue.record("poll at the wake-up time started nothing")
            break
        }
        starts.append(started.start)
        now += duration
        schedule.snapshotFinished(now: now)
    }
    return (starts, now)
}

@Suite struct SnapshotScheduleTests {
    @Test func snapshotsStartExactlyOnePeriodApart() {
        var rng = SeededGenerator(seed: 1)
        var schedule = SnapshotSchedule(frequency: 5, lastSnapshot: nil, now: 1000, using: &rng)
        let (starts, _) = runSnapshots(&schedule, from: 1000, durations: [0.4, 1.7, 0.2])
        #expect(starts.count == 3)
        #expect(zip(starts.dropFirst(), starts).map { $0 - $1 } == [5, 5])
    }

    @Test func nothingStartsBeforeItIsDue() {
        var rng = SeededGenerator(seed: 2)
        var schedule = SnapshotSchedule(frequency: 60, lastSnapshot: 990, now: 1000, using: &rng)
        #expect(schedule.nextWakeUp(now: 1000) == 1050)
        #expect(!schedule.shouldStartSnapshot(now: 1049.9))
        #expect(schedule.poll(now: 1049.9) == nil)
        #expect(schedule.poll(now: 1050)?.start == 1050)
        #expect(schedule.isSnapshotRunning)
        #expect(schedule.nextWakeUp(now: 1051) == nil)
        #expect(schedule.poll(now: 2000) == nil, "never two snapshots at once")
    }

    @Test(arguments: [nil, 100.0, -1e12])
    func unknownOrOldLastSnapshotIsSpreadOverTheNextPeriod(lastSnapshot: Double?) {
        let now = 10_000.0
        let frequency = 300.0
        var firsts: Set<Double> = []
        for seed in 0..<50 as Range<UInt64> {
            var rng = SeededGenerator(seed: seed)
            let schedule = SnapshotSchedule(
                frequency: frequency, lastSnapshot: lastSnapshot, now: now, using: &rng)
            #expect(schedule.nextRegularStart >= now)
            #expect(schedule.nextRegularStart < now + frequency)
            firsts.insert(schedule.nextRegularStart)
        }
        #expect(firsts.count > 40, "the first snapshot time depends on the random source")
    }

    @Test func restartedWorkerKeepsTheGridOfTheRepository() {
        // Last snapshot 2 s ago at frequency 5: whatever the random source,
        // the next one is 5 s after it, then every 5 s.
        for seed in [3, 4, 5] as [UInt64] {
            var rng = SeededGenerator(seed: seed)
            var schedule = SnapshotSchedule(frequency: 5, lastSnapshot: 998, now: 1000, using: &rng)
            #expect(schedule.nextWakeUp(now: 1000) == 1003)
            let (starts, _) = runSnapshots(&schedule, from: 1000, durations: [0.5, 0.5])
            #expect(starts == [1003, 1008])
        }
    }

    @Test func lastSnapshotExactlyOnePeriodAgoIsDueNow() {
        var rng = SeededGenerator(seed: 6)
        let schedule = SnapshotSchedule(frequency: 30, lastSnapshot: 970, now: 1000, using: &rng)
        #expect(schedule.shouldStartSnapshot(now: 1000))
    }

    @Test func lastSnapshotInTheFutureCountsAsNow() {
        // The repository's clock is ahead of ours.
        var rng = SeededGenerator(seed: 7)
        let schedule = SnapshotSchedule(frequency: 30, lastSnapshot: 1004, now: 1000, using: &rng)
        #expect(schedule.nextRegularStart == 1030)
        #expect(schedule.lastStart == 1000)
    }

    @Test func overrunStartsOneSnapshotAtOnceWithoutCatchingUp() {
        var rng = SeededGenerator(seed: 8)
        var schedule = SnapshotSchedule(frequency: 5, lastSnapshot: 995, now: 1000, using: &rng)
        // Starts at 1000, then takes 12 s: the slots at 1005 and 1010 are missed.
        let first = schedule.poll(now: 1000)
        #expect(first?.start == 1000)
        schedule.snapshotFinished(now: 1012)
        #expect(schedule.nextWakeUp(now: 1012)! <= 1012)
        #expect(schedule.poll(now: 1012)?.start == 1012)
        schedule.snapshotFinished(now: 1012.5)
        // Only one late snapshot; the grid restarts from its start.
        #expect(schedule.poll(now: 1012.5) == nil)
        #expect(schedule.nextWakeUp(now: 1012.5) == 1017)
    }

    @Test func forcedSnapshotIsRefusedWhileOneRuns() throws {
        var rng = SeededGenerator(seed: 9)
        var schedule = SnapshotSchedule(frequency: 300, lastSnapshot: 400, now: 1000, using: &rng)
        try schedule.requestForcedSnapshot(now: 1000)
        _ = schedule.poll(now: 1000)
        #expect(throws: ForcedSnapshotRefusal.snapshotInProgress) { try schedule.requestForcedSnapshot(now: 1030) }
    }

    @Test func forcedSnapshotIsRefusedWhenAlreadyQueued() throws {
        var rng = SeededGenerator(seed: 10)
        var schedule = SnapshotSchedule(frequency: 300, lastSnapshot: 800, now: 1000, using: &rng)
        try schedule.requestForcedSnapshot(now: 1000)
        #expect(throws: ForcedSnapshotRefusal.alreadyQueued) { try schedule.requestForcedSnapshot(now: 1000.5) }
        #expect(schedule.nextWakeUp(now: 1001) == 1001)
        let start = schedule.poll(now: 1001)
        #expect(start?.forced == true)
    }

    @Test func forcedSnapshotIsRefusedWithinTenSecondsOfTheLastStart() throws {
        var rng = SeededGenerator(seed: 11)
        var schedule = SnapshotSchedule(frequency: 300, lastSnapshot: 995, now: 1000, using: &rng)
        #expect(throws: ForcedSnapshotRefusal.tooSoon(secondsSinceLastStart: 5)) {
            try schedule.requestForcedSnapshot(now: 1000)
        }
        #expect(throws: ForcedSnapshotRefusal.self) { try schedule.requestForcedSnapshot(now: 1004.9) }
        try schedule.requestForcedSnapshot(now: 1005)
        // Also measured from a forced start.
        _ = schedule.poll(now: 1005)
        schedule.snapshotFinished(now: 1006)
        #expect(throws: ForcedSnapshotRefusal.tooSoon(secondsSinceLastStart: 5)) {
            try schedule.requestForcedSnapshot(now: 1010)
        }
    }

    @Test func forcedSnapshotAcceptedWhenNoSnapshotIsKnown() throws {
        var rng = SeededGenerator(seed: 12)
        var schedule = SnapshotSchedule(frequency: 300, lastSnapshot: nil, now: 1000, using: &rng)
        try schedule.requestForcedSnapshot(now: 1000)
        #expect(schedule.poll(now: 1000.1) == SnapshotStart(start: 1000.1, forced: true, catalogRefresh: nil))
    }

    @Test func forcedSnapshotFarFromTheNextSlotKeepsTheGrid() throws {
        var rng = SeededGenerator(seed: 13)
        var schedule = SnapshotSchedule(frequency: 300, lastSnapshot: 900, now: 1000, using: &rng)
        #expect(schedule.nextRegularStart == 1200)
        try schedule.requestForcedSnapshot(now: 1000)
        #expect(schedule.poll(now: 1000)?.forced == true)
        schedule.snapshotFinished(now: 1001)
        #expect(schedule.nextWakeUp(now: 1001) == 1200)
        #expect(schedule.poll(now: 1200)?.forced == false)
    }

    @Test func forcedSnapshotCloseToTheNextSlotReplacesIt() throws {
        var rng = SeededGenerator(seed: 14)
        var schedule = SnapshotSchedule(frequency: 300, lastSnapshot: 900, now: 1100, using: &rng)
        try schedule.requestForcedSnapshot(now: 1100)
        _ = schedule.poll(now: 1100)
        schedule.snapshotFinished(now: 1101)
        // 1200 was only 100 s away: the next regular one is at 1500, still on the grid.
        #expect(schedule.nextWakeUp(now: 1101) == 1500)
    }

    @Test func forcedRequestWhenARegularOneIsDueStartsOnlyOne() throws {
        var rng = SeededGenerator(seed: 15)
        var schedule = SnapshotSchedule(frequency: 60, lastSnapshot: 900, now: 960, using: &rng)
        try schedule.requestForcedSnapshot(now: 960)
        let start = schedule.poll(now: 960)
        #expect(start?.forced == true)
        schedule.snapshotFinished(now: 961)
        #expect(schedule.poll(now: 961) == nil)
        #expect(schedule.nextWakeUp(now: 961) == 1020)
    }

    @Test func catalogRefreshRequestsAccumulateUntilTheNextSnapshot() {
        var rng = SeededGenerator(seed: 16)
        var schedule = SnapshotSchedule(frequency: 60, lastSnapshot: 990, now: 1000, using: &rng)
        schedule.requestCatalogRefresh(dbnames: ["a"])
        schedule.requestCatalogRefresh(dbnames: ["b", "a"])
        #expect(schedule.nextWakeUp(now: 1000) == 1050, "a refresh does not move the schedule")
        let first = schedule.poll(now: 1050)
        #expect(first?.catalogRefresh == .databases(["a", "b"]))
        // Taken: a request arriving during the snapshot waits for the next one.
        schedule.requestCatalogRefresh(dbnames: ["c"])
        schedule.snapshotFinished(now: 1051)
        #expect(schedule.poll(now: 1110)?.catalogRefresh == .databases(["c"]))
        schedule.snapshotFinished(now: 1111)
        #expect(schedule.poll(now: 1170)?.catalogRefresh == nil)
    }

    @Test func allDatabasesAbsorbsNamedRequests() {
        var rng = SeededGenerator(seed: 17)
        var schedule = SnapshotSchedule(frequency: 60, lastSnapshot: 990, now: 1000, using: &rng)
        schedule.requestCatalogRefresh(dbnames: ["a"])
        schedule.requestCatalogRefresh(dbnames: [])
        schedule.requestCatalogRefresh(dbnames: ["b"])
        #expect(schedule.pendingCatalogRefresh == .allDatabases)
    }

    @Test func refreshOfAFailedSnapshotIsKeptForTheNextOne() {
        var rng = SeededGenerator(seed: 18)
        var schedule = SnapshotSchedule(frequency: 60, lastSnapshot: 990, now: 1000, using: &rng)
        schedule.requestCatalogRefresh(dbnames: ["a"])
        let start = schedule.poll(now: 1050)
        schedule.requestCatalogRefresh(dbnames: ["b"])
        schedule.snapshotFinished(now: 1051, unconsumedCatalogRefresh: start?.catalogRefresh)
        #expect(schedule.pendingCatalogRefresh == .databases(["a", "b"]))
    }

    @Test func shorterFrequencyKeepsTheOriginOfTheLastStart() {
        var rng = SeededGenerator(seed: 19)
        var schedule = SnapshotSchedule(frequency: 300, lastSnapshot: 950, now: 1000, using: &rng)
        schedule.changeFrequency(to: 120, now: 1000, using: &rng)
        #expect(schedule.nextRegularStart == 1070)
        schedule.changeFrequency(to: 600, now: 1000, using: &rng)
        #expect(schedule.nextRegularStart == 1550)
    }

    @Test func frequencyChangeThatWouldBeOverdueIsSpread() {
        var rng = SeededGenerator(seed: 20)
        var schedule = SnapshotSchedule(frequency: 3600, lastSnapshot: 0, now: 1800, using: &rng)
        schedule.changeFrequency(to: 60, now: 1800, using: &rng)
        #expect(schedule.nextRegularStart >= 1800)
        #expect(schedule.nextRegularStart < 1860)
        #expect(schedule.frequency == 60)
    }

    @Test func tooSmallFrequencyIsRaisedToOneSecond() {
        var rng = SeededGenerator(seed: 21)
        let schedule = SnapshotSchedule(frequency: 0, lastSnapshot: 999.5, now: 1000, using: &rng)
        #expect(schedule.frequency == 1)
        #expect(schedule.nextRegularStart == 1000.5)
    }
}
