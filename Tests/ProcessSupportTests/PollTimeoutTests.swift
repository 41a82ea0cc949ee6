import Testing

@testable import ProcessSupport

/// A loop waiting for a deadline (the worker's next snapshot, its next
/// heartbeat) must wake close to it: neither before, where a timeout
/// rounded down had it poll with 0 until the deadline passed, nor after,
/// where the kernel's slack on a long poll made every 60 s period of a
/// worker (nice 5) last 60.1 s.
@Suite struct PollTimeoutTests {
    /// When the kernel adds its largest slack, the wake-up is still not
    /// after the deadline (or by at most a millisecond for short waits).
    @Test(arguments: [0.05, 0.3, 1, 3, 19.95, 20, 59.9996, 60, 300, 3000])
    func theKernelsSlackDoesNotCarryAWakeUpPastTheDeadline(seconds: Double) {
        let timeout = Double(FileDescriptorIO.pollTimeout(seconds: seconds)) / 1000
        let latest = timeout + FileDescriptorIO.kernelPollSlack(timeoutSeconds: timeout)
        #expect(latest <= seconds + 0.0015)
        #expect(timeout >= seconds - FileDescriptorIO.kernelPollSlack(timeoutSeconds: seconds) - 0.001)
    }

    /// A wait split by the slack ends in a few polls, not in a spin.
    @Test func aLongWaitTakesAFewPolls() {
        var left = 60.0
        var polls = 0
        while left > 0.0015 {
            let timeout = Double(FileDescriptorIO.pollTimeout(seconds: left)) / 1000
            left -= timeout + FileDescriptorIO.kernelPollSlack(timeoutSeconds: timeout)
            polls += 1
            #expect(polls <= 4)
            if polls > 4 { break }
        }
        #expect(left >= -0.0015)
    }

    @Test func aFractionOfAMillisecondIsWaitedAsAWholeOne() {
        #expect(FileDescriptorIO.pollTimeout(seconds: 0.0004) == 1)
        #expect(FileDescriptorIO.pollTimeout(seconds: 0.0996) == 100)
    }

    @Test func aDeadlinePassedDoesNotWait() {
        #expect(FileDescriptorIO.pollTimeout(seconds: 0) == 0)
        #expect(FileDescriptorIO.pollTimeout(seconds: -3) == 0)
        #expect(FileDescriptorIO.pollTimeout(seconds: .nan) == 0)
    }

    @Test func longWaitsStopAtTheLimit() {
        #expect(FileDescriptorIO.pollTimeout(seconds: 5, limitMilliseconds: 1_000) == 1_000)
        #expect(FileDescriptorIO.pollTimeout(seconds: .infinity) == 3_600_000)
        #expect(FileDescriptorIO.pollTimeout(seconds: 1e12) == 3_600_000)
    }
}
