/// A parsed JSON document, as the configuration file holds it.
///
/// The configuration file is read with our own small parser
/// (`StrictJSONParser`, which says why) rather than `JSONDecoder`.
public indirect enum JSONValue: Equatable, Sendable {
    /// Members in file order; a key may repeat (the last one wins on lookup,
    /// as with Python's `json`).
    case object([JSONMember])
    case array([JSONValue])
    case string(String)
    /// The number as written in the file: configuration values are never
    /// numbers today, so it is kept only to name its type in errors.
    case number(String)
    case bool(Bool)
    case null

    /// The value of `key` in an object, the last one when the key repeats;
    /// nil when absent or when this value is not an object.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.last(where: { $0.key == key })?.value
    }

    /// Distinct keys of an object in first-seen order; empty for other values.
    public var keys: [String] {
        guard case .object(let members) = self else { return [] }
        var seen = Set<String>()
        return members.map(\.key).filter { seen.insert($0).inserted }
    }

    /// How an error message names this value's type: "a string", "an object"…
    public var typeDescription: String {
        switch self {
        case .object: "an object"
        case .array: "an array"
        case .string: "a string"
        case .number: "a number"
        case .bool: "a boolean"
        case .null: "null"
        }
    }
}
