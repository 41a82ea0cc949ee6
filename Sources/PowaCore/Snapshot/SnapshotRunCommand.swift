/// Which of a snapshot's connections a command runs on.
public enum SnapshotSide: Equatable, Sendable {
    /// The repository connection that holds the snapshot's transaction.
    case repository
    /// The remote server's main connection.
    case remote
    /// The per-database remote connection opened last (`openDatabase`).
    case database
}

/// SQL for `SnapshotRunCommand.execute`.
public enum SnapshotSQL: Equatable, Sendable {
    /// Sent as is with the simple query protocol: it may hold several
    /// statements (a savepoint and a cleanup) and takes no parameters.
    case simple(String)
    /// One statement whose values travel as parameters.
    case parameterized(SQLStatement)
}

/// One streamed copy: `sourceSQL` on `from`, `targetSQL` on the repository.
public struct SnapshotCopy: Equatable, Sendable {
    /// The datasource, db module or catalog, for logs.
    public var name: String
    public var from: SnapshotSide
    /// The source savepoint, then `COPY (…) TO STDOUT`.
    public var sourceSQL: String
    /// The data savepoint, then `COPY … FROM STDIN`.
    public var targetSQL: String
    /// Statements of what came before on the source's side (its `BEGIN`,
    /// the last savepoint's `RELEASE`), one each, sent in the same message
    /// ahead of `sourceSQL`; they must succeed.
    public var sourcePreamble: [String] = []
    /// The same on the repository, ahead of `targetSQL`.
    public var targetPreamble: [String] = []
    /// The next copies' source statements, sent in the same message after
    /// `sourceSQL`, up to the first copy with a cleanup (which runs on its
    /// own after its copy).
    public var sourceFollowing: [String] = []
    /// `sourcePreamble` and `sourceSQL` went with an earlier copy's message.
    public var sourceSent = false
    /// The source's message goes on after this copy's COPY.
    public var sourceContinues = false
    /// The next copies' repository statements, sent in the same message
    /// after `targetSQL`: a round trip less for each of them.
    public var targetFollowing: [String] = []
    /// `targetPreamble` and `targetSQL` went with an earlier copy's message
    /// (its `targetFollowing`): the worker reads their answers only.
    public var targetSent = false
    /// The repository's message goes on after this copy's COPY: the worker
    /// reads only the COPY's own answer at its end.
    public var targetContinues = false
}

/// What the worker does next for the snapshot in progress. Every command
/// but `finish` is answered with exactly one `SnapshotRunEvent`.
public enum SnapshotRunCommand: Equatable, Sendable {
    /// Read the remote's installed extensions again (the remote connection
    /// lives long); answer `.remoteExtensionsRead` or `.failed`.
    case readRemoteExtensions
    /// Run `preamble` then `sql` in one round trip; answer `.succeeded`
    /// with `sql`'s rows, `.failed` when `sql` failed, `.preambleFailed`
    /// when a statement of the preamble did (`sql` then did not run).
    ///
    /// The preamble holds statements whose answer needs no decision before
    /// what follows (a `BEGIN`, a savepoint's `RELEASE`, the session's
    /// name), one statement each, all of which must succeed: sent with the
    /// next statement on the same connection instead of alone, they cost no
    /// round trip of their own. With a parameterized statement in it, `sql`
    /// is one statement (they go in libpq's pipeline mode).
    case execute(SnapshotSQL, on: SnapshotSide, after: [SnapshotSQL] = [])
    /// Stream one copy; answer `.copied`, `.copyFailed`, or
    /// `.preambleFailed` when a statement of either preamble failed.
    case copy(SnapshotCopy)
    /// Open a connection to one remote database (closing the previous
    /// one); answer `.succeeded` with no rows or `.failed`.
    case openDatabase(String)
    /// `ROLLBACK` on the repository and the remote, their failures
    /// ignored; answer `.rolledBack` with the connections' health.
    case rollBack
    /// The snapshot is over: report `result`, then carry out `followUps`
    /// in order.
    case finish(SnapshotRunResult, followUps: [SnapshotFollowUp])
}

/// Side effects with no answer, carried out before the step's command.
public enum SnapshotRunEffect: Equatable, Sendable {
    case log(SnapshotLogLevel, String)
    /// Close the per-database connection: its copies are done.
    case closeDatabase
}

public enum SnapshotLogLevel: Equatable, Sendable {
    case debug, info, warning, error
}

/// What the worker does once a snapshot is over.
public enum SnapshotFollowUp: Equatable, Sendable {
    /// Close the remote connection: the next snapshot opens a fresh one.
    case disconnectRemote
    /// The status reads `no connection to remote server`.
    case reportNoRemoteConnection
    /// Store `errors` in `powa_snapshot_metas.errors` over a new repository
    /// connection (this snapshot's may be in any state).
    case recordErrors([String], replace: Bool)
}

/// One step of the snapshot: effects to carry out, then a command.
public struct SnapshotRunStep: Equatable, Sendable {
    public var effects: [SnapshotRunEffect]
    public var command: SnapshotRunCommand

    public init(effects: [SnapshotRunEffect] = [], command: SnapshotRunCommand) {
        self.effects = effects
        self.command = command
    }
}
