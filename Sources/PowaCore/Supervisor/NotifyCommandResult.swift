/// What a request that acts on a worker (`FORCE_SNAPSHOT`,
/// `REFRESH_CATALOGS`) came to: the answer's status and data, and how the
/// request is counted.
struct NotifyCommandResult: Equatable, Sendable {
    var status: NotifyAnswerStatus
    var data: String
    var outcome: NotifyRequestCounters.Outcome

    static func accepted(_ data: String) -> Self { Self(status: .ok, data: data, outcome: .done) }
    static func refused(_ data: String) -> Self { Self(status: .error, data: data, outcome: .declined) }
}
