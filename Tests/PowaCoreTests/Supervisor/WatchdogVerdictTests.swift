import Testing

@testable import PowaCore

@Suite struct WatchdogVerdictTests {
    let timings = SupervisorTimings.standard

    @Test func aStoppedOrUninspectableProcessIsEndedAtOnce() {
        var suspicion = RunningWorkerProcess.Suspicion()
        #expect(
            suspicion.judge(ProcessSample(state: "T", cpuTicks: 9), now: MonotonicInstant(seconds: 0), timings: timings)
                == .end(reason: "its process is stopped"))
        #expect(
            suspicion.judge(nil, now: MonotonicInstant(seconds: 0), timings: timings)
                == .end(reason: "its process cannot be inspected"))
        #expect(suspicion.extensions == 0)
    }

    @Test func theFirstCheckSparesOnceForASecondSample() {
        var suspicion = RunningWorkerProcess.Suspicion()
        #expect(
            suspicion.judge(
                ProcessSample(state: "S", cpuTicks: 5), now: MonotonicInstant(seconds: 100), timings: timings)
                == .spare(usingCPU: false))
        #expect(suspicion.extendedUntil == MonotonicInstant(seconds: 100) + timings.slowWorkerExtension)
        #expect(
            suspicion.judge(
                ProcessSample(state: "S", cpuTicks: 5), now: MonotonicInstant(seconds: 110), timings: timings)
                == .end(reason: "not using any CPU"))
    }

    @Test func progressIsSparedUpToTheLimit() {
        var suspicion = RunningWorkerProcess.Suspicion()
        var verdicts: [WatchdogVerdict] = []
        for round in 0...timings.maximumSlowExtensions {
            verdicts.append(
                suspicion.judge(
                    ProcessSample(state: "R", cpuTicks: round * 10), now: MonotonicInstant(seconds: Double(round)),
                    timings: timings))
        }
        #expect(verdicts.first == .spare(usingCPU: false))
        #expect(verdicts.dropFirst().dropLast().allSatisfy { $0 == .spare(usingCPU: true) })
        #expect(verdicts.last == .end(reason: "still silent after \(timings.maximumSlowExtensions) checks"))
    }
}
