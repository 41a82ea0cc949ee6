/// An answer to a request: `COMMAND STATUS DATA`, sent as a NOTIFY on the
/// request's response channel.
public struct NotifyAnswer: Equatable, Sendable {
    /// PostgreSQL's default limit on a NOTIFY payload is 8000 bytes, and the
    /// reference replaces any answer of 8000 bytes or more.
    public static let payloadLimitBytes = 8000
    /// The data of an answer that would not fit.
    public static let tooLongData = "{ANSWER TOO LONG}"

    public var command: String
    public var status: NotifyAnswerStatus
    public var data: String

    public init(command: String, status: NotifyAnswerStatus, data: String) {
        self.command = command
        self.status = status
        self.data = data
    }

    /// The text to send: `COMMAND STATUS DATA`, or `COMMAND KO {ANSWER TOO
    /// LONG}` when that is `payloadLimitBytes` or more in UTF-8. Nil when
    /// even the replacement does not fit, which only a command word of
    /// nearly 8000 bytes can cause: such a request gets no answer rather than
    /// a NOTIFY that PostgreSQL would reject.
    public var payload: String? {
        let full = "\(command) \(status.rawValue) \(data)"
        if fits { return full }
        let replacement = "\(command) \(NotifyAnswerStatus.ko.rawValue) \(Self.tooLongData)"
        return replacement.utf8.count < Self.payloadLimitBytes ? replacement : nil
    }

    /// Whether `COMMAND STATUS DATA` itself fits, so that `payload` is not
    /// the replacement.
    public var fits: Bool {
        command.utf8.count + 1 + status.rawValue.utf8.count + 1 + data.utf8.count < Self.payloadLimitBytes
    }
}
