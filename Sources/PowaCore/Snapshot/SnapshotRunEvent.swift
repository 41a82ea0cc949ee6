/// The answer to a `SnapshotRunCommand`.
public enum SnapshotRunEvent: Equatable, Sendable {
    /// Answer to `.readRemoteExtensions`.
    case remoteExtensionsRead(InstalledExtensions)
    /// The statement ran (or the database connection opened); its rows in
    /// text format.
    case succeeded(rows: [[String?]])
    case failed(StatementFailure)
    /// A statement sent ahead of the command's own (its preamble) failed;
    /// the command's own statement did not run.
    case preambleFailed(StatementFailure)
    case copied(rows: Int, bytes: Int)
    case copyFailed(CopyFailure)
    /// Answer to `.rollBack`: whether each connection is still usable.
    case rolledBack(remoteHealthy: Bool, repositoryHealthy: Bool)
}

/// Why the worker wants the running snapshot to end, given with every
/// event: the snapshot then rolls back at its next step.
public enum SnapshotInterruption: Equatable, Sendable {
    /// The worker is stopping (`stop`, SIGTERM, end of stdin).
    case stopping
    /// The snapshot ran past its budget and its statements were cancelled.
    case overBudget
}

/// How a snapshot ended, for the worker's status.
public enum SnapshotRunResult: Equatable, Sendable {
    /// Committed; `errors` are the datasources' and `powa_take_snapshot`'s.
    case committed(errors: [String], copied: CopiedVolume)
    /// Nothing committed. `reason` becomes the status's last error when
    /// set; `countsAsFailure` is false when the worker stopped.
    case notCommitted(reason: String?, countsAsFailure: Bool)
}
