/// The worker launcher's protocol, the one place both of its ends read:
/// the supervisor's client (`WorkerLauncherClient`, in this module) and the
/// server (the worker executable started with `--launcher`, `WorkerLauncher`).
/// Pure: the command line that makes a process the launcher, the request,
/// and the reply with its encoding.
///
/// The launcher is a fork server: started once from the worker executable
/// with stdin a SOCK_SEQPACKET socket, it forks one child per `startRequest`
/// (the child's stdin and stdout travel with the request as descriptors)
/// and answers each with one `Reply` datagram.
public enum LauncherProtocol {
    /// The flag that makes the worker executable the launcher.
    public static let launcherFlag = "--launcher"

    /// The option carrying the supervisor's pid, whose death ends the
    /// launcher and every child it forks.
    public static let parentPIDOption = "--parent-pid"

    /// The launcher's whole command line: exactly this, so that the server
    /// recognises it (`launcherParentPID(in:)`) before parsing anything.
    /// `programName` is argv[0] as `ps` shows it.
    public static func commandLine(programName: String, supervisorPID: Int32) -> [String] {
        [programName, parentPIDOption, String(supervisorPID), launcherFlag]
    }

    /// The supervisor's pid when `arguments` is a launcher's command line
    /// as `commandLine` makes it, nil for any other.
    public static func launcherParentPID(in arguments: [String]) -> Int32? {
        guard arguments.count == 4, arguments[1] == parentPIDOption, arguments[3] == launcherFlag,
            let pid = Int32(arguments[2]), pid > 0
        else { return nil }
        return pid
    }

    /// The request's payload; the child's stdin and stdout travel with it
    /// as descriptors, exactly two.
    public static let startRequest: [UInt8] = Array("start-worker".utf8)

    /// What the launcher answers to each request, one datagram on its
    /// socket: `started <pid>` or `failed <errno>`.
    ///
    /// Text rather than a binary integer so that a short or garbled datagram
    /// is refused (`decode` returns nil) instead of read as some pid the
    /// supervisor would then signal.
    public enum Reply: Equatable, Sendable {
        case started(pid: Int32)
        /// The fork failed with this errno.
        case failed(errno: Int32)

        public var encoded: [UInt8] {
            switch self {
            case .started(let pid): Array("started \(pid)".utf8)
            case .failed(let errno): Array("failed \(errno)".utf8)
            }
        }

        public static func decode(_ bytes: some Collection<UInt8>) -> Reply? {
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
}
