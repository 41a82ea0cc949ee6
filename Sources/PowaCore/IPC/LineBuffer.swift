/// Splits a byte stream into lines, for the JSON-lines pipes.
///
/// A peer that writes an endless line must not make us grow without bound:
/// a line longer than `maximumLineLength` is dropped whole (reported once as
/// `.overlong`) and reading resumes at the next newline.
public struct LineBuffer: Sendable {
    public enum Item: Equatable, Sendable {
        case line([UInt8])
        /// A line was longer than the limit and was discarded.
        case overlong(length: Int)
    }

    public let maximumLineLength: Int
    private var pending: [UInt8] = []
    private var discarding = false
    private var discardedLength = 0

    public init(maximumLineLength: Int = 1 << 20) {
        self.maximumLineLength = maximumLineLength
    }

    /// Bytes waiting for their newline.
    public var pendingCount: Int { pending.count }

    /// Feeds bytes and returns the complete items they finish.
    public mutating func append(_ bytes: some Collection<UInt8>) -> [Item] {
        var items: [Item] = []
        for byte in bytes {
            if byte == UInt8(ascii: "\n") {
                if discarding {
                    items.append(.overlong(length: discardedLength))
                    discarding = false
                    discardedLength = 0
                } else {
                    items.append(.line(pending))
                }
                pending.removeAll(keepingCapacity: pending.count <= 4096)
            } else if discarding {
                discardedLength += 1
            } else {
                pending.append(byte)
                if pending.count > maximumLineLength {
                    discarding = true
                    discardedLength = pending.count
                    pending.removeAll(keepingCapacity: false)
                }
            }
        }
        return items
    }
}
