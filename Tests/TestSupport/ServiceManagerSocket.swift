import Glibc

/// The service manager's end of the notify protocol, as systemd has it: an
/// `AF_UNIX` datagram socket bound to a path, whose messages a test reads.
public final class ServiceManagerSocket: @unchecked Sendable {
    public let path: String
    private let fd: Int32
    /// Every datagram received so far, in order.
    public private(set) var received: [String] = []

    public init(directory: TemporaryDirectory) throws {
        path = directory.path + "/notify.sock"
        fd = socket(
            AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw TestProcessError("socket: errno \(errno)") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < 108 else { throw TestProcessError("socket path too long: \(path)") }
        withUnsafeMutableBytes(of: &address.sun_path) { for (index, byte) in bytes.enumerated() { $0[index] = byte } }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard bound == 0 else { throw TestProcessError("bind \(path): errno \(errno)") }
    }

    deinit { close(fd) }

    /// Reads what is waiting; returns the new messages.
    @discardableResult
    public func drain() -> [String] {
        var new: [String] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count <= 0 { break }
            new.append(String(decoding: buffer[0..<count], as: UTF8.self))
        }
        received += new
        return new
    }

    /// Waits until a message received from now on satisfies `match`.
    public func waitFor(timeout: Double, _ match: (String) -> Bool) async -> Bool {
        await eventually(timeout: timeout, interval: 0.02) { drain().contains(where: match) }
    }
}
