import Testing

@testable import PowaCore

/// The first warning of a kind is logged as it is, the rest of a window
/// only counted and summed up in one line: at most one line per kind per
/// interval, however many requests.
@Suite struct RequestLogThrottleTests {
    static let kind = "refused RELOAD: the sender is not permitted"

    @Test func theFirstOfAKindIsLoggedInFull() {
        var throttle = RequestLogThrottle(interval: .seconds(10))
        #expect(
            throttle.record(
                kind: Self.kind, message: "refused RELOAD: the sender is not permitted",
                sender: 7, now: at(100)) == ["refused RELOAD: the sender is not permitted"])
        #expect(throttle.nextSummaryDue == nil, "nothing held back yet")
        // Another kind is not held back by the first.
        #expect(throttle.record(kind: "other", message: "other thing", sender: 7, now: at(101)) == ["other thing"])
    }

    @Test func theRestOfAWindowComesAsOneSummaryWithCountsPerSender() {
        var throttle = RequestLogThrottle(interval: .seconds(10))
        _ = throttle.record(kind: Self.kind, message: "first", sender: 7, now: at(100))
        for index in 0..<1_999 {
            let lines = throttle.record(
                kind: Self.kind, message: "again", sender: index < 1_500 ? 7 : 8,
                now: at(100 + Double(index) / 400))
            #expect(lines.isEmpty)
        }
        #expect(throttle.nextSummaryDue == at(110))
        #expect(throttle.flush(now: at(109.9)).isEmpty)
        #expect(
            throttle.flush(now: at(110))
                == ["\(Self.kind): 1999 more in the last 10 s (backend 7: 1500, backend 8: 499)"])
        #expect(throttle.nextSummaryDue == nil)
        // The summary opened a window: within it, still counted.
        #expect(throttle.record(kind: Self.kind, message: "again", sender: 9, now: at(111)).isEmpty)
        #expect(throttle.flush(now: at(120)) == ["\(Self.kind): 1 more in the last 10 s (backend 9: 1)"])
        // After a quiet window, the next one is a first again.
        #expect(throttle.flush(now: at(130)).isEmpty)
        #expect(throttle.record(kind: Self.kind, message: "first again", sender: 9, now: at(200)) == ["first again"])
    }

    @Test func anOccurrenceAfterTheWindowBringsTheSummaryWithIt() {
        var throttle = RequestLogThrottle(interval: .seconds(10))
        _ = throttle.record(kind: Self.kind, message: "first", sender: 7, now: at(100))
        _ = throttle.record(kind: Self.kind, message: "again", sender: 7, now: at(101))
        #expect(
            throttle.record(kind: Self.kind, message: "again", sender: 7, now: at(112))
                == ["\(Self.kind): 2 more in the last 12 s (backend 7: 2)"])
        // A new window opened with it: the next ones are held back again.
        #expect(throttle.record(kind: Self.kind, message: "again", sender: 7, now: at(113)).isEmpty)
        #expect(throttle.nextSummaryDue == at(122))
    }

    @Test func aFloodFromEverNewBackendsStaysOneLinePerIntervalAndBoundedMemory() {
        var throttle = RequestLogThrottle(interval: .seconds(10))
        var lines: [String] = []
        // 100,000 requests over 100 s, each from a new backend.
        for index in 0..<100_000 {
            let now = 1_000 + Double(index) / 1_000
            lines += throttle.record(kind: Self.kind, message: "refused", sender: Int32(index + 1), now: at(now))
            lines += throttle.flush(now: at(now))
        }
        lines += throttle.flush(now: at(2_000))
        #expect(lines.count <= 12, "\(lines.count) lines")
        #expect(lines.first == "refused")
        let summary = lines[1]
        #expect(summary.contains("backend 2: 1, backend 3: 1, backend 4: 1, "))
        #expect(summary.hasSuffix("other senders: 9997)"), "\(summary)")
    }

    @Test func summariesComeOutInKindOrderWhenSeveralAreDue() {
        var throttle = RequestLogThrottle(interval: .seconds(5))
        for kind in ["b", "a"] {
            _ = throttle.record(kind: kind, message: kind, sender: 1, now: at(0))
            _ = throttle.record(kind: kind, message: kind, sender: 1, now: at(1))
        }
        #expect(
            throttle.flush(now: at(5)) == [
                "a: 1 more in the last 5 s (backend 1: 1)", "b: 1 more in the last 5 s (backend 1: 1)",
            ])
        #expect(throttle.record(kind: "a", message: "a", sender: 0, now: at(6)).isEmpty)
        #expect(throttle.flush(now: at(10)) == ["a: 1 more in the last 5 s (unknown backend: 1)"])
        // b stayed quiet for its whole second window: forgotten, a first again.
        #expect(throttle.record(kind: "b", message: "b", sender: 0, now: at(11)) == ["b"])
    }
}

/// A point on the test's clock, in seconds.
private func at(_ seconds: Double) -> MonotonicInstant { MonotonicInstant(seconds: seconds) }
