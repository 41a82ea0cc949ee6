import Glibc
import ProcessSupport

/// Runs a command to completion and returns its exit status and stdout;
/// stderr goes to the test's own.
public func runCommand(_ arguments: [String], timeout: Double = 120) throws -> (status: Int32, output: String) {
    let child = try ChildProcess.spawn(executable: arguments[0], arguments: arguments)
    FileDescriptorIO.close(child.stdinFD)
    defer { FileDescriptorIO.close(child.stdoutFD) }
    var output: [UInt8] = []
    let deadline = monotonicNow() + timeout
    var open = true
    while open, monotonicNow() < deadline {
        var entry = pollfd(fd: child.stdoutFD, events: Int16(POLLIN), revents: 0)
        _ = poll(&entry, 1, 200)
        switch try FileDescriptorIO.read(child.stdoutFD) {
        case .bytes(let bytes): output += bytes
        case .endOfFile: open = false
        case .wouldBlock: break
        }
    }
    if open { kill(child.pid, SIGKILL) }
    var status: Int32 = 0
    waitpid(child.pid, &status, 0)
    let code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    return (code, String(decoding: output, as: UTF8.self))
}

/// Clusters of one's own, for tests that stop, kill or restart a server:
/// made with `scripts/pg-env.sh create-cluster` in the environment's
/// directory, so that `down` removes them with the rest.
public enum DedicatedCluster {
    public enum Kind: String {
        case powa4Repository = "powa4-repo", powa4Remote = "powa4-remote"
        case powa5Repository = "powa5-repo", powa5Remote = "powa5-remote"
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Creates and starts a cluster; returns it and its name for `control`.
    public static func create(_ kind: Kind, prefix: String = "t") throws -> (cluster: TestCluster, name: String) {
        guard let script = TestEnvironment.script, let directory = TestEnvironment.environmentDirectory else {
            throw Failure(description: "POWA_TEST_PG_ENV / POWA_TEST_ENV_DIR not set")
        }
        let name = "\(prefix)-\(UInt32.random(in: 0...UInt32.max))"
        let result = try runCommand([script, "create-cluster", directory, kind.rawValue, name])
        let port = result.output.split(whereSeparator: \.isNewline).last.flatMap { Int($0.trimmingCharacters()) }
        guard result.status == 0, let port else {
            throw Failure(description: "create-cluster \(kind.rawValue) failed (\(result.status)): \(result.output)")
        }
        let major = kind == .powa5Remote || kind == .powa5Repository ? 5 : 4
        return (TestCluster(host: TestEnvironment.host, port: port, powaMajor: major), name)
    }

    /// `start`, `stop`, `restart` or `kill` (immediate stop) a cluster.
    public static func control(_ name: String, _ action: String) throws {
        guard let script = TestEnvironment.script, let directory = TestEnvironment.environmentDirectory else {
            throw Failure(description: "POWA_TEST_PG_ENV / POWA_TEST_ENV_DIR not set")
        }
        let result = try runCommand([script, "ctl", directory, name, action])
        guard result.status == 0 else {
            throw Failure(description: "ctl \(name) \(action) failed (\(result.status)): \(result.output)")
        }
    }
}

extension Substring {
    func trimmingCharacters() -> String {
        String(drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }
}
