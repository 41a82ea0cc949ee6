import Testing

@testable import PowaCore

@Suite struct MetricsEndpointTests {
    static let sample = SupervisorMetrics(
        repositoryConnected: true, serverListRead: true, state: .ready,
        servers: [
            ServerMetrics(
                srvid: 1, name: "db\"1\\\n", status: "running", up: true, restarts: 2, snapshotsTaken: 5,
                snapshotsFailed: 1, datasourceErrors: 3, lastSnapshotStart: 1_700_000_000.25,
                lastSnapshotDuration: 0.5, rowsCopied: 900, bytesCopied: 65536),
            ServerMetrics(srvid: 2, name: "10.0.0.2:5432", status: "starting", up: false),
        ])

    @Test func exposesEveryFamilyWithTypeAndEscapedLabels() {
        let text = PrometheusExposition.render(Self.sample)
        #expect(text.contains("# TYPE powa_collector_worker_restarts_total counter\n"))
        #expect(text.contains("# TYPE powa_collector_last_snapshot_start_timestamp_seconds gauge\n"))
        #expect(text.contains("powa_collector_worker_restarts_total{srvid=\"1\",server=\"db\\\"1\\\\\\n\"} 2\n"))
        #expect(text.contains("powa_collector_copied_bytes_total{srvid=\"1\",server=\"db\\\"1\\\\\\n\"} 65536\n"))
        #expect(
            text.contains("powa_collector_last_snapshot_duration_seconds{srvid=\"1\",server=\"db\\\"1\\\\\\n\"} 0.5\n"))
        #expect(
            text.contains(
                "powa_collector_last_snapshot_start_timestamp_seconds{srvid=\"1\",server=\"db\\\"1\\\\\\n\"} 1700000000.25\n"
            ))
        #expect(text.contains("powa_collector_workers{status=\"starting\"} 1\n"))
        #expect(text.contains("# TYPE powa_collector_snapshot_slots_in_use gauge\n"))
        #expect(text.contains("powa_collector_worker_up{srvid=\"2\",server=\"10.0.0.2:5432\"} 0\n"))
        // A server without a snapshot has no last-snapshot sample at all.
        #expect(!text.contains("powa_collector_last_snapshot_start_timestamp_seconds{srvid=\"2\""))
    }

    @Test func readinessNeedsTheServerListAndTheRepository() {
        var metrics = Self.sample
        #expect(MetricsEndpoint.respond(to: HTTPRequestHead(method: "GET", path: "/readyz")) { metrics }.status == 200)
        metrics.repositoryConnected = false
        let down = MetricsEndpoint.respond(to: HTTPRequestHead(method: "GET", path: "/readyz")) { metrics }
        #expect(down.status == 503)
        #expect(down.body == "not ready: not connected to the repository\n")
        metrics.serverListRead = false
        #expect(MetricsEndpoint.respond(to: HTTPRequestHead(method: "GET", path: "/readyz")) { metrics }.status == 503)
        #expect(MetricsEndpoint.respond(to: HTTPRequestHead(method: "GET", path: "/healthz")) { metrics }.status == 200)
        #expect(
            MetricsEndpoint.respond(to: HTTPRequestHead(method: "POST", path: "/metrics")) { metrics }.status == 405)
        #expect(MetricsEndpoint.respond(to: HTTPRequestHead(method: "GET", path: "/nope")) { metrics }.status == 404)
    }

    @Test func requestHeadIsParsedOnlyOnceCompleteAndBounded() {
        #expect(HTTPRequestHead.parse(Array("GET /metrics HTTP/1.1\r\nHost: x\r\n".utf8)) == .incomplete)
        #expect(
            HTTPRequestHead.parse(Array("GET /metrics?x=1 HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
                == .complete(HTTPRequestHead(method: "GET", path: "/metrics")))
        #expect(
            HTTPRequestHead.parse(Array("GET /healthz HTTP/1.0\n\n".utf8))
                == .complete(HTTPRequestHead(method: "GET", path: "/healthz")))
        #expect(
            HTTPRequestHead.parse(Array("garbage\r\n\r\n".utf8))
                == .invalid(status: 400, reason: "malformed request line"))
        let flood = [UInt8](repeating: UInt8(ascii: "a"), count: HTTPRequestHead.maximumBytes)
        #expect(HTTPRequestHead.parse(flood) == .invalid(status: 431, reason: "request head too large"))
    }

    @Test func listenAddressTakesHostAndPort() {
        #expect(ListenAddress("127.0.0.1:9187")?.description == "127.0.0.1:9187")
        #expect(ListenAddress("localhost:9187")?.host == "127.0.0.1")
        #expect(ListenAddress("[::1]:9187")?.isIPv6 == true)
        #expect(ListenAddress("9187") == nil)
        #expect(ListenAddress("127.0.0.1:99999") == nil)
        #expect(ListenAddress(":9187") == nil)
    }

    @Test func metricsListenIsReadAndCheckedFromTheFile() throws {
        let good = try CollectorConfiguration.parse(
            Array(#"{"repository": {"dsn": "x"}, "metrics_listen": "0.0.0.0:9187"}"#.utf8), path: "/c")
        #expect(good.configuration.metricsListen == ListenAddress("0.0.0.0:9187"))
        #expect(good.unknownKeys.isEmpty)
        #expect(throws: ConfigurationError.self) {
            try CollectorConfiguration.parse(
                Array(#"{"repository": {"dsn": "x"}, "metrics_listen": "9187"}"#.utf8), path: "/c")
        }
    }
}
