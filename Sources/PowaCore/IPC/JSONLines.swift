import FoundationEssentials

/// Encoding and decoding of the one-JSON-object-per-line IPC format.
public enum JSONLines {
    /// Errors that a malformed line produces; the reader logs and skips it.
    public enum DecodeError: Error, Equatable, CustomStringConvertible {
        case notJSON(String)
        case invalidMessage(String)

        public var description: String {
            switch self {
            case .notJSON(let why): "not a JSON object: \(why)"
            case .invalidMessage(let why): "invalid message: \(why)"
            }
        }
    }

    /// One line, without its newline.
    public static func encode<T: Encodable>(_ value: T) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding our own message types cannot fail: they hold only strings,
        // numbers, booleans and arrays of those.
        let data = try! encoder.encode(value)
        return Array(data)
    }

    public static func decode<T: Decodable>(_ type: T.Type, from line: some Collection<UInt8>) throws(DecodeError) -> T
    {
        do {
            return try JSONDecoder().decode(type, from: Data(line))
        } catch let error as DecodingError {
            switch error {
            case .dataCorrupted(let context) where context.codingPath.isEmpty:
                throw .notJSON(context.debugDescription)
            case .dataCorrupted(let context), .keyNotFound(_, let context),
                .typeMismatch(_, let context), .valueNotFound(_, let context):
                let path = context.codingPath.map(\.stringValue).joined(separator: ".")
                throw .invalidMessage(path.isEmpty ? context.debugDescription : "\(path): \(context.debugDescription)")
            @unknown default:
                throw .invalidMessage("\(error)")
            }
        } catch {
            throw .notJSON("\(error)")
        }
    }
}
