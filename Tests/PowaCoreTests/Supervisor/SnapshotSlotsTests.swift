import Testing

@testable import PowaCore

@Suite struct SnapshotSlotsTests {
    static let t0 = MonotonicInstant(seconds: 100)

    @Test func grantsUpToTheCapacityThenQueuesInOrder() {
        var slots = SnapshotSlots(capacity: 2)
        let result1 = slots.request(1, now: Self.t0)
        #expect(result1)
        let result2 = slots.request(2, now: Self.t0)
        #expect(result2)
        let result3 = slots.request(3, now: Self.t0)
        #expect(!result3)
        let result4 = slots.request(4, now: Self.t0)
        #expect(!result4)
        #expect(slots.waitingOrder == [3, 4])
        let result5 = slots.release(2, now: Self.t0)
        #expect(result5 == [3])
        let result6 = slots.release(1, now: Self.t0)
        #expect(result6 == [4])
        #expect(slots.holderCount == 2)
        #expect(slots.waitingCount == 0)
    }

    @Test func aRepeatedRequestKeepsItsPlaceOrItsSlot() {
        var slots = SnapshotSlots(capacity: 1)
        let result7 = slots.request(1, now: Self.t0)
        #expect(result7)
        let result8 = slots.request(1, now: Self.t0)
        #expect(result8, "already held: answered again")
        let result9 = slots.request(2, now: Self.t0)
        #expect(!result9)
        let result10 = slots.request(3, now: Self.t0)
        #expect(!result10)
        let result11 = slots.request(2, now: Self.t0 + .seconds(5))
        #expect(!result11)
        #expect(slots.waitingOrder == [2, 3])
        #expect(slots.standing(of: 2) == .waiting(since: Self.t0))
    }

    /// A worker that dies while waiting leaves the line; one that dies
    /// holding a slot gives it to the first in line.
    @Test func aWithdrawnWaiterIsSkippedAndADeadHolderReleases() {
        var slots = SnapshotSlots(capacity: 1)
        _ = slots.request(1, now: Self.t0)
        _ = slots.request(2, now: Self.t0)
        _ = slots.request(3, now: Self.t0)
        let result12 = slots.release(2, now: Self.t0)
        #expect(result12.isEmpty)
        #expect(slots.waitingOrder == [3])
        let result13 = slots.release(1, now: Self.t0 + .seconds(1))
        #expect(result13 == [3])
        #expect(slots.standing(of: 3) == .holding(since: Self.t0 + .seconds(1)))
        #expect(slots.standing(of: 1) == .none)
    }

    @Test func aNewcomerDoesNotOvertakeTheLine() {
        var slots = SnapshotSlots(capacity: 2)
        _ = slots.request(1, now: Self.t0)
        _ = slots.request(2, now: Self.t0)
        _ = slots.request(3, now: Self.t0)
        _ = slots.setCapacity(1, now: Self.t0)
        let result14 = slots.release(1, now: Self.t0)
        #expect(result14.isEmpty, "still one holder at capacity 1")
        let result15 = slots.request(4, now: Self.t0)
        #expect(!result15)
        let result16 = slots.release(2, now: Self.t0)
        #expect(result16 == [3])
    }

    @Test func raisingTheCapacityGrantsTheWaiters() {
        var slots = SnapshotSlots(capacity: 1)
        for id in 1...4 { _ = slots.request(id, now: Self.t0) }
        let result17 = slots.setCapacity(3, now: Self.t0)
        #expect(result17 == [2, 3])
        #expect(slots.waitingOrder == [4])
    }

    /// Thousands of requests and releases: the queue's memory is reused.
    @Test func longRunsStayCorrect() {
        var slots = SnapshotSlots(capacity: 3)
        var granted: [Int] = []
        for id in 0..<5000 {
            if slots.request(id, now: Self.t0) { granted.append(id) }
            if id >= 3 { granted += slots.release(id - 3, now: Self.t0) }
        }
        #expect(granted == Array(0..<granted.count))
        #expect(slots.holderCount == 3)
    }
}
