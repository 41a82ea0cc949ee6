import Testing

@testable import PowaCore

@Suite struct SpawnPacerTests {
    @Test func aBurstThenOnePerInterval() {
        var pacer = SpawnPacer(burst: 3, perSecond: 10)
        let t0 = MonotonicInstant(seconds: 50)
        var burst = 0
        for _ in 0..<5 where pacer.take(now: t0) { burst += 1 }
        #expect(burst == 3)
        let result18 = pacer.nextAvailable(now: t0)
        #expect(result18 == t0 + .milliseconds(100))
        let result19 = pacer.take(now: t0 + .milliseconds(99))
        #expect(!result19)
        let result20 = pacer.take(now: t0 + .milliseconds(100))
        #expect(result20)
        let result21 = pacer.take(now: t0 + .milliseconds(150))
        #expect(!result21)
        // A quiet second refills the burst, no more.
        let later = t0 + .seconds(5)
        var refilled = 0
        for _ in 0..<10 where pacer.take(now: later) { refilled += 1 }
        #expect(refilled == 3)
    }
}
