/// One statement of `VersionSavePlan`, with what it records, for the
/// warning logged when it fails ("could not save the version of …").
public struct VersionSaveStep: Equatable, Sendable {
    public var subject: String
    public var statement: SQLStatement

    public init(subject: String, statement: SQLStatement) {
        self.subject = subject
        self.statement = statement
    }
}
