import Testing

@testable import ProcessSupport

/// A loop that waits for a deadline must not wake before it: a timeout
/// rounded down woke the worker's collector thread up to a millisecond
/// early, and it then polled with a timeout of 0 until the deadline passed.
@Suite struct PollTimeoutTests {
    @Test func aFractionOfAMillisecondIsWaitedAsAWholeOne() {
        #expect(FileDescriptorIO.pollTimeout(seconds: 0.0004) == 1)
        #expect(FileDescriptorIO.pollTimeout(seconds: 59.9996) == 60_000)
        #expect(FileDescriptorIO.pollTimeout(seconds: 2) == 2_000)
    }

    @Test func aDeadlinePassedDoesNotWait() {
        #expect(FileDescriptorIO.pollTimeout(seconds: 0) == 0)
        #expect(FileDescriptorIO.pollTimeout(seconds: -3) == 0)
    }

    @Test func longWaitsStopAtTheLimit() {
        #expect(FileDescriptorIO.pollTimeout(seconds: 5, limitMilliseconds: 1_000) == 1_000)
        #expect(FileDescriptorIO.pollTimeout(seconds: .infinity) == 3_600_000)
        #expect(FileDescriptorIO.pollTimeout(seconds: 1e12) == 3_600_000)
    }
}
