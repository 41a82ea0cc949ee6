import Glibc
import PowaCore
import TestSupport
import Testing

/// What an idle worker costs the machine between snapshots: at 1,000
/// servers a wake-up a second each is 1,000 context switches a second.
@Suite(.enabled(if: TestEnvironment.isAvailable, "needs scripts/pg-env.sh (run scripts/test)"))
struct WorkerIdleWakeupTests {
    /// Voluntary context switches of a process's main thread: one per wait
    /// that slept.
    static func mainThreadWakeUps(_ pid: pid_t) -> Int? {
        guard let file = fopen("/proc/\(pid)/task/\(pid)/status", "r") else { return nil }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if text.hasPrefix("voluntary_ctxt_switches:") {
                return Int(String(text.split(separator: ":")[1].filter(\.isNumber)))
            }
        }
        return nil
    }

    /// Idle, the control thread has nothing to do before its next heartbeat
    /// (60 s): it must not wake every second to look at the collector.
    @Test func anIdleWorkersControlThreadSleepsUntilItsNextHeartbeat() throws {
        let worker = try WorkerProcess()
        try worker.send(.start(WorkerInputTests.unreachable))
        #expect(worker.waitForStatus(timeout: 5) { $0.status == WorkerStatusText.noRemoteConnection } != nil)
        usleep(500_000)
        let before = try #require(Self.mainThreadWakeUps(worker.pid))
        usleep(6_000_000)
        let after = try #require(Self.mainThreadWakeUps(worker.pid))
        #expect(after - before < 3, "the control thread woke \(after - before) times in 6 s while idle")
        try worker.send(.stop)
        #expect(worker.waitForExit(timeout: 3) == .exited(0))
    }
}
