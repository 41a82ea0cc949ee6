import Testing

@testable import PowaCore

/// The one rule behind both the supervisor's `FORCE_SNAPSHOT` answers and
/// the worker's own refusals.
@Suite struct ForcedSnapshotRuleTests {
    @Test func refusalsInTheirOrderOfPrecedence() {
        #expect(
            ForcedSnapshotRule.refusal(snapshotRunning: true, forcedSnapshotQueued: true, secondsSinceLastStart: 1)
                == .snapshotInProgress)
        #expect(
            ForcedSnapshotRule.refusal(snapshotRunning: false, forcedSnapshotQueued: true, secondsSinceLastStart: 1)
                == .alreadyQueued)
        #expect(
            ForcedSnapshotRule.refusal(snapshotRunning: false, forcedSnapshotQueued: false, secondsSinceLastStart: 9.9)
                == .tooSoon(secondsSinceLastStart: 9.9))
    }

    @Test func acceptedTenSecondsAfterTheLastStartOrWithNoneKnown() {
        #expect(
            ForcedSnapshotRule.refusal(snapshotRunning: false, forcedSnapshotQueued: false, secondsSinceLastStart: 10)
                == nil)
        #expect(
            ForcedSnapshotRule.refusal(snapshotRunning: false, forcedSnapshotQueued: false, secondsSinceLastStart: nil)
                == nil)
    }

    /// The texts powa-web shows, whichever side refused.
    @Test func refusalTextsAreTheAnswersPowaWebShows() {
        #expect(ForcedSnapshotRefusal.snapshotInProgress.description == "a snapshot is already running")
        #expect(ForcedSnapshotRefusal.alreadyQueued.description == "a forced snapshot is already queued")
        #expect(
            ForcedSnapshotRefusal.tooSoon(secondsSinceLastStart: 3).description
                == "the last snapshot started less than 10 s ago")
    }
}
