/// The second word of an answer.
public enum NotifyAnswerStatus: String, Equatable, Sendable {
    /// Done (or, for `FORCE_SNAPSHOT`, accepted).
    case ok = "OK"
    /// Failed; only used today for an answer too long to send.
    case ko = "KO"
    /// Bad request, refused, or permission denied.
    case error = "ERROR"
    /// Unknown command.
    case unknown = "UNKNOWN"
}
