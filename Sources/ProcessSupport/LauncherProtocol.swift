/// What the worker launcher answers to each request to start a worker, one
/// datagram on its socket: `started <pid>` or `failed <errno>`.
///
/// Text rather than a binary integer so that a short or garbled datagram is
/// refused (`decode` returns nil) instead of read as some pid the
/// supervisor would then signal.
public enum LauncherReply: Equatable, Sendable {
    case started(pid: Int32)
    /// The fork failed with this errno.
    case failed(errno: Int32)

    /// The request's payload; the worker's stdin and stdout travel with it
    /// as descriptors.
    public static let startRequest: [UInt8] = Array("start-worker".utf8)

    /// The flag that makes `powa-collector-worker` the launcher.
    public static let launcherFlag = "--launcher"

    public var encoded: [UInt8] {
        switch self {
        case .started(let pid): Array("started \(pid)".utf8)
        case .failed(let errno): Array("failed \(errno)".utf8)
        }
    }

    public static func decode(_ bytes: some Collection<UInt8>) -> LauncherReply? {
        let text = String(decoding: bytes, as: UTF8.self)
        let parts = text.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 2, let value = Int32(parts[1]), value > 0 else { return nil }
        switch parts[0] {
        case "started": return value > 1 ? .started(pid: value) : nil
        case "failed": return .failed(errno: value)
        default: return nil
        }
    }
}
