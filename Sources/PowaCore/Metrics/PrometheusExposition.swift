/// Renders `SupervisorMetrics` in Prometheus' text exposition format
/// (version 0.0.4): `# HELP` and `# TYPE` once per family, then one sample a
/// line. Names follow Prometheus' conventions: a `powa_collector_` prefix,
/// `_total` on counters, base units (`_seconds`, `_bytes`).
///
/// A small renderer rather than swift-prometheus: every value already
/// lives in the supervisor's state machine, so a registry of metric
/// objects updated at each event would be a second copy of that state.
public enum PrometheusExposition {
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    public static func render(_ metrics: SupervisorMetrics) -> String {
        var out = Output()
        out.family(
            "powa_collector_repository_connected", .gauge,
            "1 when the supervisor's connection to the repository is up.")
        out.sample("powa_collector_repository_connected", [], metrics.repositoryConnected ? 1 : 0)
        out.family(
            "powa_collector_server_list_read", .gauge,
            "1 once the server list was read from the repository and its workers started.")
        out.sample("powa_collector_server_list_read", [], metrics.serverListRead ? 1 : 0)

        out.family(
            "powa_collector_notify_requests_total", .counter,
            "NOTIFY requests received on powa_collector, by command and outcome.")
        let requests = metrics.notifyRequests.counts
        for key in requests.keys.sorted(by: {
            ($0.command.rawValue, $0.outcome.rawValue) < ($1.command.rawValue, $1.outcome.rawValue)
        }) {
            out.sample(
                "powa_collector_notify_requests_total",
                [("command", key.command.rawValue), ("outcome", key.outcome.rawValue)], Double(requests[key]!))
        }
        out.family(
            "powa_collector_snapshot_slots", .gauge,
            "Repository slots for snapshots (max_concurrent_snapshots).")
        out.sample("powa_collector_snapshot_slots", [], Double(metrics.snapshotSlots.capacity))
        out.family("powa_collector_snapshot_slots_in_use", .gauge, "Snapshot slots held by a worker now.")
        out.sample("powa_collector_snapshot_slots_in_use", [], Double(metrics.snapshotSlots.inUse))
        out.family("powa_collector_snapshot_slot_waiters", .gauge, "Workers waiting for a snapshot slot.")
        out.sample("powa_collector_snapshot_slot_waiters", [], Double(metrics.snapshotSlots.waiting))
        if let coordination = metrics.coordination {
            out.family(
                "powa_collector_servers_listed", .gauge,
                "Servers powa_servers lists, whichever instance collects them.")
            out.sample("powa_collector_servers_listed", [], Double(coordination.listed))
            out.family(
                "powa_collector_servers_owned", .gauge,
                "Servers this instance collects (the others' belong to other instances on the repository).")
            out.sample("powa_collector_servers_owned", [], Double(coordination.owned))
            out.family(
                "powa_collector_coordination_failing", .gauge,
                "1 while this instance's coordination rounds with the other instances fail.")
            out.sample("powa_collector_coordination_failing", [], coordination.roundFailing ? 1 : 0)
        }
        out.family("powa_collector_workers", .gauge, "Workers by their WORKERS_STATUS string.")
        let byStatus = metrics.workersByStatus
        for status in byStatus.keys.sorted() {
            out.sample("powa_collector_workers", [("status", status)], Double(byStatus[status]!))
        }

        let servers = metrics.servers
        func perServer(_ name: String, _ type: FamilyType, _ help: String, _ value: (ServerMetrics) -> Double?) {
            out.family(name, type, help)
            for server in servers {
                guard let number = value(server) else { continue }
                out.sample(name, [("srvid", String(server.srvid)), ("server", server.name)], number)
            }
        }
        perServer(
            "powa_collector_worker_up", .gauge,
            "1 when the server's worker process runs and reports running."
        ) { $0.up ? 1 : 0 }
        perServer(
            "powa_collector_worker_restarts_total", .counter,
            "Times the server's worker was restarted after it exited, was killed or hung."
        ) {
            Double($0.restarts)
        }
        perServer("powa_collector_snapshots_total", .counter, "Snapshots committed.") { Double($0.snapshotsTaken) }
        perServer(
            "powa_collector_snapshots_failed_total", .counter,
            "Snapshots begun that did not commit."
        ) { Double($0.snapshotsFailed) }
        perServer(
            "powa_collector_datasource_errors_total", .counter,
            "Datasource errors recorded by committed snapshots."
        ) { Double($0.datasourceErrors) }
        perServer(
            "powa_collector_last_snapshot_start_timestamp_seconds", .gauge,
            "Start of the last snapshot, seconds since the Unix epoch."
        ) { $0.lastSnapshotStart }
        perServer(
            "powa_collector_last_snapshot_duration_seconds", .gauge,
            "Wall time of the last finished snapshot."
        ) { $0.lastSnapshotDuration }
        perServer(
            "powa_collector_last_snapshot_lateness_seconds", .gauge,
            "How late the last snapshot began reading the remote against its schedule."
        ) {
            $0.lastSnapshotLateness
        }
        perServer(
            "powa_collector_copied_rows_total", .counter,
            "Rows copied into the repository by committed snapshots."
        ) { Double($0.rowsCopied) }
        perServer(
            "powa_collector_copied_bytes_total", .counter,
            "Bytes of COPY data streamed into the repository by committed snapshots."
        ) {
            Double($0.bytesCopied)
        }
        return out.text
    }

    enum FamilyType: String {
        case counter, gauge
    }

    struct Output {
        var text = ""

        mutating func family(_ name: String, _ type: FamilyType, _ help: String) {
            text += "# HELP \(name) \(help)\n# TYPE \(name) \(type.rawValue)\n"
        }

        mutating func sample(_ name: String, _ labels: [(String, String)], _ value: Double) {
            text += name
            if !labels.isEmpty {
                text +=
                    "{"
                    + labels.map { "\($0.0)=\"\(PrometheusExposition.escapeLabelValue($0.1))\"" }
                    .joined(separator: ",") + "}"
            }
            text += " " + PrometheusExposition.format(value) + "\n"
        }
    }

    /// Backslash, double quote and line feed are the three characters the
    /// format escapes in label values.
    static func escapeLabelValue(_ value: String) -> String {
        var result = ""
        for character in value {
            switch character {
            case "\\": result += "\\\\"
            case "\"": result += "\\\""
            case "\n": result += "\\n"
            default: result.append(character)
            }
        }
        return result
    }

    /// Integers without a fraction (counters read better so), others in
    /// Swift's shortest round-trip form, which Prometheus parses.
    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }
}
