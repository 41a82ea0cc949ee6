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
    ///
    /// Looks for newlines a read at a time and copies whole pieces: a line
    /// that arrives in one read (nearly all of them) is copied once, straight
    /// out of the read, instead of byte by byte through `pending` (which was
    /// a tenth of the supervisor's CPU at 500 workers). The bytes are a
    /// concrete type, not any collection: a generic called from another
    /// module runs unspecialised, one witness call a byte.
    public mutating func append(_ bytes: [UInt8]) -> [Item] {
        append(bytes[...])
    }

    public mutating func append(_ bytes: ArraySlice<UInt8>) -> [Item] {
        var items: [Item] = []
        var rest = bytes
        while let newline = rest.firstIndex(of: UInt8(ascii: "\n")) {
            let piece = rest[..<newline]
            rest = rest[rest.index(after: newline)...]
            if pending.isEmpty, !discarding, piece.count <= maximumLineLength {
                items.append(.line(Array(piece)))
                continue
            }
            take(piece)
            if discarding {
                items.append(.overlong(length: discardedLength))
                discarding = false
                discardedLength = 0
            } else {
                items.append(.line(pending))
            }
            pending = []
        }
        take(rest)
        return items
    }

    /// Keeps a piece of the line being read, or counts it once the line is
    /// over the limit.
    private mutating func take(_ piece: ArraySlice<UInt8>) {
        if discarding {
            discardedLength += piece.count
        } else if pending.count + piece.count > maximumLineLength {
            discarding = true
            discardedLength = pending.count + piece.count
            pending = []
        } else {
            pending.append(contentsOf: piece)
        }
    }
}
