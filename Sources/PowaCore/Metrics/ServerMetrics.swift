/// What the metrics endpoint reports about one server, summed over every
/// worker process that served it since the collector started.
public struct ServerMetrics: Equatable, Sendable {
    public var srvid: Int
    /// `host:port`, or the alias with `use_server_alias`.
    public var name: String
    /// The `WORKERS_STATUS` string.
    public var status: String
    /// A worker process runs and reports `running`.
    public var up: Bool
    public var restarts: Int
    public var snapshotsTaken: Int
    public var snapshotsFailed: Int
    public var datasourceErrors: Int
    /// Seconds since the Unix epoch, nil before the first snapshot.
    public var lastSnapshotStart: Double?
    public var lastSnapshotDuration: Double?
    /// How late the last snapshot began against its schedule, in seconds.
    public var lastSnapshotLateness: Double?
    public var rowsCopied: Int
    public var bytesCopied: Int

    public init(
        srvid: Int, name: String, status: String, up: Bool, restarts: Int = 0, snapshotsTaken: Int = 0,
        snapshotsFailed: Int = 0, datasourceErrors: Int = 0, lastSnapshotStart: Double? = nil,
        lastSnapshotDuration: Double? = nil, rowsCopied: Int = 0, bytesCopied: Int = 0,
        lastSnapshotLateness: Double? = nil
    ) {
        self.srvid = srvid
        self.name = name
        self.status = status
        self.up = up
        self.restarts = restarts
        self.snapshotsTaken = snapshotsTaken
        self.snapshotsFailed = snapshotsFailed
        self.datasourceErrors = datasourceErrors
        self.lastSnapshotStart = lastSnapshotStart
        self.lastSnapshotDuration = lastSnapshotDuration
        self.rowsCopied = rowsCopied
        self.bytesCopied = bytesCopied
        self.lastSnapshotLateness = lastSnapshotLateness
    }
}
