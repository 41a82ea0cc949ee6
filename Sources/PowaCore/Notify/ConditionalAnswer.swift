/// A request answered on the condition that its sender is permitted (the
/// check and the answer go in one statement): what the state machine needs
/// back, once the shell knows, to count the request and log a refusal.
public struct ConditionalAnswer: Equatable, Sendable {
    /// The request's command word, as the answer echoes it.
    public var command: String
    /// What became of the request if its sender was permitted.
    public var outcomeIfPermitted: NotifyRequestCounters.Outcome

    public init(command: String, outcomeIfPermitted: NotifyRequestCounters.Outcome) {
        self.command = command
        self.outcomeIfPermitted = outcomeIfPermitted
    }
}
