import Logging

@testable import PowaCore

/// Drives a `SupervisorStateMachine` the way the shell would, with a clock
/// the test moves and pids it hands out, so that tests read as scenarios.
struct SupervisorHarness {
    var machine: SupervisorStateMachine
    var now = MonotonicInstant(seconds: 1_000)
    private var nextPid: Int32 = 100
    /// Current pid of each server's worker process, as spawned here.
    private(set) var pids: [Int: Int32] = [:]
    var collector = CollectorConfiguration(repositoryDSN: "postgresql://powa@repo/powa")

    /// The standard timings without spawn pacing, so that scenarios with
    /// many servers start them all at once; pacing has its own tests.
    static let unpaced: SupervisorTimings = {
        var timings = SupervisorTimings.standard
        timings.spawnBurst = 1_000_000
        return timings
    }()

    init(timings: SupervisorTimings = SupervisorHarness.unpaced, instance: InstanceIdentity? = nil) {
        machine = SupervisorStateMachine(timings: timings, instance: instance)
    }

    var timings: SupervisorTimings { machine.timings }

    func pid(_ srvid: Int) -> Int32 { pids[srvid]! }

    /// What `/proc/<pid>/stat` shows for each pid when the watchdog checks
    /// it; a pid not listed shows as stopped (SIGSTOP), the plain hung case.
    var processSamples: [Int32: ProcessSample?] = [:]
    /// Lines waiting unread in a worker's pipe, delivered when the
    /// watchdog drains it.
    var unreadLines: [Int32: [WorkerMessage]] = [:]

    /// Hands `event` to the machine; answers its `checkWorker` actions as
    /// the shell does (unread lines first, then the sample).
    mutating func send(_ event: SupervisorEvent) -> [SupervisorAction] {
        var actions = machine.handle(event, now: now)
        var index = 0
        while index < actions.count {
            if case .checkWorker(let pid) = actions[index] {
                for line in unreadLines.removeValue(forKey: pid) ?? [] {
                    actions += machine.handle(.workerMessage(pid: pid, line), now: now)
                }
                let sample = processSamples[pid] ?? ProcessSample(state: "T", cpuTicks: 0)
                actions += machine.handle(.workerChecked(pid: pid, sample), now: now)
            }
            index += 1
        }
        return actions
    }

    /// Moves the clock to `time` and ticks.
    @discardableResult
    mutating func advance(to time: MonotonicInstant) -> [SupervisorAction] {
        precondition(time >= now, "time only moves forward")
        now = time
        return send(.tick)
    }

    @discardableResult
    mutating func advance(by duration: Duration) -> [SupervisorAction] {
        advance(to: now + duration)
    }

    /// `advance(by:)` in seconds, as scenarios read.
    @discardableResult
    mutating func advance(by seconds: Double) -> [SupervisorAction] {
        advance(to: now + .fromSeconds(seconds))
    }

    /// Answers every `spawnWorker` in `actions` with a fresh pid, as a
    /// successful `posix_spawn` would; returns those actions plus what the
    /// machine said in response.
    mutating func performSpawns(_ actions: [SupervisorAction]) -> [SupervisorAction] {
        var all = actions
        for case .spawnWorker(let configuration) in actions {
            let pid = nextPid
            nextPid += 1
            pids[configuration.srvid] = pid
            all += send(.workerSpawned(srvid: configuration.srvid, pid: pid))
        }
        return all
    }

    /// Starts the machine, connects, and reads `rows`; spawns the workers.
    @discardableResult
    mutating func startRunning(_ rows: [ServerRow], loaded: LoadedConfiguration? = nil) -> [SupervisorAction] {
        var actions = send(
            .started(loaded ?? LoadedConfiguration(configuration: collector, path: "/etc/powa-collector.conf")))
        actions += send(.repositoryConnected)
        actions += performSpawns(send(.serverListRead(rows)))
        return actions
    }

    /// A worker reporting its status.
    @discardableResult
    mutating func report(_ srvid: Int, _ status: WorkerStatus) -> [SupervisorAction] {
        send(.workerMessage(pid: pid(srvid), .status(status)))
    }

    /// Every worker sends a heartbeat.
    mutating func heartbeatAll() {
        for pid in pids.values { _ = send(.workerMessage(pid: pid, .heartbeat)) }
    }

    /// Every worker but `srvid`'s sends a heartbeat.
    mutating func heartbeatAllBut(_ srvid: Int) {
        for (id, pid) in pids where id != srvid { _ = send(.workerMessage(pid: pid, .heartbeat)) }
    }

    /// Moves the clock second by second with heartbeats from every worker,
    /// as healthy workers do; returns everything the machine said.
    mutating func runHealthily(for seconds: Int) -> [SupervisorAction] {
        var actions: [SupervisorAction] = []
        for _ in 0..<seconds {
            actions += advance(by: 1)
            heartbeatAll()
        }
        return actions
    }

    /// A notification, handled as the supervisor does: handed over
    /// unchecked, checked when the machine asks for it, and conditional
    /// answers resolved into what the repository sends (and the refusal the
    /// supervisor logs) for a sender that is `permitted` or not.
    /// Each call is a batch of its own, as a notification read alone is.
    mutating func notify(_ payload: String, permitted: Bool = true) -> [SupervisorAction] {
        var resolved = send(.notificationBatchBegan)
        for action in send(.notificationFromUncheckedSender(payload: payload, senderPID: 4242)) {
            switch action {
            case .checkSenderPermission(let checked, 4242):
                resolved += send(.notificationReceived(payload: checked, senderPermitted: permitted, senderPID: 4242))
            case .answerNotificationIfPermitted(let channel, 4242, let answer, let denied, let request):
                resolved.append(.answerNotification(channel: channel, payload: permitted ? answer : denied))
                resolved += send(.conditionalAnswerSent(request, senderPID: 4242, senderPermitted: permitted))
            default:
                resolved.append(action)
            }
        }
        return resolved
    }

    /// The payloads answered on `channel`.
    mutating func ask(_ payload: String, channel: String = "chan") -> [String] {
        notify(payload).answers(on: channel)
    }

    func status(_ srvid: Int) -> String? { machine.workersStatus(now: now)[srvid] }
}

extension ServerRow {
    static func sample(
        _ id: Int, host: String? = nil, port: Int = 5432, frequency: Int = 300, alias: String? = nil,
        password: String? = "secret"
    ) -> ServerRow {
        ServerRow(
            id: id, hostname: host ?? "10.0.0.\(id)", port: port, username: "powa", password: password,
            dbname: "powa", frequency: frequency, alias: alias)
    }
}

extension Array where Element == SupervisorAction {
    var spawned: [WorkerConfiguration] {
        compactMap { if case .spawnWorker(let configuration) = $0 { configuration } else { nil } }
    }

    func messages(to pid: Int32) -> [SupervisorMessage] {
        compactMap { if case .sendToWorker(pid, let message) = $0 { message } else { nil } }
    }

    var allMessages: [SupervisorMessage] {
        compactMap { if case .sendToWorker(_, let message) = $0 { message } else { nil } }
    }

    var signals: [(pid: Int32, signal: WorkerSignal)] {
        compactMap { if case .signalWorker(let pid, let signal) = $0 { (pid, signal) } else { nil } }
    }

    func answers(on channel: String) -> [String] {
        compactMap { if case .answerNotification(channel, let payload) = $0 { payload } else { nil } }
    }

    var allAnswers: [(channel: String, payload: String)] {
        compactMap { if case .answerNotification(let channel, let payload) = $0 { (channel, payload) } else { nil } }
    }

    func logs(_ level: Logger.Level) -> [String] {
        compactMap { if case .log(level, let message, _) = $0 { message } else { nil } }
    }

    var exitCode: Int32? {
        compactMap { if case .exit(let code) = $0 { code } else { nil } }.first
    }

    var connects: [String] {
        compactMap { if case .connectRepository(let dsn) = $0 { dsn } else { nil } }
    }

    func count(_ action: SupervisorAction) -> Int { filter { $0 == action }.count }
}
