/// The answer to a `WORKERS_STATUS` request, which is always sent: the
/// workers' statuses when they fit in one NOTIFY payload, otherwise `KO`
/// with a reason that tells how to ask for one server instead.
///
/// The reference answers `KO {ANSWER TOO LONG}` beyond the limit, which says
/// neither why nor what to do; powa-web shows no status either way.
public enum WorkersStatusAnswer {
    public static let command = "WORKERS_STATUS"

    /// The status and data of the answer to `WORKERS_STATUS` for
    /// `statuses`; `COMMAND STATUS DATA` is always under
    /// `NotifyAnswer.payloadLimitBytes`.
    public static func answer(_ statuses: [Int: String]) -> (status: NotifyAnswerStatus, data: String) {
        let json = WorkersStatusJSON.encode(statuses)
        if fits(.ok, json) { return (.ok, json) }
        return (.ko, tooLongReason(serverCount: statuses.count))
    }

    /// Why the list is not sent, and how to get a server's status anyway.
    public static func tooLongReason(serverCount: Int) -> String {
        "the status of \(serverCount) servers does not fit in one notification "
            + "(\(NotifyAnswer.payloadLimitBytes) bytes at most); ask for one server with "
            + "WORKERS_STATUS <channel> <srvid>"
    }

    /// Whether `WORKERS_STATUS STATUS DATA` is short enough to send.
    static func fits(_ status: NotifyAnswerStatus, _ data: String) -> Bool {
        command.utf8.count + 1 + status.rawValue.utf8.count + 1 + data.utf8.count < NotifyAnswer.payloadLimitBytes
    }
}
