/// The part of an HTTP/1.x request the metrics endpoint needs: its method
/// and path, read from the bytes received so far. Headers are skipped
/// (nothing in them changes an answer) and a body is never read: the
/// connection is closed after one answer.
public struct HTTPRequestHead: Equatable, Sendable {
    public var method: String
    /// The request target without its query string.
    public var path: String

    /// A request head larger than this is refused: a scraper sends a few
    /// hundred bytes, and the bound keeps a hostile client from costing
    /// memory.
    public static let maximumBytes = 8192

    public enum ParseResult: Equatable, Sendable {
        /// The blank line ending the head has not arrived yet.
        case incomplete
        case complete(HTTPRequestHead)
        /// Answered with 400 (or 431 when too large), then closed.
        case invalid(status: Int, reason: String)
    }

    public static func parse(_ bytes: [UInt8]) -> ParseResult {
        guard let end = headEnd(bytes) else {
            if bytes.count >= maximumBytes { return .invalid(status: 431, reason: "request head too large") }
            return .incomplete
        }
        if end > maximumBytes { return .invalid(status: 431, reason: "request head too large") }
        let lineEnd = bytes.firstIndex(of: UInt8(ascii: "\n"))!
        var line = bytes[..<lineEnd]
        if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
        let words = line.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
        guard words.count == 3, let version = String(validating: words[2], as: UTF8.self),
            version.hasPrefix("HTTP/1."),
            let method = String(validating: words[0], as: UTF8.self), !method.isEmpty,
            let target = String(validating: words[1], as: UTF8.self), target.hasPrefix("/")
        else { return .invalid(status: 400, reason: "malformed request line") }
        let path =
            target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init)
            ?? target
        return .complete(HTTPRequestHead(method: method, path: path))
    }

    /// Index just past the blank line (CRLF CRLF, or LF LF from sloppy
    /// clients), nil when not there yet.
    static func headEnd(_ bytes: [UInt8]) -> Int? {
        let lf = UInt8(ascii: "\n")
        let cr = UInt8(ascii: "\r")
        var index = 0
        while index < bytes.count {
            if bytes[index] == lf {
                if index + 1 < bytes.count, bytes[index + 1] == lf { return index + 2 }
                if index + 2 < bytes.count, bytes[index + 1] == cr, bytes[index + 2] == lf { return index + 3 }
            }
            index += 1
        }
        return nil
    }
}
