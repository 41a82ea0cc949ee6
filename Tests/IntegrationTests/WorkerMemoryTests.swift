import Glibc
import PowaCore
import TestSupport
import Testing

/// What keeps a worker small at 1,000 servers, checked as behavior (the
/// figures themselves come from `scripts/worker-memory` and the
/// benchmark): a worker's threads share one malloc arena, whatever they did,
/// and keep no per-thread cache of freed chunks.
@Suite(.enabled(if: TestEnvironment.isAvailable)) struct WorkerMemoryTests {
    @Test func launcherForkedWorkersKeepOneMallocArenaThroughSnapshots() async throws {
        try await withCollectorRepository(powaMajor: 4) { repository in
            let ids = try [39, 40].map { try repository.registerServer(address: $0, frequency: 5) }
            try await withCollector(on: repository) { supervisor in
                func snapshots() throws -> Int {
                    try ids.map { try repository.snapshotTimes(srvid: $0).count }.min() ?? 0
                }
                let first = try await eventually(timeout: 30, interval: 0.25) { try snapshots() >= 1 }
                try #require(first, "\(supervisor.logTail())")
                #expect(supervisor.launcherPid() != nil)
                let workers = supervisor.workerPids()
                try #require(workers.count == 2)
                let more = try await eventually(timeout: 40, interval: 0.25) { try snapshots() >= 3 }
                try #require(more, "\(supervisor.logTail())")
                #expect(supervisor.workerPids() == workers)
                for worker in workers {
                    // The collector thread allocates in the main arena: a
                    // second one (its own heap, every page of which it
                    // ever used stays dirty) would be private to each worker.
                    #expect(ProcessMemory.extraMallocArenas(pid: worker) == 0)
                    // No per-thread cache of freed chunks, which
                    // `malloc_trim` would leave dirty all over the heap.
                    let environment = TemporaryDirectory.readFile("/proc/\(worker)/environ") ?? ""
                    #expect(
                        environment.split(separator: "\0").contains {
                            $0.hasPrefix("GLIBC_TUNABLES=") && $0.contains("glibc.malloc.tcache_count=0")
                        })
                    let privateDirty = ProcessMemory.rollup("Private_Dirty", pid: worker) ?? 0
                    print("worker \(worker): private dirty \(privateDirty) kB after 3 snapshots")
                }
            }
        }
    }
}
