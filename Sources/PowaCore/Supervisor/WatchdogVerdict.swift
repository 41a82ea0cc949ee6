/// What the watchdog decides about a suspect once its pipe was read and
/// its process sampled: slow is not dead.
enum WatchdogVerdict: Equatable, Sendable {
    /// Given `slowWorkerExtension` more; `usingCPU` when a second sample
    /// showed progress (worth a warning: the machine is starved).
    case spare(usingCPU: Bool)
    /// Ended, for this reason (words for the log).
    case end(reason: String)
}

extension RunningWorkerProcess.Suspicion {
    /// Judges a suspect from `sample` (nil: `/proc` unreadable) and what
    /// earlier checks saw, and records the extension when it is spared.
    ///
    /// Stopped or unreadable: ended at once. First check: spared once, to
    /// take a second sample. Later checks: spared while its CPU time grows,
    /// at most `maximumSlowExtensions` times in all; ended otherwise.
    mutating func judge(_ sample: ProcessSample?, now: MonotonicInstant, timings: SupervisorTimings) -> WatchdogVerdict
    {
        guard let sample else { return .end(reason: "its process cannot be inspected") }
        if sample.isStopped { return .end(reason: "its process is stopped") }
        if extensions >= timings.maximumSlowExtensions {
            return .end(reason: "still silent after \(extensions) checks")
        }
        let previous = self.sample
        if let previous, sample.cpuTicks <= previous.cpuTicks { return .end(reason: "not using any CPU") }
        self.sample = sample
        extensions += 1
        extendedUntil = now + timings.slowWorkerExtension
        return .spare(usingCPU: previous != nil)
    }
}
