/// Copying one datasource's rows from the remote into a repository `_tmp`
/// table, streamed: the remote's `COPY … TO STDOUT` feeds the repository's
/// `COPY … FROM STDIN` chunk by chunk, in COPY text format.
///
/// How the worker runs it, so that a failure costs only this step:
/// 1. repository `Savepoint.data.create`, remote `Savepoint.source.create`;
/// 2. start `target` on the repository, then `source` on the remote, pump;
/// 3. if the remote fails: end the repository COPY with an error, then
///    `Savepoint.source.rollback` and `Savepoint.data.rollback`, record
///    `SnapshotErrorText.sourceFailed`; if the repository fails: cancel or
///    drain the remote COPY, roll both back, record
///    `SnapshotErrorText.insertFailed`; otherwise release both;
/// 4. `cleanup`, if any, on the remote in its own `Savepoint.source`, also
///    when step 3 failed.
public struct CopyStep: Equatable, Sendable {
    /// The datasource, db module or catalog, for logs and error texts.
    public var name: String
    /// Remote statement: `COPY (…) TO STDOUT`.
    public var source: String
    /// Repository statement: `COPY <table> FROM STDIN`.
    public var target: String
    /// What to run on the remote afterwards.
    public var cleanup: CleanupStep?

    public init(name: String, source: String, target: String, cleanup: CleanupStep? = nil) {
        self.name = name
        self.source = source
        self.target = target
        self.cleanup = cleanup
    }
}
