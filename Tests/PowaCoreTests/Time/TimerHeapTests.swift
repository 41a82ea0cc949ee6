import Testing

@testable import PowaCore

@Suite struct TimerHeapTests {
    static func at(_ seconds: Double) -> MonotonicInstant { MonotonicInstant(seconds: seconds) }

    @Test func theEarliestDeadlineComesFirst() {
        var heap = TimerHeap<String>()
        heap.schedule("b", at: Self.at(20))
        heap.schedule("a", at: Self.at(10))
        heap.schedule("c", at: Self.at(30))
        #expect(heap.nextDeadline == Self.at(10))
        let result1 = heap.popExpired(now: Self.at(25))
        #expect(result1 == ["a", "b"])
        #expect(heap.nextDeadline == Self.at(30))
        #expect(heap.count == 1)
    }

    @Test func reschedulingMovesTheKeyAndLeavesNoGhost() {
        var heap = TimerHeap<String>()
        heap.schedule("a", at: Self.at(10))
        heap.schedule("a", at: Self.at(50))
        heap.schedule("b", at: Self.at(20))
        #expect(heap.nextDeadline == Self.at(20))
        let result2 = heap.popExpired(now: Self.at(40))
        #expect(result2 == ["b"])
        let result3 = heap.popExpired(now: Self.at(60))
        #expect(result3 == ["a"])
        #expect(heap.nextDeadline == nil)
    }

    @Test func aCancelledKeyNeverFires() {
        var heap = TimerHeap<Int>()
        heap.schedule(1, at: Self.at(10))
        heap.schedule(2, at: Self.at(11))
        heap.cancel(1)
        heap.cancel(3)  // not armed: nothing happens
        #expect(heap.nextDeadline == Self.at(11))
        let result4 = heap.popExpired(now: Self.at(100))
        #expect(result4 == [2])
        #expect(heap.deadline(of: 1) == nil)
    }

    /// Every worker message moves its deadline: the heap must not grow
    /// with the number of moves, and must still answer right.
    @Test func manyMovesStayCompactAndCorrect() {
        var heap = TimerHeap<Int>()
        for round in 0..<200 {
            for key in 0..<100 { heap.schedule(key, at: Self.at(Double(1000 + round * 100 + key))) }
        }
        #expect(heap.count == 100)
        #expect(heap.nextDeadline == Self.at(Double(1000 + 199 * 100)))
        let due = heap.popExpired(now: Self.at(Double(1000 + 199 * 100 + 49)))
        #expect(due == Array(0..<50))
    }
}

@Suite struct PresenceClockTests {
    @Test func followsTheClockWhileTheLoopIsOnTime() {
        var clock = PresenceClock(tolerance: .milliseconds(1500), origin: MonotonicInstant(seconds: 0))
        clock.observe(MonotonicInstant(seconds: 100))
        for second in 1...10 {
            let result5 = clock.observe(MonotonicInstant(seconds: 100 + Double(second)))
            #expect(result5 == .zero)
        }
        #expect(clock.now == MonotonicInstant(seconds: 110))
    }

    /// A 35 s stop counts 1.5 s: no worker is blamed for it.
    @Test func aGapCountsOnlyTheTolerance() {
        var clock = PresenceClock(tolerance: .milliseconds(1500), origin: MonotonicInstant(seconds: 0))
        clock.observe(MonotonicInstant(seconds: 100))
        let result6 = clock.observe(MonotonicInstant(seconds: 135))
        #expect(result6 == .milliseconds(33_500))
        #expect(clock.now == MonotonicInstant(seconds: 101.5))
        #expect(clock.absence == .milliseconds(33_500))
        clock.observe(MonotonicInstant(seconds: 136))
        #expect(clock.now == MonotonicInstant(seconds: 102.5))
    }

    @Test func neverGoesBackwards() {
        var clock = PresenceClock(tolerance: .seconds(1), origin: MonotonicInstant(seconds: 0))
        clock.observe(MonotonicInstant(seconds: 10))
        clock.observe(MonotonicInstant(seconds: 9))
        #expect(clock.now == MonotonicInstant(seconds: 10))
    }
}

@Suite struct MonotonicInstantTests {
    @Test func arithmeticIsExact() {
        let instant = MonotonicInstant(seconds: 1.25)
        #expect(instant + .milliseconds(750) == MonotonicInstant(seconds: 2))
        #expect(MonotonicInstant(seconds: 2) - instant == .milliseconds(750))
        #expect((instant - .seconds(1)).seconds == 0.25)
        #expect(Duration.fromSeconds(0.5).inSeconds == 0.5)
    }
}
