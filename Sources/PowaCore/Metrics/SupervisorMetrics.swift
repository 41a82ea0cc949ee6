/// Everything `GET /metrics`, `/healthz` and `/readyz` report, read from the
/// supervisor's state machine at request time (`SupervisorStateMachine
/// .metrics(now:)`), so that the endpoint decides nothing itself.
public struct SupervisorMetrics: Equatable, Sendable {
    public var repositoryConnected: Bool
    /// The first server list was read and its workers started.
    public var serverListRead: Bool
    public var state: ServiceState
    /// In server id order.
    public var servers: [ServerMetrics]
    public var notifyRequests: NotifyRequestCounters
    public var snapshotSlots: SlotUse
    /// This instance's share of the servers when several share the
    /// repository; `servers` lists only the ones it collects.
    public var coordination: CoordinationSummary?

    /// The repository slots of `max_concurrent_snapshots`.
    public struct SlotUse: Equatable, Sendable {
        public var capacity: Int
        public var inUse: Int
        /// Workers waiting for one.
        public var waiting: Int

        public init(capacity: Int, inUse: Int, waiting: Int) {
            self.capacity = capacity
            self.inUse = inUse
            self.waiting = waiting
        }
    }

    public init(
        repositoryConnected: Bool, serverListRead: Bool, state: ServiceState, servers: [ServerMetrics],
        notifyRequests: NotifyRequestCounters = NotifyRequestCounters(),
        snapshotSlots: SlotUse = SlotUse(capacity: 0, inUse: 0, waiting: 0),
        coordination: CoordinationSummary? = nil
    ) {
        self.coordination = coordination
        self.repositoryConnected = repositoryConnected
        self.serverListRead = serverListRead
        self.state = state
        self.servers = servers
        self.notifyRequests = notifyRequests
        self.snapshotSlots = snapshotSlots
    }

    /// Number of workers by their status string.
    public var workersByStatus: [String: Int] {
        var counts: [String: Int] = [:]
        for server in servers { counts[server.status, default: 0] += 1 }
        return counts
    }

    /// `/readyz`: nil when ready, else the reason.
    public var notReadyReason: String? {
        if state == .stopping { return "the collector is stopping" }
        if !serverListRead { return "the server list has not been read from the repository yet" }
        if !repositoryConnected { return "not connected to the repository" }
        if let coordination, coordination.roundFailing { return coordination.notReadyReason }
        return nil
    }
}
