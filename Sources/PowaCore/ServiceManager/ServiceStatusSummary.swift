/// The one-line `STATUS=` text: how many servers are collected, how many
/// are fine, and the repository link, e.g. `3 servers: 2 running, 1 failing;
/// repository connected` (`, N starting` while workers have not reported). Built from the `WORKERS_STATUS` strings so that
/// systemd, powa-web and the metrics tell the same story. With several
/// instances on the repository the counts are this instance's workers, and
/// the line adds how many servers the others collect (`; 3 on other
/// instances`) and `; coordination failing` while rounds fail.
public enum ServiceStatusSummary {
    public static func line(
        statuses: [Int: String], repositoryConnected: Bool, state: ServiceState,
        coordination: CoordinationSummary? = nil
    ) -> String {
        let repository = repositoryConnected ? "repository connected" : "repository not connected"
        switch state {
        case .starting: return "starting; \(repository)"
        case .stopping: return "stopping"
        case .ready, .reloading: break
        }
        let running = statuses.values.filter { $0 == WorkerStatusText.running }.count
        let starting = statuses.values.filter { $0 == WorkerMachine.starting }.count
        let failing = statuses.count - running - starting
        let servers = "\(statuses.count) server\(statuses.count == 1 ? "" : "s")"
        let reloading = state == .reloading ? "reloading; " : ""
        let startingText = starting > 0 ? ", \(starting) starting" : ""
        var shared = ""
        if let coordination {
            if coordination.elsewhere > 0 { shared += "; \(coordination.elsewhere) on other instances" }
            if coordination.roundFailing { shared += "; coordination failing" }
        }
        return "\(reloading)\(servers): \(running) running, \(failing) failing\(startingText)\(shared); \(repository)"
    }
}
