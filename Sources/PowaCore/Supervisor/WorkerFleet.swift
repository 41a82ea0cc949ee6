import Logging

/// Every worker of the collector, and what they share: the snapshot slots,
/// the spawn pacer and its queue, one timer per worker, the pid index, and
/// the processes being ended after their server left.
///
/// Each worker's transitions are its own (`WorkerMachine`); the fleet
/// routes an input to the one worker it concerns, found by server id or
/// pid in O(1), and applies what the worker's step asks (a slot released,
/// a place in the spawn queue, its timer re-armed). No input scans the
/// fleet, except those that are about all of it: a new server list, the
/// start of a shutdown, a status or metrics listing.
struct WorkerFleet: Sendable {
    enum Mode: Equatable, Sendable {
        case collecting
        /// Every process was sent `stop`; nothing is spawned or judged any
        /// more, and what is left is killed at `killAt`.
        case stopping(killAt: MonotonicInstant)
    }

    /// What a fleet timer is for.
    enum TimerKey: Hashable, Sendable {
        /// A worker's one deadline (`WorkerMachine.deadline`).
        case worker(srvid: Int)
        /// SIGKILL for a process that was sent `stop`.
        case retiring(pid: Int32)
        case spawnPacing
    }

    private let timings: SupervisorTimings
    private(set) var mode: Mode = .collecting
    private var workers: [Int: WorkerMachine] = [:]
    /// The server id of each worker process (running or being ended), so
    /// that a line or an exit finds its worker without a scan.
    private var srvidByPid: [Int32: Int] = [:]
    private var retiring: [Int32: RetiringWorkerProcess] = [:]
    /// How many retiring processes each server has, so that one server's
    /// status is found without a scan.
    private var retiringBySrvid: [Int: Int] = [:]
    private(set) var slots = SnapshotSlots(capacity: CollectorConfiguration.defaultMaxConcurrentSnapshots)
    private var pacer: SpawnPacer
    /// Servers waiting for the pacer, in order; entries whose worker is no
    /// longer `waitingToSpawn` are skipped.
    private var spawnQueue: [Int] = []
    private var spawnQueueHead = 0
    private var timers = TimerHeap<TimerKey>()
    /// What the current call decided, handed back when it returns.
    private var actions: [SupervisorAction] = []

    init(timings: SupervisorTimings) {
        self.timings = timings
        pacer = SpawnPacer(burst: timings.spawnBurst, perSecond: timings.spawnsPerSecond)
    }

    // MARK: - What the supervisor reads

    var nextDeadline: MonotonicInstant? { timers.nextDeadline }

    /// No worker and no process left to end.
    var isEmpty: Bool { workers.isEmpty && retiring.isEmpty }

    func hasWorker(srvid: Int) -> Bool { workers[srvid] != nil }

    /// How many servers have a worker.
    var workerCount: Int { workers.count }

    /// The servers that have a worker (for a coordination round).
    var workerSrvids: Set<Int> { Set(workers.keys) }

    /// The servers whose former process is still being ended: not released
    /// to another instance before it is gone.
    var retiringSrvids: Set<Int> { Set(retiringBySrvid.keys) }

    /// The status of one server's worker, as `WORKERS_STATUS` reports it:
    /// `stopping` for a removed server whose process is still exiting, and
    /// for every worker once the fleet is stopping.
    func status(of srvid: Int, now: MonotonicInstant) -> String? {
        if let worker = workers[srvid] {
            return mode == .collecting ? worker.statusText(now: now) : WorkerStatusText.stopping
        }
        return retiringBySrvid[srvid] != nil ? WorkerStatusText.stopping : nil
    }

    /// Every server's status (a listing: reads every worker).
    func statuses(now: MonotonicInstant) -> [Int: String] {
        var statuses: [Int: String] = [:]
        for process in retiring.values { statuses[process.srvid] = WorkerStatusText.stopping }
        for (srvid, worker) in workers {
            statuses[srvid] = mode == .collecting ? worker.statusText(now: now) : WorkerStatusText.stopping
        }
        return statuses
    }

    /// Every server's metrics line, by server id (for a scrape).
    func metrics(now: MonotonicInstant) -> [ServerMetrics] {
        var servers = workers.keys.sorted().map { workers[$0]!.metrics(now: now) }
        for process in retiring.values.sorted(by: { $0.srvid < $1.srvid }) where workers[process.srvid] == nil {
            servers.append(
                ServerMetrics(srvid: process.srvid, name: process.name, status: WorkerStatusText.stopping, up: false))
        }
        if mode != .collecting {
            for index in servers.indices {
                servers[index].status = WorkerStatusText.stopping
                servers[index].up = false
            }
        }
        return servers
    }

    // MARK: - Server list

    /// Makes the workers match `wanted`: spawns added servers, stops removed
    /// ones (`removal` says why, for the log), passes changed
    /// configurations on and, when `updatingVersions`, asks every running
    /// worker to store the remote's versions again.
    mutating func apply(
        _ wanted: [Int: WorkerConfiguration], now: MonotonicInstant, updatingVersions: Bool = true,
        removal: (Int) -> String = { "server \($0) removed, stopping its worker" }
    ) -> [SupervisorAction] {
        precondition(mode == .collecting, "a server list applied to a fleet that is stopping")
        for srvid in workers.keys.sorted() where wanted[srvid] == nil {
            remove(srvid: srvid, because: removal(srvid), now: now)
        }
        for srvid in wanted.keys.sorted() {
            let configuration = wanted[srvid]!
            guard var worker = workers[srvid] else {
                log(.info, "server \(srvid) added, starting its worker", worker: configuration.name)
                workers[srvid] = WorkerMachine(configuration: configuration, timings: timings)
                spawnQueue.append(srvid)
                continue
            }
            actions += worker.listed(configuration, updatingVersions: updatingVersions)
            workers[srvid] = worker
        }
        pumpSpawnQueue(now: now)
        return takeActions()
    }

    /// A new `max_concurrent_snapshots`.
    mutating func setSlotCapacity(_ capacity: Int, now: MonotonicInstant) -> [SupervisorAction] {
        sendGrants(slots.setCapacity(capacity, now: now), now: now)
        return takeActions()
    }

    // MARK: - Processes

    mutating func spawned(srvid: Int, pid: Int32, now: MonotonicInstant) -> [SupervisorAction] {
        guard var worker = workers[srvid], worker.isSpawning else {
            // Its server was removed meanwhile: stop it at once.
            retire(pid: pid, srvid: srvid, name: "server \(srvid)", killAt: now + timings.stopGracePeriod)
            actions.append(.sendToWorker(pid: pid, .stop))
            return takeActions()
        }
        if case .stopping(let killAt) = mode {
            _ = forget(srvid: srvid, now: now)
            retire(pid: pid, srvid: srvid, name: worker.name, killAt: killAt)
            actions.append(.sendToWorker(pid: pid, .stop))
            return takeActions()
        }
        srvidByPid[pid] = srvid
        let step = worker.spawned(pid: pid, now: now)
        store(worker, step, now: now)
        return takeActions()
    }

    mutating func spawnFailed(srvid: Int, reason: String, now: MonotonicInstant) -> [SupervisorAction] {
        guard var worker = workers[srvid], worker.isSpawning else { return [] }
        if mode != .collecting {
            _ = forget(srvid: srvid, now: now)
            return takeActions()
        }
        let step = worker.spawnFailed(reason: reason, now: now)
        store(worker, step, now: now)
        return takeActions()
    }

    /// A valid line from process `pid`. A stopping process's last words,
    /// or a stranger's, are ignored: a retiring process gave its slot up
    /// when it was retired, and is never granted one.
    mutating func message(pid: Int32, _ message: WorkerMessage, now: MonotonicInstant) -> [SupervisorAction] {
        guard let srvid = srvidByPid[pid], var worker = workers[srvid], worker.runningPid == pid else { return [] }
        var step = worker.heard(message, now: now)
        switch message {
        case .slotRequest:
            if slots.request(srvid, now: now) {
                step.actions.append(.sendToWorker(pid: pid, .slotGranted))
            } else {
                step.actions.append(
                    .log(.debug, "waiting for a snapshot slot (\(slots.waitingCount) waiting)", worker: worker.name))
            }
            worker.slotStandingChanged(to: slots.standing(of: srvid))
        case .slotRelease:
            step.releasesSlot = true
            worker.slotStandingChanged(to: .none)
        case .heartbeat, .status:
            break
        }
        store(worker, step, now: now)
        return takeActions()
    }

    /// The name of the worker of process `pid`, for a log line about it.
    func name(ofProcess pid: Int32) -> String? {
        srvidByPid[pid].flatMap { workers[$0]?.name } ?? retiring[pid]?.name
    }

    /// Process `pid` was reaped.
    mutating func exited(pid: Int32, _ termination: WorkerTermination, now: MonotonicInstant) -> [SupervisorAction] {
        if let process = retiring.removeValue(forKey: pid) {
            forgetRetiring(srvid: process.srvid)
            timers.cancel(.retiring(pid: pid))
            return [.log(.info, "worker stopped (\(termination))", worker: process.name)]
        }
        guard let srvid = srvidByPid.removeValue(forKey: pid), var worker = workers[srvid], worker.pid == pid
        else { return [] }
        // Mid-snapshot or waiting: its place goes to the next in line first.
        releaseSlot(srvid: srvid, now: now)
        let step = worker.exited(termination, now: now)
        store(worker, step, now: now)
        return takeActions()
    }

    /// The watchdog's check of process `pid` came back.
    mutating func checked(pid: Int32, _ sample: ProcessSample?, now: MonotonicInstant) -> [SupervisorAction] {
        guard mode == .collecting, let srvid = srvidByPid[pid], var worker = workers[srvid], worker.runningPid == pid
        else { return [] }
        let step = worker.checked(sample, now: now)
        store(worker, step, now: now)
        return takeActions()
    }

    // MARK: - Time

    /// Handles the fleet's timers that are due, and only those.
    mutating func tick(now: MonotonicInstant) -> [SupervisorAction] {
        for key in timers.popExpired(now: now) {
            switch key {
            case .worker(let srvid):
                guard mode == .collecting, var worker = workers[srvid] else { continue }
                let step = worker.deadlinePassed(now: now)
                store(worker, step, now: now)
            case .retiring(let pid):
                guard let process = retiring[pid], process.killAt != nil else { continue }
                log(.warning, "worker did not stop in time, killing it", worker: process.name)
                actions.append(.signalWorker(pid: pid, .kill))
                retiring[pid]?.killAt = nil
            case .spawnPacing:
                pumpSpawnQueue(now: now)
            }
        }
        return takeActions()
    }

    // MARK: - Requests

    mutating func forceSnapshot(srvid: Int, now: MonotonicInstant) -> (
        answer: NotifyCommandResult, actions: [SupervisorAction]
    ) {
        guard var worker = workers[srvid] else { return (.refused("no worker for server id \(srvid)"), []) }
        let result = worker.forceSnapshot(now: now)
        workers[srvid] = worker
        return result
    }

    func refreshCatalogs(srvid: Int, dbnames: [String], now: MonotonicInstant) -> (
        answer: NotifyCommandResult, actions: [SupervisorAction]
    ) {
        guard let worker = workers[srvid] else { return (.refused("no worker for server id \(srvid)"), []) }
        return worker.refreshCatalogs(dbnames, now: now)
    }

    // MARK: - Shutdown

    /// Sends `stop` to every process and gives them until `killAt` in all.
    /// Workers waiting to spawn or restart are simply forgotten; a spawn in
    /// flight is stopped when its pid arrives.
    mutating func stop(killAt: MonotonicInstant, now: MonotonicInstant) -> [SupervisorAction] {
        precondition(mode == .collecting, "the fleet was asked to stop twice")
        mode = .stopping(killAt: killAt)
        timers.cancel(.spawnPacing)
        for srvid in workers.keys.sorted() {
            guard let worker = workers[srvid], !worker.isSpawning else { continue }
            _ = forget(srvid: srvid, now: now)
            guard let retirement = worker.retirement else { continue }
            if retirement.sendsStop {
                actions.append(.sendToWorker(pid: retirement.pid, .stop))
                retire(pid: retirement.pid, srvid: srvid, name: worker.name, killAt: killAt)
            } else {
                retire(
                    pid: retirement.pid, srvid: srvid, name: worker.name,
                    killAt: retirement.pendingKillAt.map { min($0, killAt) })
            }
        }
        for pid in retiring.keys {
            guard let process = retiring[pid], let processKillAt = process.killAt else { continue }
            retire(pid: pid, srvid: process.srvid, name: process.name, killAt: min(processKillAt, killAt))
        }
        return takeActions()
    }

    /// The shutdown's grace period is over: SIGKILL for every process not
    /// killed yet.
    mutating func killRemaining() -> [SupervisorAction] {
        for pid in retiring.keys.sorted() where retiring[pid]?.killAt != nil {
            log(.warning, "worker did not stop in time, killing it", worker: retiring[pid]?.name)
            actions.append(.signalWorker(pid: pid, .kill))
        }
        return takeActions()
    }

    // MARK: - Private

    private mutating func takeActions() -> [SupervisorAction] {
        defer { actions = [] }
        return actions
    }

    private mutating func log(_ level: Logger.Level, _ message: String, worker: String? = nil) {
        actions.append(.log(level, message, worker: worker))
    }

    /// Stores `worker`, carries out its step, and arms its one timer.
    private mutating func store(_ worker: WorkerMachine, _ step: WorkerMachine.Step, now: MonotonicInstant) {
        let srvid = worker.srvid
        workers[srvid] = worker
        if let deadline = worker.deadline {
            timers.schedule(.worker(srvid: srvid), at: deadline)
        } else {
            timers.cancel(.worker(srvid: srvid))
        }
        actions += step.actions
        if step.releasesSlot { releaseSlot(srvid: srvid, now: now) }
        if step.queuesForSpawn {
            spawnQueue.append(srvid)
            pumpSpawnQueue(now: now)
        }
    }

    private mutating func remove(srvid: Int, because reason: String, now: MonotonicInstant) {
        guard let worker = forget(srvid: srvid, now: now) else { return }
        log(.info, reason, worker: worker.name)
        // No process yet: a late `workerSpawned` is stopped on arrival.
        guard let retirement = worker.retirement else { return }
        if retirement.sendsStop {
            actions.append(.sendToWorker(pid: retirement.pid, .stop))
            retire(pid: retirement.pid, srvid: srvid, name: worker.name, killAt: now + timings.stopGracePeriod)
        } else {
            // Already sent SIGTERM; its SIGKILL stays on schedule.
            retire(pid: retirement.pid, srvid: srvid, name: worker.name, killAt: retirement.pendingKillAt)
        }
    }

    /// Removes a worker from the fleet: its timer, its slot, its pid.
    private mutating func forget(srvid: Int, now: MonotonicInstant) -> WorkerMachine? {
        guard let worker = workers.removeValue(forKey: srvid) else { return nil }
        timers.cancel(.worker(srvid: srvid))
        releaseSlot(srvid: srvid, now: now)
        if let pid = worker.pid { srvidByPid[pid] = nil }
        return worker
    }

    private mutating func retire(pid: Int32, srvid: Int, name: String, killAt: MonotonicInstant?) {
        if retiring[pid] == nil { retiringBySrvid[srvid, default: 0] += 1 }
        retiring[pid] = RetiringWorkerProcess(srvid: srvid, name: name, killAt: killAt)
        if let killAt { timers.schedule(.retiring(pid: pid), at: killAt) } else { timers.cancel(.retiring(pid: pid)) }
    }

    private mutating func forgetRetiring(srvid: Int) {
        guard let count = retiringBySrvid[srvid] else { return }
        retiringBySrvid[srvid] = count > 1 ? count - 1 : nil
    }

    /// Gives `srvid`'s slot (or place in line) back and grants the next.
    private mutating func releaseSlot(srvid: Int, now: MonotonicInstant) {
        guard slots.standing(of: srvid) != .none else { return }
        sendGrants(slots.release(srvid, now: now), now: now)
    }

    /// Tells each newly granted worker; one that is no longer running
    /// gives its slot straight back.
    private mutating func sendGrants(_ granted: [Int], now: MonotonicInstant) {
        var pending = granted
        while !pending.isEmpty {
            let srvid = pending.removeFirst()
            if var worker = workers[srvid], let pid = worker.runningPid {
                log(.debug, "snapshot slot granted to the next in line", worker: worker.name)
                actions.append(.sendToWorker(pid: pid, .slotGranted))
                worker.slotStandingChanged(to: slots.standing(of: srvid))
                workers[srvid] = worker
            } else {
                pending += slots.release(srvid, now: now)
            }
        }
    }

    /// Spawns queued workers as fast as the pacer allows; arms the pacing
    /// timer for the rest.
    private mutating func pumpSpawnQueue(now: MonotonicInstant) {
        while spawnQueueHead < spawnQueue.count {
            let srvid = spawnQueue[spawnQueueHead]
            guard var worker = workers[srvid], worker.isWaitingToSpawn else {
                spawnQueueHead += 1
                continue
            }
            guard mode == .collecting else { return }
            guard pacer.take(now: now) else {
                timers.schedule(.spawnPacing, at: pacer.nextAvailable(now: now))
                return
            }
            spawnQueueHead += 1
            actions.append(worker.spawnIssued())
            store(worker, WorkerMachine.Step(), now: now)
        }
        spawnQueue.removeAll(keepingCapacity: true)
        spawnQueueHead = 0
    }
}
