/// What `powa-collector check` found for one server: nothing (OK) or the
/// problems that would stop or spoil its snapshots.
public struct ServerCheckResult: Equatable, Sendable {
    public var srvid: Int
    /// `host:port`, or the alias with `use_server_alias`.
    public var name: String
    public var problems: [String]

    public init(srvid: Int, name: String, problems: [String]) {
        self.srvid = srvid
        self.name = name
        self.problems = problems
    }

    public var passed: Bool { problems.isEmpty }

    /// `name: OK` or `name: FAIL problem; problem`, on one line.
    public var line: String {
        passed ? "\(name): OK" : "\(name): FAIL " + problems.map(OperatorText.oneLine).joined(separator: "; ")
    }
}

/// Text helpers shared by `check` and `status`.
public enum OperatorText {
    /// libpq's messages span lines; a report line must not.
    public static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline).map { $0.trimmingPrefix(while: \.isWhitespace) }
            .filter { !$0.isEmpty }.joined(separator: " ")
    }

    /// A JSON string literal.
    public static func json(_ text: String) -> String { JSONStringLiteral.quoted(text) }
}
