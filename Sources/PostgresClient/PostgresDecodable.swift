/// A Swift type that can be read from PostgreSQL's text output format.
public protocol PostgresDecodable: Sendable {
    static func decode(postgresText text: String) throws(PostgresError) -> Self
}

extension String: PostgresDecodable {
    public static func decode(postgresText text: String) throws(PostgresError) -> String { text }
}

extension Int: PostgresDecodable {
    public static func decode(postgresText text: String) throws(PostgresError) -> Int {
        guard let value = Int(text) else { throw .notDecodable(text, as: "an integer") }
        return value
    }
}

extension Double: PostgresDecodable {
    /// Also reads `Infinity`, `-Infinity` and `NaN`, as float8 prints them.
    public static func decode(postgresText text: String) throws(PostgresError) -> Double {
        switch text {
        case "Infinity": return .infinity
        case "-Infinity": return -.infinity
        case "NaN": return .nan
        default:
            guard let value = Double(text) else { throw .notDecodable(text, as: "a number") }
            return value
        }
    }
}

extension Bool: PostgresDecodable {
    public static func decode(postgresText text: String) throws(PostgresError) -> Bool {
        switch text {
        case "t", "true", "on", "1": return true
        case "f", "false", "off", "0": return false
        default: throw .notDecodable(text, as: "a boolean")
        }
    }
}

extension PostgresError {
    static func notDecodable(_ text: String, as what: String) -> PostgresError {
        let shown = text.count > 40 ? String(text.prefix(40)) + "…" : text
        return PostgresError(kind: .decodingFailed, message: "cannot read \"\(shown)\" as \(what)")
    }
}
