import Glibc
import PowaCore
import Synchronization

/// Runs the server checks on at most `width` threads and returns their
/// results in order. Threads rather than a pool sized to the cores: the
/// work is mostly waiting on libpq (a dead server waits out its
/// `connect_timeout`), so 500 servers take seconds, not minutes.
///
/// (Not generic: Swift 6.3's region-based isolation checker crashes on the
/// generic form of this function.)
enum BoundedParallelism {
    static func run(_ checks: [ServerCheck], width: Int) -> [ServerCheckResult] {
        guard !checks.isEmpty else { return [] }
        let shared = SharedWork(checks: checks)
        let threads = max(1, min(width, checks.count))
        var ids: [pthread_t] = []
        for _ in 0..<threads {
            var thread = pthread_t()
            let box = Unmanaged.passRetained(shared)
            let created = pthread_create(
                &thread, nil,
                { context in
                    Unmanaged<SharedWork>.fromOpaque(context!).takeRetainedValue().work()
                    return nil
                }, box.toOpaque())
            if created == 0 {
                ids.append(thread)
            } else {
                box.release()
            }
        }
        if ids.isEmpty { shared.work() }  // no thread could start: do it here
        for thread in ids { pthread_join(thread, nil) }
        return shared.collected()
    }

    private final class SharedWork: Sendable {
        let checks: [ServerCheck]
        let next = Mutex(0)
        let results: Mutex<[ServerCheckResult?]>

        init(checks: [ServerCheck]) {
            self.checks = checks
            results = Mutex([ServerCheckResult?](repeating: nil, count: checks.count))
        }

        func work() {
            while true {
                let index = next.withLock { value -> Int in
                    defer { value += 1 }
                    return value
                }
                guard index < checks.count else { return }
                let result = checks[index].run()
                results.withLock { $0[index] = result }
            }
        }

        func collected() -> [ServerCheckResult] {
            results.withLock { $0.compactMap { $0 } }
        }
    }
}
