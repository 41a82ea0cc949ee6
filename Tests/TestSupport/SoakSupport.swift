import Glibc

/// What the fault soak needs beyond the other helpers: which process owns a
/// TCP connection, what a process holds open, and clusters of its own.
public enum SoakSupport {
    /// Kinds of the open descriptors of `pid` (`socket`, `pipe`, `anon_inode`,
    /// `file`…) with their counts; nil when the process is gone.
    public static func descriptorKinds(_ pid: pid_t) -> [String: Int]? {
        guard let directory = opendir("/proc/\(pid)/fd") else { return nil }
        defer { closedir(directory) }
        var kinds: [String: Int] = [:]
        while let item = readdir(directory) {
            let name = entryName(item)
            guard Int(name) != nil, let target = readLink("/proc/\(pid)/fd/\(name)") else { continue }
            let kind =
                !target.hasPrefix("/") && target.contains(":")
                ? String(target.prefix { $0 != ":" }) : "file"
            kinds[kind, default: 0] += 1
        }
        return kinds
    }

    /// Inodes of the sockets `pid` holds.
    public static func socketInodes(_ pid: pid_t) -> Set<UInt64> {
        guard let directory = opendir("/proc/\(pid)/fd") else { return [] }
        defer { closedir(directory) }
        var inodes: Set<UInt64> = []
        while let item = readdir(directory) {
            let name = entryName(item)
            guard Int(name) != nil, let target = readLink("/proc/\(pid)/fd/\(name)"),
                target.hasPrefix("socket:["), let inode = UInt64(target.dropFirst(8).dropLast())
            else { continue }
            inodes.insert(inode)
        }
        return inodes
    }

    /// IPv4 TCP sockets: inode → (local port, remote address, remote port).
    public static func tcpSockets() -> [UInt64: (localPort: Int, remoteHost: String, remotePort: Int)] {
        var sockets: [UInt64: (Int, String, Int)] = [:]
        let lines = (TemporaryDirectory.readFile("/proc/net/tcp") ?? "").split(separator: "\n").dropFirst()
        for line in lines {
            let fields = line.split(separator: " ")
            guard fields.count > 9, let inode = UInt64(fields[9]) else { continue }
            let local = fields[1].split(separator: ":")
            let remote = fields[2].split(separator: ":")
            guard local.count == 2, remote.count == 2, let localPort = Int(local[1], radix: 16),
                let remotePort = Int(remote[1], radix: 16), let ip = UInt32(remote[0], radix: 16)
            else { continue }
            // /proc/net/tcp prints the address in host (little-endian) order.
            let host = "\(ip & 0xff).\((ip >> 8) & 0xff).\((ip >> 16) & 0xff).\(ip >> 24)"
            sockets[inode] = (localPort, host, remotePort)
        }
        return sockets
    }

    /// Which of `pids` owns the TCP connection whose local port is `port`.
    public static func owner(ofLocalPort port: Int, among pids: [pid_t]) -> pid_t? {
        let wanted = Set(tcpSockets().filter { $0.value.localPort == port }.keys)
        return pids.first { !socketInodes($0).isDisjoint(with: wanted) }
    }

    /// The (host, port) pairs `pid` is connected to.
    public static func remoteEndpoints(_ pid: pid_t) -> [String] {
        let sockets = tcpSockets()
        return socketInodes(pid).compactMap { sockets[$0].map { "\($0.remoteHost):\($0.remotePort)" } }
    }

    private static func entryName(_ item: UnsafeMutablePointer<dirent>) -> String {
        withUnsafeBytes(of: item.pointee.d_name) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    private static func readLink(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let length = readlink(path, &buffer, buffer.count - 1)
        guard length > 0 else { return nil }
        return String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// A cluster of its own in the test environment, made with
/// `pg-env.sh create-cluster`, that a test may stop and start at will.
public final class DedicatedCluster: @unchecked Sendable {
    public let name: String
    public let cluster: TestCluster
    private let script: String
    private let environmentDirectory: String
    private let output: TemporaryDirectory

    /// Creates and starts a cluster of `kind` (`powa4-remote`…); nil when the
    /// environment does not say where its script and directory are.
    public init?(kind: String, prefix: String) async throws {
        guard let script = TestEnvironment.script, let directory = TestEnvironment.environmentDirectory else {
            return nil
        }
        self.script = script
        environmentDirectory = directory
        output = try TemporaryDirectory(prefix: "powa-cluster")
        name = "\(prefix)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let result = try await TestProcess.run(
            script, ["create-cluster", directory, kind, name], in: output, name: "create-cluster", timeout: 180)
        guard case .exited(0)? = result.termination,
            let port = result.stdout.split(separator: "\n").last.flatMap({ Int($0) })
        else { throw TestProcessError("create-cluster \(name) failed: \(result.stderr)") }
        let release: PowaRelease = kind.hasPrefix("powa53") ? .powa53 : kind.hasPrefix("powa5") ? .powa50 : .powa4
        cluster = TestCluster(host: TestEnvironment.host, port: port, release: release)
    }

    /// `pg-env.sh ctl … start|stop|restart|kill`.
    public func control(_ action: String) async throws {
        let result = try await TestProcess.run(
            script, ["ctl", environmentDirectory, name, action], in: output, name: "ctl-\(action)", timeout: 120)
        guard case .exited(0)? = result.termination else {
            throw TestProcessError("ctl \(name) \(action) failed: \(result.stderr)")
        }
    }

    /// Stops it, leaves it down for `downtime`, then starts it again: a
    /// restart that clients see as an outage.
    public func bounce(downFor downtime: Duration) async throws {
        try await control("stop")
        try await Task.sleep(for: downtime)
        try await control("start")
    }

    /// Stops it for good (its files go with the environment).
    public func remove() async {
        try? await control("kill")
        output.remove()
    }
}
