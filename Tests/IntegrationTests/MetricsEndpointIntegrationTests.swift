import Glibc
import PowaCore
import TestSupport
import Testing

/// The `metrics_listen` endpoint against its real counterparts: Debian's
/// Prometheus server scrapes it and answers our series on its HTTP API,
/// `promtool check metrics` accepts the exposition, and hostile clients do
/// not stop it from answering.
@Suite(.enabled(if: TestEnvironment.isAvailable && access("/usr/bin/prometheus", X_OK) == 0))
struct MetricsEndpointIntegrationTests {
    @Test func prometheusScrapesOurSeriesAndPromtoolAcceptsThem() async throws {
        try await withCollectorRepository(powaMajor: 4) { repository in
            let srvid = try repository.registerServer(address: 11, frequency: 5)
            let port = HTTPFetch.freePort()
            let extra = "\"metrics_listen\": \"127.0.0.1:\(port)\""
            try await withCollector(on: repository, extra: extra) { supervisor in
                // At least one: a test process kept from polling for 5 s
                // (a loaded machine) sees the second or a later one first.
                let server = "127.0.0.11:\(repository.remote.port)"
                let series = "powa_collector_snapshots_total{srvid=\"\(srvid)\",server=\"\(server)\"} "
                let snapshotted = try await eventually(timeout: 60) {
                    try HTTPFetch.get(port: port, path: "/metrics").body.split(separator: "\n").contains {
                        $0.hasPrefix(series) && (Int($0.dropFirst(series.count)) ?? 0) >= 1
                    }
                }
                try #require(snapshotted, "\(supervisor.logTail())")
                #expect(try HTTPFetch.get(port: port, path: "/healthz").status == 200)
                let ready = try HTTPFetch.get(port: port, path: "/readyz")
                #expect(ready.status == 200)
                #expect(ready.body == "ready: server list read, repository connected\n")
                #expect(try HTTPFetch.get(port: port, path: "/other").status == 404)

                let directory = try TemporaryDirectory(prefix: "prometheus")
                defer { directory.remove() }
                let exposition = try HTTPFetch.get(port: port, path: "/metrics").body
                #expect(exposition.contains("powa_collector_copied_rows_total{srvid=\"\(srvid)\""))
                #expect(exposition.contains("\npowa_collector_snapshot_slots 10\n"), "\(exposition)")
                let file = try directory.write("metrics.txt", exposition)
                let lint = try await TestProcess.run(
                    "/bin/sh", ["-c", "exec /usr/bin/promtool check metrics < '\(file)'"], in: directory,
                    name: "promtool")
                #expect(lint.termination == .exited(0), "\(lint.stdout)\(lint.stderr)")
                #expect(lint.stdout.isEmpty && lint.stderr.isEmpty, "\(lint.stdout)\(lint.stderr)")

                let webPort = HTTPFetch.freePort()
                let configuration = try directory.write(
                    "prometheus.yml",
                    """
                    global:
                      scrape_interval: 1s
                    scrape_configs:
                      - job_name: powa
                        static_configs:
                          - targets: ['127.0.0.1:\(port)']
                    """)
                let prometheus = try TestProcess(
                    executable: "/usr/bin/prometheus",
                    arguments: [
                        "--config.file=\(configuration)", "--storage.tsdb.path=\(directory.path)/data",
                        "--web.listen-address=127.0.0.1:\(webPort)",
                    ],
                    environment: [], outputIn: directory, name: "prometheus")
                defer { prometheus.signal(SIGKILL) }
                let query = "/api/v1/query?query=powa_collector_worker_up"
                let scraped = await eventually(timeout: 60, interval: 0.5) {
                    guard let answer = try? HTTPFetch.get(port: webPort, path: query) else { return false }
                    return answer.body.contains("\"srvid\":\"\(srvid)\"") && answer.body.contains("\"1\"]")
                }
                #expect(scraped, "\(prometheus.standardError.suffix(2000))")
                let copied = try HTTPFetch.get(
                    port: webPort, path: "/api/v1/query?query=powa_collector_copied_bytes_total")
                #expect(copied.body.contains("\"server\":\"127.0.0.11:\(repository.remote.port)\""), "\(copied.body)")
                let health = try HTTPFetch.get(port: webPort, path: "/api/v1/query?query=up%7Bjob%3D%22powa%22%7D")
                #expect(health.body.contains("\"1\"]"), "\(health.body)")
            }
        }
    }

    /// Idle connections in every slot, a client that never finishes its
    /// request and an oversized request: the endpoint still answers.
    @Test func slowAndHostileClientsDoNotStallTheEndpoint() async throws {
        try await withCollectorRepository(powaMajor: 4) { repository in
            try repository.registerServer(address: 12, frequency: 5)
            let port = HTTPFetch.freePort()
            try await withCollector(on: repository, extra: "\"metrics_listen\": \"127.0.0.1:\(port)\"") { supervisor in
                var idle: [Int32] = []
                defer { idle.forEach { close($0) } }
                for _ in 0..<40 { idle.append(try HTTPFetch.connect(port: port)) }
                let partial = try HTTPFetch.connect(port: port)
                defer { close(partial) }
                let start = Array("GET /metrics HTTP/1.1\r\nHost: x\r\n".utf8)
                _ = send(partial, start, start.count, Int32(MSG_NOSIGNAL))
                let answered = try HTTPFetch.get(port: port, path: "/healthz")
                #expect(answered.status == 200, "\(supervisor.logTail())")

                let huge = try HTTPFetch.connect(port: port)
                defer { close(huge) }
                let flood = Array(
                    ("GET /metrics HTTP/1.1\r\nX: " + String(repeating: "a", count: 10_000) + "\r\n\r\n").utf8)
                _ = send(huge, flood, flood.count, Int32(MSG_NOSIGNAL))
                var buffer = [UInt8](repeating: 0, count: 512)
                let count = recv(huge, &buffer, buffer.count, 0)
                #expect(
                    count > 0 && String(decoding: buffer[0..<max(0, count)], as: UTF8.self).hasPrefix("HTTP/1.1 431"))

                #expect(try HTTPFetch.get(port: port, path: "/metrics").status == 200)
                // The workers were supervised meanwhile.
                let client = try NotifyClient(cluster: repository.cluster, database: repository.database)
                #expect(try await client.workersStatus(timeout: 10) != nil)
            }
        }
    }
}
