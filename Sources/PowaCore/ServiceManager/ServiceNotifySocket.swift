/// Where `NOTIFY_SOCKET` says the service manager listens: a file-system
/// path (`/run/systemd/notify`) or a Linux abstract socket (`@name`, sent
/// with a leading NUL byte). Anything else (empty, relative, too long for
/// `sockaddr_un`) is refused, so that a wrong value is reported once
/// instead of failing on every message.
public enum ServiceNotifySocket: Equatable, Sendable {
    case path(String)
    case abstract(String)

    /// `sun_path` holds 108 bytes, a NUL included for paths.
    public static let maximumPathBytes = 107

    public init?(environmentValue value: String) {
        if value.hasPrefix("@") {
            let name = String(value.dropFirst())
            guard !name.isEmpty, name.utf8.count <= Self.maximumPathBytes else { return nil }
            self = .abstract(name)
        } else if value.hasPrefix("/") {
            guard value.utf8.count <= Self.maximumPathBytes else { return nil }
            self = .path(value)
        } else {
            return nil
        }
    }

    /// The bytes of `sun_path`: the path, or NUL then the abstract name.
    public var addressBytes: [UInt8] {
        switch self {
        case .path(let path): Array(path.utf8)
        case .abstract(let name): [0] + Array(name.utf8)
        }
    }
}
