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
    /// Last error, password-free, or nil when the last snapshot had none.
    public var lastError: String?
    /// Snapshots committed since the worker started.
    public var snapshotsTaken: Int

    public init(
        status: String, snapshotRunning: Bool = false, lastSnapshotStart: Double? = nil,
        lastSnapshotDuration: Double? = nil, lastError: String? = nil, snapshotsTaken: Int = 0
    ) {
        self.status = status
        self.snapshotRunning = snapshotRunning
        self.lastSnapshotStart = lastSnapshotStart
        self.lastSnapshotDuration = lastSnapshotDuration
        self.lastError = lastError
        self.snapshotsTaken = snapshotsTaken
    }

    enum CodingKeys: String, CodingKey {
        case status
        case snapshotRunning = "snapshot_running"
        case lastSnapshotStart = "last_snapshot_start"
        case lastSnapshotDuration = "last_snapshot_duration"
        case lastError = "last_error"
        case snapshotsTaken = "snapshots_taken"
    }
}
