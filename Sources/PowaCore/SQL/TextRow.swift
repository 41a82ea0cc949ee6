/// One result row in text format, with typed accessors that turn a schema
/// surprise into a `RowDecodingError` instead of a crash.
public struct TextRow: Equatable, Sendable {
    public var values: [String?]
    /// Column names, for error messages.
    public var columns: [String]

    /// - Throws: when the row does not have one value per column.
    public init(_ values: [String?], columns: [String]) throws(RowDecodingError) {
        guard values.count == columns.count else {
            throw .wrongColumnCount(expected: columns.count, got: values.count)
        }
        self.values = values
        self.columns = columns
    }

    public func optionalString(_ index: Int) -> String? { values[index] }

    public func string(_ index: Int) throws(RowDecodingError) -> String {
        guard let value = values[index] else { throw .unexpectedNull(column: columns[index]) }
        return value
    }

    /// An integer column (`integer`, `bigint`…) in its decimal text form.
    public func int(_ index: Int) throws(RowDecodingError) -> Int {
        let text = try string(index)
        guard let value = Int(text) else {
            throw .invalidValue(column: columns[index], value: text, expected: "an integer")
        }
        return value
    }

    /// PostgreSQL's text form of booleans: `t` or `f`.
    public func bool(_ index: Int) throws(RowDecodingError) -> Bool {
        switch try string(index) {
        case "t", "true": return true
        case "f", "false": return false
        case let other: throw .invalidValue(column: columns[index], value: other, expected: "a boolean")
        }
    }

    /// A `text[]` column, NULL elements left out (they name nothing).
    public func optionalTextArray(_ index: Int) throws(RowDecodingError) -> [String]? {
        guard let literal = values[index] else { return nil }
        do {
            return try TextArrayLiteral.decode(literal).compactMap { $0 }
        } catch {
            throw .invalidValue(column: columns[index], value: literal, expected: "a text array")
        }
    }

    public func textArray(_ index: Int) throws(RowDecodingError) -> [String] {
        guard let array = try optionalTextArray(index) else { throw .unexpectedNull(column: columns[index]) }
        return array
    }
}
