/// The status strings powa-web knows. Anything else is shown as-is.
public enum WorkerStatusText {
    public static let running = "running"
    public static let noRemoteConnection = "no connection to remote server"
    public static let noRepositoryConnection = "no connection to repository server"
    public static let stopping = "stopping"
    public static let stopped = "stopped"
}

/// What a worker reports about itself, sent whenever any field changes.
public struct WorkerStatus: Codable, Equatable, Sendable {
    /// One of `WorkerStatusText`.
    public var status: String
    public var snapshotRunning: Bool
    /// Start of the last snapshot, seconds since the Unix epoch.
    public var lastSnapshotStart: Double?
    /// Wall time of the last finished snapshot, in seconds.
    public var lastSnapshotDuration: Double?
    /// Seconds between when the last snapshot was due and when it began
    /// reading the remote (after waiting for a repository slot); 0 for a
    /// forced snapshot ahead of the schedule, nil before the first one. On
    /// an overloaded machine every server's grows a little, none's a lot.
    public var lastSnapshotLateness: Double?
    /// Last error, password-free, or nil when the last snapshot had none.
    public var lastError: String?
    /// Snapshots committed since the worker started.
    public var snapshotsTaken: Int
    /// Counters since the worker started, for the metrics endpoint (the
    /// supervisor adds those of earlier processes of the same server):
    /// snapshots begun that did not commit, datasource errors recorded by
    /// committed snapshots, and rows and bytes streamed by COPY into the
    /// repository. Absent in a line (an older worker) means 0.
    public var snapshotsFailed: Int
    public var datasourceErrors: Int
    public var rowsCopied: Int
    public var bytesCopied: Int

    public init(
        status: String, snapshotRunning: Bool = false, lastSnapshotStart: Double? = nil,
        lastSnapshotDuration: Double? = nil, lastError: String? = nil, snapshotsTaken: Int = 0,
        snapshotsFailed: Int = 0, datasourceErrors: Int = 0, rowsCopied: Int = 0, bytesCopied: Int = 0,
        lastSnapshotLateness: Double? = nil
    ) {
        self.status = status
        self.snapshotRunning = snapshotRunning
        self.lastSnapshotStart = lastSnapshotStart
        self.lastSnapshotDuration = lastSnapshotDuration
        self.lastError = lastError
        self.snapshotsTaken = snapshotsTaken
        self.snapshotsFailed = snapshotsFailed
        self.datasourceErrors = datasourceErrors
        self.rowsCopied = rowsCopied
        self.bytesCopied = bytesCopied
        self.lastSnapshotLateness = lastSnapshotLateness
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        status = try c.decode(String.self, forKey: .status)
        snapshotRunning = try c.decode(Bool.self, forKey: .snapshotRunning)
        lastSnapshotStart = try c.decodeIfPresent(Double.self, forKey: .lastSnapshotStart)
        lastSnapshotDuration = try c.decodeIfPresent(Double.self, forKey: .lastSnapshotDuration)
        lastError = try c.decodeIfPresent(String.self, forKey: .lastError)
        snapshotsTaken = try c.decodeIfPresent(Int.self, forKey: .snapshotsTaken) ?? 0
        snapshotsFailed = try c.decodeIfPresent(Int.self, forKey: .snapshotsFailed) ?? 0
        datasourceErrors = try c.decodeIfPresent(Int.self, forKey: .datasourceErrors) ?? 0
        rowsCopied = try c.decodeIfPresent(Int.self, forKey: .rowsCopied) ?? 0
        bytesCopied = try c.decodeIfPresent(Int.self, forKey: .bytesCopied) ?? 0
        lastSnapshotLateness = try c.decodeIfPresent(Double.self, forKey: .lastSnapshotLateness)
    }

    enum CodingKeys: String, CodingKey {
        case status
        case snapshotRunning = "snapshot_running"
        case lastSnapshotStart = "last_snapshot_start"
        case lastSnapshotDuration = "last_snapshot_duration"
        case lastError = "last_error"
        case snapshotsTaken = "snapshots_taken"
        case snapshotsFailed = "snapshots_failed"
        case datasourceErrors = "datasource_errors"
        case rowsCopied = "rows_copied"
        case bytesCopied = "bytes_copied"
        case lastSnapshotLateness = "last_snapshot_lateness"
    }
}
