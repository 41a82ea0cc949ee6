import Glibc
import Logging
import PowaCore

/// systemd's notify protocol without libsystemd: one `AF_UNIX` datagram per
/// message to the socket `NOTIFY_SOCKET` names (a path, or `@name` for an
/// abstract socket). Sending never blocks: a full or vanished socket loses
/// that one message, as with `sd_notify`.
final class ServiceManagerNotifier {
    private let fd: Int32
    private var address = sockaddr_un()
    private let addressLength: socklen_t
    private let logger: Logger
    private var reportedFailure = false

    /// Reads `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID`, then
    /// removes them from the environment so that workers, which inherit it,
    /// never speak for the service. Nil when `NOTIFY_SOCKET` is unset or
    /// unusable (that is logged).
    static func fromEnvironment(logger: Logger) -> (ServiceManagerNotifier?, ServiceWatchdog?) {
        let socketValue = Self.environment("NOTIFY_SOCKET")
        let watchdog = ServiceWatchdog(
            watchdogMicroseconds: Self.environment("WATCHDOG_USEC"),
            watchdogPID: Self.environment("WATCHDOG_PID"), ownPID: getpid())
        for name in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"] { unsetenv(name) }
        guard let socketValue else { return (nil, nil) }
        guard let target = ServiceNotifySocket(environmentValue: socketValue) else {
            logger.warning(
                """
                NOTIFY_SOCKET="\(socketValue.prefix(120))" is neither an absolute path nor @name: \
                systemd will not hear from the collector; check the unit's environment
                """)
            return (nil, nil)
        }
        let fd = socket(
            AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else {
            logger.warning(
                "cannot create a socket for NOTIFY_SOCKET (\(String(cString: strerror(errno)))); systemd will not hear from the collector"
            )
            return (nil, nil)
        }
        return (ServiceManagerNotifier(fd: fd, target: target, logger: logger), watchdog)
    }

    private init(fd: Int32, target: ServiceNotifySocket, logger: Logger) {
        self.fd = fd
        self.logger = logger
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = target.addressBytes
        withUnsafeMutableBytes(of: &address.sun_path) { path in
            for (index, byte) in bytes.enumerated() { path[index] = byte }
        }
        // An abstract name's length is exact (no terminating NUL).
        addressLength = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (bytes.first == 0 ? 0 : 1))
    }

    deinit { Glibc.close(fd) }

    /// Returns whether the datagram went out (a full socket buffer refuses it).
    @discardableResult
    func send(_ message: ServiceManagerMessage) -> Bool {
        let bytes = Array(message.datagram.utf8)
        let sent = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                sendto(fd, bytes, bytes.count, Int32(MSG_NOSIGNAL), socketAddress, addressLength)
            }
        }
        if sent < 0, !reportedFailure {
            reportedFailure = true
            logger.warning(
                """
                cannot send to NOTIFY_SOCKET (\(String(cString: strerror(errno)))): systemd may consider \
                the service not started or hung; check that the unit has Type=notify and NotifyAccess=main
                """)
        } else if sent >= 0 {
            reportedFailure = false
        }
        return sent >= 0
    }

    private static func environment(_ name: String) -> String? {
        guard let value = getenv(name) else { return nil }
        let text = String(cString: value)
        return text.isEmpty ? nil : text
    }
}
