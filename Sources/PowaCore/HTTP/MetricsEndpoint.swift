/// What each path of the `metrics_listen` endpoint answers, from the
/// metrics the supervisor's state machine reports.
///
/// - `/metrics`: the Prometheus text exposition.
/// - `/healthz`: 200 whenever the event loop answers at all, which is the
///   point: a stalled loop answers nothing and the probe times out.
/// - `/readyz`: 200 once the server list is read and while the repository
///   is connected, else 503 with the reason.
public enum MetricsEndpoint {
    public static func respond(to head: HTTPRequestHead, metrics: () -> SupervisorMetrics) -> HTTPResponse {
        guard head.method == "GET" || head.method == "HEAD" else {
            return HTTPResponse(status: 405, body: "only GET and HEAD are served\n", allow: "GET, HEAD")
        }
        switch head.path {
        case "/metrics":
            return HTTPResponse(
                status: 200, contentType: PrometheusExposition.contentType,
                body: PrometheusExposition.render(metrics()))
        case "/healthz":
            return .text(200, "ok: the supervisor's event loop is running")
        case "/readyz":
            if let reason = metrics().notReadyReason { return .text(503, "not ready: \(reason)") }
            return .text(200, "ready: server list read, repository connected")
        default:
            return .text(404, "not found; try /metrics, /healthz or /readyz")
        }
    }
}
