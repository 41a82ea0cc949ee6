/// Admission control for the repository: at most `capacity` workers hold a
/// snapshot slot (connect to the repository and write) at once; the others
/// wait in the order they asked, each keeping its place.
///
/// A pure value keyed by server id. The supervisor asks it on a worker's
/// `slot_request`, `slot_release` and exit, and sends `slot_granted` to
/// every id it returns.
public struct SnapshotSlots: Equatable, Sendable {
    public enum Standing: Equatable, Sendable {
        case none
        case holding(since: MonotonicInstant)
        case waiting(since: MonotonicInstant)
    }

    public private(set) var capacity: Int
    private var holders: [Int: MonotonicInstant] = [:]
    /// Who waits, and since when; `queue` gives the order.
    private var waiters: [Int: (since: MonotonicInstant, ticket: UInt64)] = [:]
    /// Waiters in order of arrival, with the ticket they got; entries whose
    /// ticket no longer matches (withdrawn) are skipped when reached.
    private var queue: [(id: Int, ticket: UInt64)] = []
    private var queueHead = 0
    private var nextTicket: UInt64 = 0

    public init(capacity: Int) {
        precondition(capacity >= 1, "at least one snapshot slot")
        self.capacity = capacity
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.capacity == b.capacity && a.holders == b.holders && a.waitingOrder == b.waitingOrder
    }

    public var holderCount: Int { holders.count }
    public var waitingCount: Int { waiters.count }

    /// Ids waiting, first in line first (O(waiting); for tests and status).
    public var waitingOrder: [Int] {
        queue[queueHead...].filter { waiters[$0.id]?.ticket == $0.ticket }.map(\.id)
    }

    public func standing(of id: Int) -> Standing {
        if let since = holders[id] { return .holding(since: since) }
        if let waiter = waiters[id] { return .waiting(since: waiter.since) }
        return .none
    }

    /// `id` asks for a slot. Returns true when it holds one now (granted at
    /// once, or already held: a repeated request is answered again); false
    /// when it waits (a repeated request keeps its place).
    public mutating func request(_ id: Int, now: MonotonicInstant) -> Bool {
        if holders[id] != nil { return true }
        if waiters[id] != nil { return false }
        if holders.count < capacity && waiters.isEmpty {
            holders[id] = now
            return true
        }
        nextTicket += 1
        waiters[id] = (now, nextTicket)
        queue.append((id, nextTicket))
        return false
    }

    /// `id` gives its slot back, or stops waiting (its snapshot ended, its
    /// process died). Returns the ids granted a slot as a result, in order.
    public mutating func release(_ id: Int, now: MonotonicInstant) -> [Int] {
        holders[id] = nil
        waiters[id] = nil
        return grant(now: now)
    }

    /// A new limit (reload). Lowering it takes no slot back: holders finish
    /// their snapshot, and fewer are granted until the count is below it.
    public mutating func setCapacity(_ newCapacity: Int, now: MonotonicInstant) -> [Int] {
        precondition(newCapacity >= 1, "at least one snapshot slot")
        capacity = newCapacity
        return grant(now: now)
    }

    private mutating func grant(now: MonotonicInstant) -> [Int] {
        var granted: [Int] = []
        while holders.count < capacity, queueHead < queue.count {
            let next = queue[queueHead]
            queueHead += 1
            guard waiters[next.id]?.ticket == next.ticket else { continue }
            waiters[next.id] = nil
            holders[next.id] = now
            granted.append(next.id)
        }
        if queueHead > 1024, queueHead * 2 > queue.count {
            queue.removeFirst(queueHead)
            queueHead = 0
        }
        return granted
    }
}
