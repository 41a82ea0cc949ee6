/// Rows and bytes one snapshot streamed into the repository, added to the
/// worker's status counters when the snapshot commits.
public struct CopiedVolume: Equatable, Sendable {
    public var rows = 0
    public var bytes = 0

    public init(rows: Int = 0, bytes: Int = 0) {
        self.rows = rows
        self.bytes = bytes
    }
}
