import Logging

/// The requests powa-web sends on `powa_collector`, from arrival to
/// answer: whether the sender must be checked, what is answered and
/// logged (also when the check itself fails), and how each request is
/// counted. Answers come from what the workers last reported: no request
/// waits on a worker.
///
/// A sender checked once is not checked again within one batch of
/// notifications (`batchBegan`): a flood from one backend costs one check
/// per batch. A request that acts on the fleet (`RELOAD`, `FORCE_SNAPSHOT`,
/// `REFRESH_CATALOGS`) comes back to the supervisor as a `Dispatch.carryOut`,
/// and its answer is given by `finish` once the fleet has acted.
struct NotifyDispatcher: Sendable {
    /// What the supervisor must do with a request.
    enum Dispatch: Sendable {
        /// Decided here; carry out these actions.
        case decided([SupervisorAction])
        /// Carry out `command`, then call `finish` with `pending` and the
        /// result; `actions` (log lines) come first.
        case carryOut(ActingCommand, pending: PendingAnswer, actions: [SupervisorAction])
    }

    /// A request that changes something.
    enum ActingCommand: Equatable, Sendable {
        case reload
        case forceSnapshot(srvid: Int)
        case refreshCatalogs(srvid: Int, dbnames: [String])
    }

    /// A request being carried out: where and how to answer it.
    struct PendingAnswer: Sendable {
        var request: NotifyRequest
        /// nil: no answer wanted, or the channel was not usable.
        var channel: String?
        var senderPID: Int32
        /// The sender named a channel that cannot be answered on.
        var unanswerable: Bool
    }

    /// Warnings about requests, aggregated so that no sender floods the log.
    private var requestLog = RequestLogThrottle()
    /// Every request received, by command and outcome, for the metrics.
    private(set) var counters = NotifyRequestCounters()
    /// Senders checked in the current batch of notifications.
    private var permissions: [Int32: Bool] = [:]
    private var actions: [SupervisorAction] = []

    static let permissionDenied = "Permission denied"
    static let unknownCommand = "unknown command, ignored"
    static let shuttingDown = "the collector is shutting down"

    static func refusal(of command: String) -> String {
        "refused \(shortened(command)): the sender is not permitted"
    }

    /// When a summary of aggregated warnings is due.
    var nextSummaryDue: MonotonicInstant? { requestLog.nextSummaryDue }

    /// The summaries due by `now`.
    mutating func tick(now: MonotonicInstant) -> [SupervisorAction] {
        guard let due = nextSummaryDue, now >= due else { return [] }
        return requestLog.flush(now: now).map { .log(.warning, $0, worker: nil) }
    }

    // MARK: - Inputs

    /// A new batch of notifications was read: senders are checked again.
    mutating func batchBegan() {
        permissions = [:]
    }

    /// A request whose sender is not checked yet. One already checked in
    /// this batch is handled as checked. Otherwise a request whose only
    /// effect is its answer (WORKERS_STATUS, an unknown or malformed
    /// command, anything while shutting down) is answered at once, the
    /// answer sent only if the sender is permitted; any other waits for the
    /// sender's check.
    mutating func arrived(
        payload: String, senderPID: Int32, fleet: WorkerFleet, coordination: CoordinationMachine? = nil,
        now: MonotonicInstant
    ) -> Dispatch {
        if let known = permissions[senderPID] {
            return checked(
                payload: payload, senderPermitted: known, senderPID: senderPID, fleet: fleet,
                coordination: coordination, now: now)
        }
        let request = NotifyRequest(payload: payload)
        guard let channel = request.responseChannel, NotifyRequest.isUsableChannel(channel),
            let only = answerOnly(to: request, fleet: fleet, coordination: coordination, now: now),
            let answer = NotifyAnswer(command: request.command, status: only.status, data: only.data).payload,
            let denied = NotifyAnswer(command: request.command, status: .error, data: Self.permissionDenied).payload
        else {
            return .decided([.checkSenderPermission(payload: payload, senderPID: senderPID)])
        }
        logReceived(request, on: channel)
        // Counted when the shell reports whether the sender was permitted.
        actions.append(
            .answerNotificationIfPermitted(
                channel: channel, senderPID: senderPID, payload: answer, deniedPayload: denied,
                request: ConditionalAnswer(command: request.command, outcomeIfPermitted: only.outcome)))
        return .decided(takeActions())
    }

    /// The sender's check came back: the request is carried out for a
    /// permitted sender, refused otherwise. With several instances, a
    /// request about another live instance's server is left to it: not
    /// answered here, so that the owner answers, and acts, once.
    mutating func checked(
        payload: String, senderPermitted: Bool, senderPID: Int32, fleet: WorkerFleet,
        coordination: CoordinationMachine? = nil, now: MonotonicInstant
    ) -> Dispatch {
        permissions[senderPID] = senderPermitted
        let request = NotifyRequest(payload: payload)
        let counted = NotifyRequestCounters.Command(word: request.command)
        var channel = request.responseChannel
        logReceived(request, on: channel)
        var unanswerable = false
        if let unusable = channel, !NotifyRequest.isUsableChannel(unusable) {
            warnAboutRequest(
                kind: "cannot answer requests on channels that are not valid names",
                "cannot answer \(Self.shortened(request.command)) on channel "
                    + "\"\(Self.shortened(unusable))\": not a valid channel name",
                senderPID: senderPID, now: now)
            channel = nil
            unanswerable = true
        }
        guard senderPermitted else {
            counters.count(counted, .refused)
            logRefusal(command: request.command, senderPID: senderPID, now: now)
            answer(request, on: channel, .error, Self.permissionDenied, senderPID: senderPID, now: now)
            return .decided(takeActions())
        }
        let pending = PendingAnswer(
            request: request, channel: channel, senderPID: senderPID, unanswerable: unanswerable)
        let command: NotifyCommand
        switch request.parsedCommand {
        case .failure(let error):
            let outcome = answer(
                request, on: channel, .error, error.reason, senderPID: senderPID, now: now, as: .invalid)
            return count(pending, outcome)
        case .success(let parsed):
            command = parsed
        }
        if fleet.mode != .collecting, command != .unknown, !command.isWorkersStatus {
            let outcome = answer(
                request, on: channel, .error, Self.shuttingDown, senderPID: senderPID, now: now, as: .declined)
            return count(pending, outcome)
        }
        switch command {
        case .forceSnapshot(let srvid), .refreshCatalogs(let srvid, _):
            if let coordination, coordination.isOwnedElsewhere(srvid, hasWorker: fleet.hasWorker(srvid: srvid)) {
                actions.append(
                    .log(
                        .debug,
                        "server \(srvid) is another instance's, leaving \(Self.shortened(request.command)) to it",
                        worker: nil))
                return count(pending, .declined)
            }
        case .unknown, .workersStatus, .reload:
            break
        }
        switch command {
        case .unknown:
            let outcome = answer(
                request, on: channel, .unknown, Self.unknownCommand, senderPID: senderPID, now: now,
                as: .unknownCommand)
            return count(pending, outcome)
        case .workersStatus(let scope):
            guard channel != nil else { return count(pending, .done) }  // nothing to do without an answer
            let (status, data) = Self.workersStatusAnswer(scope, fleet: fleet, coordination: coordination, now: now)
            let outcome = answer(
                request, on: channel, status, data, senderPID: senderPID, now: now,
                as: status == .ko ? .tooLong : .done)
            return count(pending, outcome)
        case .reload:
            return .carryOut(.reload, pending: pending, actions: takeActions())
        case .forceSnapshot(let srvid):
            return .carryOut(.forceSnapshot(srvid: srvid), pending: pending, actions: takeActions())
        case .refreshCatalogs(let srvid, let dbnames):
            return .carryOut(.refreshCatalogs(srvid: srvid, dbnames: dbnames), pending: pending, actions: takeActions())
        }
    }

    /// The sender's check failed (not for a broken connection): the
    /// sender counts as not permitted.
    mutating func checkFailed(
        payload: String, senderPID: Int32, reason: String, fleet: WorkerFleet,
        coordination: CoordinationMachine? = nil, now: MonotonicInstant
    ) -> Dispatch {
        let warning = SupervisorAction.log(
            .warning, "cannot check the permission of backend \(senderPID): \(reason)", worker: nil)
        switch checked(
            payload: payload, senderPermitted: false, senderPID: senderPID, fleet: fleet,
            coordination: coordination, now: now)
        {
        case .decided(let actions): return .decided([warning] + actions)
        case .carryOut(let command, let pending, let actions):
            return .carryOut(command, pending: pending, actions: [warning] + actions)
        }
    }

    /// The fleet carried out a pending request: its answer and count.
    mutating func finish(_ pending: PendingAnswer, with result: NotifyCommandResult, now: MonotonicInstant)
        -> [SupervisorAction]
    {
        let outcome = answer(
            pending.request, on: pending.channel, result.status, result.data, senderPID: pending.senderPID,
            now: now, as: result.outcome)
        if case .decided(let actions) = count(pending, outcome) { return actions }
        return []
    }

    /// The `answerNotificationIfPermitted` action was carried out.
    mutating func conditionalAnswerSent(
        _ request: ConditionalAnswer, senderPID: Int32, permitted: Bool, now: MonotonicInstant
    ) -> [SupervisorAction] {
        permissions[senderPID] = permitted
        let command = NotifyRequestCounters.Command(word: request.command)
        guard permitted else {
            counters.count(command, .refused)
            logRefusal(command: request.command, senderPID: senderPID, now: now)
            return takeActions()
        }
        counters.count(command, request.outcomeIfPermitted)
        return []
    }

    /// The check of an `answerNotificationIfPermitted` failed (not for a
    /// broken connection): the sender counts as not permitted and gets the
    /// denial.
    mutating func conditionalAnswerFailed(
        _ request: ConditionalAnswer, channel: String, deniedPayload: String, senderPID: Int32, reason: String,
        now: MonotonicInstant
    ) -> [SupervisorAction] {
        [
            .log(.warning, "cannot check the permission of backend \(senderPID): \(reason)", worker: nil),
            .answerNotification(channel: channel, payload: deniedPayload),
        ]
            + conditionalAnswerSent(request, senderPID: senderPID, permitted: false, now: now)
    }

    /// An answer could not be sent (not for a broken connection).
    func answerFailed(channel: String, reason: String) -> [SupervisorAction] {
        [.log(.warning, "cannot answer on channel \"\(channel.prefix(64))\": \(reason)", worker: nil)]
    }

    // MARK: - Private

    private mutating func takeActions() -> [SupervisorAction] {
        defer { actions = [] }
        return actions
    }

    private mutating func count(_ pending: PendingAnswer, _ outcome: NotifyRequestCounters.Outcome) -> Dispatch {
        counters.count(
            NotifyRequestCounters.Command(word: pending.request.command), pending.unanswerable ? .unanswerable : outcome
        )
        return .decided(takeActions())
    }

    /// The answer to `request` when answering is all it takes, else nil.
    private func answerOnly(
        to request: NotifyRequest, fleet: WorkerFleet, coordination: CoordinationMachine?, now: MonotonicInstant
    ) -> (status: NotifyAnswerStatus, data: String, outcome: NotifyRequestCounters.Outcome)? {
        switch request.parsedCommand {
        case .failure(let error):
            return (.error, error.reason, .invalid)
        case .success(.unknown):
            return (.unknown, Self.unknownCommand, .unknownCommand)
        case .success(.workersStatus(let scope)):
            let (status, data) = Self.workersStatusAnswer(scope, fleet: fleet, coordination: coordination, now: now)
            return (status, data, status == .ko ? .tooLong : .done)
        case .success:
            return fleet.mode != .collecting ? (.error, Self.shuttingDown, .declined) : nil
        }
    }

    /// One server's status is found without reading the others. With
    /// several instances, servers without a worker here show their owner's
    /// published status.
    static func workersStatusAnswer(
        _ scope: NotifyCommand.WorkersStatusScope, fleet: WorkerFleet, coordination: CoordinationMachine? = nil,
        now: MonotonicInstant
    ) -> (status: NotifyAnswerStatus, data: String) {
        switch scope {
        case .allServers:
            let own = fleet.statuses(now: now)
            return WorkersStatusAnswer.answer(coordination?.mergedStatuses(own) ?? own)
        case .server(let srvid):
            let own = fleet.status(of: srvid, now: now)
            let status = coordination.map { $0.mergedStatus(of: srvid, own: own) } ?? own
            return WorkersStatusAnswer.answer(status.map { [srvid: $0] } ?? [:])
        case .noServer: return WorkersStatusAnswer.answer([:])
        }
    }

    /// Sends the answer, when there is a channel; returns `outcome`, or
    /// `tooLong` when the answer had to be replaced or dropped.
    @discardableResult
    private mutating func answer(
        _ request: NotifyRequest, on channel: String?, _ status: NotifyAnswerStatus, _ data: String,
        senderPID: Int32, now: MonotonicInstant, as outcome: NotifyRequestCounters.Outcome = .done
    ) -> NotifyRequestCounters.Outcome {
        guard let channel else { return outcome }
        let answer = NotifyAnswer(command: request.command, status: status, data: data)
        guard let payload = answer.payload else {
            warnAboutRequest(
                kind: "cannot answer requests whose command word is nearly 8000 bytes",
                "cannot answer \(Self.shortened(request.command)): even the short answer is too long",
                senderPID: senderPID, now: now)
            return .tooLong
        }
        actions.append(.answerNotification(channel: channel, payload: payload))
        return answer.fits ? outcome : .tooLong
    }

    /// A warning about a request, aggregated by `kind` (never made of the
    /// request's own words) so that a flood of them stays a few lines.
    private mutating func warnAboutRequest(kind: String, _ message: String, senderPID: Int32, now: MonotonicInstant) {
        for line in requestLog.record(kind: kind, message: message, sender: senderPID, now: now) {
            actions.append(.log(.warning, line, worker: nil))
        }
    }

    private mutating func logRefusal(command: String, senderPID: Int32, now: MonotonicInstant) {
        let known = NotifyRequestCounters.Command(word: command)
        let kind = "refused \(known == .unknown ? "unknown commands" : known.rawValue): the sender is not permitted"
        warnAboutRequest(kind: kind, Self.refusal(of: command), senderPID: senderPID, now: now)
    }

    private mutating func logReceived(_ request: NotifyRequest, on channel: String?) {
        actions.append(
            .log(
                .debug,
                "received \(Self.shortened(request.command)) on channel \(Self.shortened(channel ?? "-"))"
                    + " with \(request.arguments.count) argument\(request.arguments.count == 1 ? "" : "s")", worker: nil
            ))
    }

    /// Words from a notification can be up to 8000 bytes of anything; logs
    /// get at most 64 characters of them, control characters escaped.
    static func shortened(_ text: String) -> String {
        LoggedRequestText.shortened(text)
    }
}
