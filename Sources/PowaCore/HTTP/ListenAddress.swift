/// The value of `metrics_listen`: `host:port`, an IPv4 address or `[v6]`
/// in brackets, or `localhost`. Parsed when the configuration is read, so
/// that a typo stops the collector with the file's name rather than later.
public struct ListenAddress: Equatable, Sendable, CustomStringConvertible {
    /// A numeric address (`localhost` becomes 127.0.0.1).
    public var host: String
    public var port: Int
    public var isIPv6: Bool

    public init?(_ text: String) {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                return nil
            }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
            isIPv6 = true
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            isIPv6 = false
            guard !host.contains(":") else { return nil }
        }
        guard !host.isEmpty, let port = Int(portText), (0...65535).contains(port),
            portText.allSatisfy(\.isASCII), portText.allSatisfy(\.isNumber)
        else { return nil }
        self.host = host == "localhost" ? "127.0.0.1" : String(host)
        self.port = port
    }

    public var description: String { isIPv6 ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
