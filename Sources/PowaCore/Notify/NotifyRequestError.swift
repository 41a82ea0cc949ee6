/// Why a request's arguments are invalid; answered as `COMMAND ERROR reason`.
public struct NotifyRequestError: Error, Equatable, Sendable {
    public var reason: String

    public init(_ reason: String) { self.reason = reason }
}
