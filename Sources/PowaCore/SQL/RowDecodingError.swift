/// A result row that does not have the shape its query promises: the
/// repository's schema is not the one this collector was written for.
public enum RowDecodingError: Error, Equatable, Sendable, CustomStringConvertible {
    case wrongColumnCount(expected: Int, got: Int)
    case unexpectedNull(column: String)
    case invalidValue(column: String, value: String, expected: String)

    public var description: String {
        switch self {
        case .wrongColumnCount(let expected, let got):
            "expected \(expected) columns, got \(got)"
        case .unexpectedNull(let column):
            "column \(column) is NULL"
        case .invalidValue(let column, let value, let expected):
            "column \(column): \"\(value)\" is not \(expected)"
        }
    }
}
