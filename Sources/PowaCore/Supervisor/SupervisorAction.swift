import Logging

/// Something the supervisor's shell must do, in order, on behalf of the state
/// machine. The results come back as `SupervisorEvent`s.
public enum SupervisorAction: Equatable, Sendable {
    /// Start a worker process for this server; answer with `workerSpawned`
    /// or `workerSpawnFailed`. The `start` message follows as a
    /// `sendToWorker` once the pid is known.
    case spawnWorker(WorkerConfiguration)
    /// Write this message as one line on the worker's stdin.
    case sendToWorker(pid: Int32, SupervisorMessage)
    case signalWorker(pid: Int32, WorkerSignal)
    /// The watchdog suspects this worker: read what waits in its pipe
    /// (reporting the lines as `workerMessage`s), then sample
    /// `/proc/<pid>/stat` and report `workerChecked`.
    case checkWorker(pid: Int32)

    /// Open the repository connection (closing the current one, if any),
    /// `LISTEN powa_collector`, and report `repositoryConnected` or
    /// `repositoryConnectionFailed`. Reconnection delays are the state
    /// machine's: this action comes when it is time to try.
    case connectRepository(dsn: String)
    /// Query `powa_servers`; report `serverListRead` or `serverListReadFailed`.
    case readServerList
    /// Load the configuration file again, the same way as at startup;
    /// report `configurationFileReloaded`.
    case reloadConfigurationFile

    /// `NOTIFY channel, payload` (through `pg_notify`, which takes both as
    /// values, so that no quoting is needed). Both are already checked:
    /// the channel is usable and the payload is under the size limit.
    case answerNotification(channel: String, payload: String)
    /// Check whether backend `senderPID` may ask the collector anything,
    /// and in the same statement send `payload` on `channel` if it may,
    /// `deniedPayload` if not; report `conditionalAnswerSent` with `request`.
    /// A failed check counts as "not permitted".
    case answerNotificationIfPermitted(
        channel: String, senderPID: Int32, payload: String, deniedPayload: String, request: ConditionalAnswer)
    /// Check whether backend `senderPID` may ask the collector anything;
    /// report `notificationReceived(payload:senderPermitted:)`.
    case checkSenderPermission(payload: String, senderPID: Int32)

    /// Run one coordination round (`CoordinationSQL.round`, creating the
    /// schema first if this session has not); report `coordinationRead` or
    /// `coordinationFailed`.
    case coordinate(CoordinationRound)
    /// Claim these servers (`CoordinationSQL.ensureRows` then `claim`);
    /// report `serversClaimed` or `coordinationFailed`.
    case claimServers(instance: String, leaseSeconds: Double, srvids: [Int])
    /// Give these rows back (`CoordinationSQL.release`); a failure is
    /// only logged (the next round releases again).
    case releaseServers(instance: String, srvids: [Int])

    /// Log at debug level (true) or info level (false) from now on.
    case setDebugLogging(Bool)
    /// Write a log line; `worker` is the worker's name when the line is
    /// about one worker (the reference shows it in place of `-`).
    case log(Logger.Level, String, worker: String?)

    /// Exit the program with this status; nothing follows.
    case exit(code: Int32)
}
