import HeapModule

/// One deadline per key, the earliest found in O(1) and every change in
/// O(log n): the supervisor arms one timer per worker (and a few of its
/// own) instead of scanning every worker for the next deadline.
///
/// Rescheduling or cancelling a key leaves its old entry in the heap; such
/// stale entries are recognised by their generation and dropped when they
/// reach the top, so no operation searches the heap.
public struct TimerHeap<Key: Hashable & Sendable>: Sendable {
    private struct Entry: Comparable, Sendable {
        var deadline: MonotonicInstant
        var generation: UInt64
        var key: Key

        static func < (a: Entry, b: Entry) -> Bool {
            (a.deadline, a.generation) < (b.deadline, b.generation)
        }

        static func == (a: Entry, b: Entry) -> Bool {
            a.deadline == b.deadline && a.generation == b.generation
        }
    }

    private var heap = Heap<Entry>()
    /// The live entry of each key: its deadline and generation.
    private var armed: [Key: (deadline: MonotonicInstant, generation: UInt64)] = [:]
    private var nextGeneration: UInt64 = 0

    public init() {}

    /// Number of armed keys.
    public var count: Int { armed.count }

    /// The deadline of `key`, or nil when it is not armed.
    public func deadline(of key: Key) -> MonotonicInstant? { armed[key]?.deadline }

    /// Arms `key` at `deadline`, replacing its previous deadline.
    public mutating func schedule(_ key: Key, at deadline: MonotonicInstant) {
        if let current = armed[key], current.deadline == deadline { return }
        nextGeneration += 1
        armed[key] = (deadline, nextGeneration)
        heap.insert(Entry(deadline: deadline, generation: nextGeneration, key: key))
        dropStaleTop()
        compactIfMostlyStale()
    }

    /// Disarms `key`; nothing happens when it is not armed.
    public mutating func cancel(_ key: Key) {
        armed[key] = nil
        dropStaleTop()
    }

    /// The earliest armed deadline. (The top of the heap is always live:
    /// every change drops stale entries from the top.)
    public var nextDeadline: MonotonicInstant? { heap.min?.deadline }

    /// Disarms and returns the keys due at `now`, earliest first.
    public mutating func popExpired(now: MonotonicInstant) -> [Key] {
        var due: [Key] = []
        while true {
            dropStaleTop()
            guard let top = heap.min, top.deadline <= now else { break }
            heap.removeMin()
            armed[top.key] = nil
            due.append(top.key)
        }
        dropStaleTop()
        return due
    }

    private func isLive(_ entry: Entry) -> Bool {
        armed[entry.key]?.generation == entry.generation
    }

    private mutating func dropStaleTop() {
        while let top = heap.min, !isLive(top) { heap.removeMin() }
    }

    /// Rebuilds the heap when stale entries outnumber live ones four to
    /// one, so that memory stays proportional to the armed keys (every
    /// message from a worker moves its deadline).
    private mutating func compactIfMostlyStale() {
        guard heap.count > 64, heap.count > 4 * armed.count else { return }
        heap = Heap(armed.map { Entry(deadline: $0.value.deadline, generation: $0.value.generation, key: $0.key) })
    }
}
