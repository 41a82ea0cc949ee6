import Glibc
import ProcessSupport

public struct TestProcessError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A program the tests start, with stdin from /dev/null and its stdout and
/// stderr captured in files (a file never fills up and blocks the program
/// the way an unread pipe would).
///
/// Only this process is ever waited for (`waitpid` on its own pid): tests
/// run in parallel in one process, and reaping any child would steal
/// another test's exit status.
public final class TestProcess: @unchecked Sendable {
    public let pid: pid_t
    public let stdoutPath: String
    public let stderrPath: String
    private var termination: ChildProcess.Termination?

    /// Starts `executable` (argv[0] is its path) in `directory`'s files
    /// `<name>.out` and `<name>.err`, with `environment` (`NAME=value`
    /// items) added to the test's own.
    public init(
        executable: String, arguments: [String], environment extraEnvironment: [String] = [],
        outputIn directory: TemporaryDirectory, name: String
    ) throws {
        stdoutPath = directory.path + "/\(name).out"
        stderrPath = directory.path + "/\(name).err"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0o644)

        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let environment: [UnsafeMutablePointer<CChar>?] =
            (Self.inheritedEnvironment() + extraEnvironment).map { strdup($0) } + [nil]
        defer { environment.forEach { free($0) } }
        var child: pid_t = 0
        let status = SpawnAttributes.withCleanSignals { attributes in
            posix_spawn(&child, executable, &actions, &attributes, argv, environment)
        }
        guard status == 0 else {
            throw TestProcessError("cannot start \(executable): \(String(cString: strerror(status)))")
        }
        pid = child
    }

    /// The test process's environment without the test environment's
    /// password, which the programs under test never need: a test can then
    /// check that no password shows in their environment.
    static func inheritedEnvironment() -> [String] {
        var variables: [String] = []
        var pointer = environ
        while let entry = pointer.pointee {
            let variable = String(cString: entry)
            if !variable.hasPrefix("POWA_TEST_PASSWORD=") { variables.append(variable) }
            pointer += 1
        }
        return variables
    }

    public var standardOutput: String { TemporaryDirectory.readFile(stdoutPath) ?? "" }
    public var standardError: String { TemporaryDirectory.readFile(stderrPath) ?? "" }

    public func signal(_ signo: Int32) {
        if termination == nil { kill(pid, signo) }
    }

    /// How it ended, or nil while it runs (never blocks).
    public func exitStatus() -> ChildProcess.Termination? {
        if let termination { return termination }
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        guard result == pid else { return nil }
        let signal = status & 0x7f
        termination = signal == 0 ? .exited((status >> 8) & 0xff) : .signaled(signal)
        return termination
    }

    /// Waits up to `timeout` seconds for the exit.
    public func waitForExit(timeout: Double) async -> ChildProcess.Termination? {
        let deadline = Monotonic.now() + timeout
        while true {
            if let status = exitStatus() { return status }
            if Monotonic.now() >= deadline { return nil }
            try? await Task.sleep(nanoseconds: 20_000_000)
        }
    }

    /// SIGTERM, then SIGKILL after `grace` seconds; always reaps.
    public func stop(grace: Double = 12) async {
        guard exitStatus() == nil else { return }
        signal(SIGTERM)
        if await waitForExit(timeout: grace) != nil { return }
        signal(SIGKILL)
        _ = await waitForExit(timeout: 10)
    }

    /// Runs a program to completion; returns its exit status and output.
    public static func run(
        _ executable: String, _ arguments: [String], in directory: TemporaryDirectory, name: String,
        timeout: Double = 120
    ) async throws -> (termination: ChildProcess.Termination?, stdout: String, stderr: String) {
        let process = try TestProcess(executable: executable, arguments: arguments, outputIn: directory, name: name)
        var status = await process.waitForExit(timeout: timeout)
        if status == nil {
            process.signal(SIGKILL)
            status = await process.waitForExit(timeout: 10)
        }
        return (status, process.standardOutput, process.standardError)
    }
}

/// Seconds on the monotonic clock, for test deadlines.
public enum Monotonic {
    public static func now() -> Double { SystemClock.now() }
}

/// Polls `condition` every `interval` seconds until it holds or `timeout`
/// seconds pass; returns whether it held. Tests wait for conditions this
/// way instead of sleeping a fixed time.
public func eventually(
    timeout: Double, interval: Double = 0.1, _ condition: () async throws -> Bool
) async rethrows -> Bool {
    let deadline = Monotonic.now() + timeout
    while true {
        if try await condition() { return true }
        if Monotonic.now() >= deadline { return false }
        try? await Task.sleep(nanoseconds: UInt64(interval * 1e9))
    }
}
