/// Something that happened, as the supervisor's shell reports it to
/// `SupervisorStateMachine.handle(_:now:)`.
///
/// Worker processes are named by pid once they exist, so that a late line
/// or exit status from a replaced process can never be mistaken for its
/// successor's.
public enum SupervisorEvent: Equatable, Sendable {
    /// The program started with this configuration (loading errors end the
    /// program before the state machine exists).
    case started(LoadedConfiguration)

    /// The `connectRepository` action succeeded (and `LISTEN powa_collector`
    /// is in place).
    case repositoryConnected
    /// The `connectRepository` action failed.
    case repositoryConnectionFailed(reason: String)
    /// The established repository connection broke.
    case repositoryConnectionLost(reason: String)

    /// Result of the `readServerList` action: the rows of `powa_servers`.
    case serverListRead([ServerRow])
    /// The `readServerList` action failed (and the connection is still up;
    /// when it is not, report `repositoryConnectionLost` instead).
    case serverListReadFailed(reason: String)

    /// Result of the `reloadConfigurationFile` action.
    case configurationFileReloaded(Result<LoadedConfiguration, ConfigurationError>)

    /// The `spawnWorker` action for this server started process `pid`.
    case workerSpawned(srvid: Int, pid: Int32)
    /// The `spawnWorker` action for this server failed.
    case workerSpawnFailed(srvid: Int, reason: String)
    /// A worker wrote a valid line.
    case workerMessage(pid: Int32, WorkerMessage)
    /// A worker wrote a line that is not a valid message. It is logged and
    /// skipped, and does not count as a sign of life: a worker that only
    /// writes garbage is replaced by the watchdog.
    case workerMalformedLine(pid: Int32, reason: String)
    /// Result of `checkWorker`, after the lines found were reported; nil
    /// when `/proc/<pid>/stat` could not be read.
    case workerChecked(pid: Int32, ProcessSample?)
    /// The supervisor's own loop did not run for this long beyond its
    /// tolerance (stopped, starved): the time was not counted against any
    /// worker (the shell's clock is a `PresenceClock`).
    case loopStalled(Duration)
    /// A message for a worker could not be queued on its stdin: its
    /// process is gone, its stdin is closed, or it does not read it.
    case workerInputDropped(pid: Int32, message: String, WorkerInputDrop)
    /// The worker launcher ended (reaped); workers it started go on, and
    /// new ones are started without it until it is restarted.
    case launcherExited(pid: Int32, WorkerTermination)
    /// A worker process ended (reaped with `waitpid`).
    case workerExited(pid: Int32, WorkerTermination)

    case signalReceived(SupervisorSignal)

    /// The shell is about to report a new batch of notifications read from
    /// the repository: senders checked in the previous batch are checked
    /// again.
    case notificationBatchBegan
    /// A NOTIFY on `powa_collector`. `senderPermitted` is the shell's answer
    /// to "may the role of the sending backend (its pid came with the
    /// notification) ask things of the collector?", found with SQL.
    /// `senderPID` names the sender in aggregated log lines (0: unknown).
    case notificationReceived(payload: String, senderPermitted: Bool, senderPID: Int32 = 0)
    /// A NOTIFY on `powa_collector` whose sender is not checked yet. A
    /// request that only asks for an answer gets one that is sent only if
    /// the sender is permitted (`answerNotificationIfPermitted`, check and
    /// answer in one round trip); any other is handed back for the check
    /// (`checkSenderPermission`), then comes as `notificationReceived`.
    case notificationFromUncheckedSender(payload: String, senderPID: Int32)
    /// The `answerNotificationIfPermitted` action was carried out: the
    /// sender was permitted (and got the answer) or not (and got the denial).
    case conditionalAnswerSent(ConditionalAnswer, senderPID: Int32, senderPermitted: Bool)

    /// The `checkSenderPermission` action failed on a connection that is
    /// still up (a broken one is `repositoryConnectionLost`).
    case senderPermissionCheckFailed(payload: String, senderPID: Int32, reason: String)
    /// The `answerNotificationIfPermitted` action failed on a connection
    /// that is still up; `channel` and `deniedPayload` are the action's.
    case conditionalAnswerFailed(
        ConditionalAnswer, channel: String, deniedPayload: String, senderPID: Int32, reason: String)
    /// The `answerNotification` action failed on a connection that is
    /// still up.
    case notificationAnswerFailed(channel: String, reason: String)

    /// Result of the `coordinate` action: what the repository says about
    /// the instances and who owns which server.
    case coordinationRead(CoordinationView)
    /// The `coordinate` or `claimServers` action failed on a connection
    /// that is still up (otherwise: `repositoryConnectionLost`).
    case coordinationFailed(reason: String)
    /// Result of `claimServers`: the servers now this instance's, with their
    /// new epochs (those locked or taken meanwhile are left out).
    case serversClaimed([Int: Int64])

    /// Time passed: report it when `now` reaches `nextDeadline`. Reporting
    /// it more often is harmless.
    case tick
}
