/// When one server's snapshots happen: a pure state machine that the worker
/// feeds with events (time passing, snapshot finished, forced snapshot and
/// catalog refresh requests, frequency change) and asks for decisions
/// (`nextWakeUp(now:)`, `poll(now:)`).
///
/// ## Clock
/// All times are seconds on one clock chosen by the caller. A monotonic clock
/// is best (a wall-clock step would otherwise delay or hasten snapshots); the
/// worker then converts `powa_snapshot_metas.snapts` by its age:
/// `lastSnapshot = monotonicNow - (wallNow - snapts)`.
///
/// ## Rules
/// - **Period.** Snapshots start `frequency` seconds apart, start to start:
///   when a regular snapshot starts at `s`, the next one is due at
///   `s + frequency`, however long the snapshot takes.
/// - **Spread.** When the last snapshot time is unknown (`nil`, or
///   `-infinity` in the repository) or older than one period, the first
///   snapshot is placed at a random point of `[now, now + frequency)`, so
///   that servers added together, or a collector restarted after a long stop,
///   do not all snapshot at once. When it is recent, the grid is kept: the
///   first snapshot is due at `lastSnapshot + frequency`.
/// - **Overrun.** A snapshot that runs past the next due time is never
///   interrupted; the next one starts as soon as it finishes, and only one:
///   missed periods are not caught up, since each snapshot reads cumulative
///   counters and several in a row would only add load. The grid then
///   restarts from that late start.
/// - **Forced snapshots** are refused while one runs, while one is already
///   queued, and within `ForcedSnapshotRule.minimumInterval` seconds of the last start
///   (regular or forced). Unlike the reference collector, which restarts
///   the period from every snapshot, a forced snapshot leaves the regular
///   grid alone, except that it stands in for the next regular slot when that
///   slot is less than half a period away (so two snapshots never come
///   needlessly close together). Gaps between two snapshots thus stay within
///   half a period and one and a half periods around a forced one.
/// - **Catalog refresh** requests accumulate (union, "all" absorbs) and do
///   not move the schedule; the next snapshot to start takes them.
/// - **Frequency change** (reload) keeps the last start as origin: the next
///   snapshot is due at `origin + newFrequency`, or at a random point of the
///   next new period when that time has already passed, never later than
///   one new period from now.
public struct SnapshotSchedule: Equatable, Sendable {
    enum Phase: Equatable, Sendable {
        case idle
        case running(start: Double)
    }

    /// Seconds between the starts of two regular snapshots.
    public private(set) var frequency: Double
    /// When the next regular snapshot is due.
    public private(set) var nextRegularStart: Double
    /// Start of the last snapshot, regular or forced, or of the one
    /// recorded in the repository; nil when unknown.
    public private(set) var lastStart: Double?
    /// A forced snapshot has been accepted and has not started yet.
    public private(set) var forcedSnapshotQueued: Bool = false
    /// Catalog refresh waiting for the next snapshot.
    public private(set) var pendingCatalogRefresh: CatalogRefreshRequest?
    var phase: Phase = .idle

    /// - Parameters:
    ///   - frequency: seconds between two snapshot starts; values below one
    ///     second are raised to one (PoWA itself requires at least 5).
    ///   - lastSnapshot: when the last snapshot started, from
    ///     `powa_snapshot_metas.snapts`, on this schedule's clock; nil when
    ///     unknown or `-infinity`. A time in the future (clock skew between
    ///     the repository and this machine) counts as now.
    ///   - now: the current time.
    ///   - generator: the source of the spread, injected so that tests are
    ///     deterministic.
    public init(
        frequency: Double, lastSnapshot: Double?, now: Double,
        using generator: inout some RandomNumberGenerator
    ) {
        let frequency = Self.sanitized(frequency)
        self.frequency = frequency
        if let lastSnapshot, now - lastSnapshot <= frequency {
            let last = min(lastSnapshot, now)
            self.lastStart = last
            self.nextRegularStart = last + frequency
        } else {
            self.lastStart = lastSnapshot
            self.nextRegularStart = now + Self.spread(frequency, using: &generator)
        }
    }

    /// Whether a snapshot is running (between `poll` returning a start and
    /// `snapshotFinished`).
    public var isSnapshotRunning: Bool { phase != .idle }

    /// When the worker should call `poll(now:)` next, at the latest; nil while
    /// a snapshot runs (the worker calls `snapshotFinished` first). The worker
    /// also polls after any accepted request.
    public func nextWakeUp(now: Double) -> Double? {
        guard phase == .idle else { return nil }
        return forcedSnapshotQueued ? now : nextRegularStart
    }

    /// Whether `poll(now:)` would start a snapshot.
    public func shouldStartSnapshot(now: Double) -> Bool {
        phase == .idle && (forcedSnapshotQueued || now >= nextRegularStart)
    }

    /// Starts a snapshot when one is due or forced: returns what to take
    /// along, and from then on the schedule counts a snapshot as running.
    public mutating func poll(now: Double) -> SnapshotStart? {
        guard shouldStartSnapshot(now: now) else { return nil }
        let forced = forcedSnapshotQueued
        let due = now >= nextRegularStart ? nextRegularStart : nil
        if now >= nextRegularStart {
            // Start to start; when late (overrun, suspended machine), one
            // snapshot now and the grid restarts from here: no catch-up.
            // Also after a wake-up a little late: keeping the grid then
            // shortens the next interval by as much, and the late starts
            // of a collector's first minutes would show as short intervals
            // (tried). What made every period longer was the kernel's slack
            // on long polls, now kept out (`FileDescriptorIO.pollTimeout`).
            nextRegularStart = now + frequency
        } else if nextRegularStart - now < frequency / 2 {
            // A forced snapshot close to the next slot replaces it.
            nextRegularStart += frequency
        }
        forcedSnapshotQueued = false
        lastStart = now
        phase = .running(start: now)
        let refresh = pendingCatalogRefresh
        pendingCatalogRefresh = nil
        return SnapshotStart(start: now, forced: forced, catalogRefresh: refresh, due: due)
    }

    /// The running snapshot ended, committed or not.
    ///
    /// - Parameter unconsumedCatalogRefresh: the `catalogRefresh` of the
    ///   snapshot's `SnapshotStart` when the snapshot did not commit, so that
    ///   it is tried again at the next one.
    public mutating func snapshotFinished(now: Double, unconsumedCatalogRefresh: CatalogRefreshRequest? = nil) {
        phase = .idle
        pendingCatalogRefresh = unconsumedCatalogRefresh.merging(pendingCatalogRefresh)
    }

    /// Asks for a snapshot as soon as possible. When it returns, the request
    /// is queued and the worker calls `poll(now:)`, which starts it.
    public mutating func requestForcedSnapshot(now: Double) throws(ForcedSnapshotRefusal) {
        if let refusal = ForcedSnapshotRule.refusal(
            snapshotRunning: phase != .idle, forcedSnapshotQueued: forcedSnapshotQueued,
            secondsSinceLastStart: lastStart.map { now - $0 })
        {
            throw refusal
        }
        forcedSnapshotQueued = true
    }

    /// Records a catalog refresh for the next snapshot; `dbnames` empty means
    /// every database. Does not move the schedule.
    public mutating func requestCatalogRefresh(dbnames: [String]) {
        pendingCatalogRefresh = pendingCatalogRefresh.merging(CatalogRefreshRequest(dbnames: dbnames))
    }

    /// A reload changed the frequency.
    public mutating func changeFrequency(
        to newFrequency: Double, now: Double, using generator: inout some RandomNumberGenerator
    ) {
        let newFrequency = Self.sanitized(newFrequency)
        guard newFrequency != frequency else { return }
        let origin = nextRegularStart - frequency
        frequency = newFrequency
        let next = origin + newFrequency
        if next < now {
            nextRegularStart = now + Self.spread(newFrequency, using: &generator)
        } else {
            nextRegularStart = min(next, now + newFrequency)
        }
    }

    static func sanitized(_ frequency: Double) -> Double {
        frequency.isFinite ? max(frequency, 1) : 1
    }

    static func spread(_ frequency: Double, using generator: inout some RandomNumberGenerator) -> Double {
        Double.random(in: 0..<frequency, using: &generator)
    }
}
