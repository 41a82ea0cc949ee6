/// Where and why a JSON text is invalid.
///
/// Line and column are 1-based and the column counts characters (Unicode
/// scalars), not bytes, as editors and Python's `json` do, so that a user can
/// jump straight to the spot.
public struct JSONSyntaxError: Error, Equatable, Sendable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    /// Byte offset from the start of the text, 0-based.
    public var offset: Int
    public var problem: String

    public init(line: Int, column: Int, offset: Int, problem: String) {
        self.line = line
        self.column = column
        self.offset = offset
        self.problem = problem
    }

    /// Computes line and column of `offset` in `bytes`.
    public init(in bytes: some Collection<UInt8>, offset: Int, problem: String) {
        var line = 1
        var column = 1
        for byte in bytes.prefix(offset) {
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                // Only the first byte of a UTF-8 sequence starts a character.
                column += 1
            }
        }
        self.init(line: line, column: column, offset: offset, problem: problem)
    }

    public var description: String { "line \(line), column \(column): \(problem)" }
}
