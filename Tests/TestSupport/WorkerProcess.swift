import Glibc
import PowaCore
import ProcessSupport

/// A real `powa-collector-worker` started by a test: its stdin to write
/// supervisor messages, its stdout read as JSON lines, its stderr in a file.
public final class WorkerProcess {
    public let child: ChildProcess
    public let stderrPath: String
    /// Every status line received so far, in order.
    public private(set) var statuses: [WorkerStatus] = []
    public private(set) var heartbeats = 0
    /// `slot_request` and `slot_release` lines, in order.
    public private(set) var slotMessages: [WorkerMessage] = []
    /// Lines that were not valid worker messages.
    public private(set) var malformedLines: [String] = []
    private var lines = LineBuffer()
    private var outputClosed = false
    private var stdinOpen = true
    private var termination: ChildProcess.Termination?

    public var pid: pid_t { child.pid }

    public init(arguments: [String] = []) throws {
        // Writing to a worker that died must fail the test, not kill the
        // test runner with SIGPIPE (and orphan every other test's processes).
        SignalPipe.ignoreBrokenPipes()
        stderrPath = "/tmp/powa-worker-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).log"
        let executable = BuiltProducts.worker
        child = try ChildProcess.spawn(
            executable: executable, arguments: [executable] + arguments, stderrPath: stderrPath)
    }

    deinit {
        if termination == nil {
            kill(child.pid, SIGKILL)
            _ = waitForExit(timeout: 5)
        }
        closeStdin()
        FileDescriptorIO.close(child.stdoutFD)
        unlink(stderrPath)
    }

    public func send(_ message: SupervisorMessage) throws {
        try sendRaw(JSONLines.encode(message) + [UInt8(ascii: "\n")])
    }

    public func sendRaw(_ bytes: [UInt8]) throws {
        try FileDescriptorIO.writeAll(child.stdinFD, bytes)
    }

    /// Closes the worker's stdin (once: a descriptor number closed twice
    /// may already belong to another test's pipe).
    public func closeStdin() {
        if stdinOpen { FileDescriptorIO.close(child.stdinFD) }
        stdinOpen = false
    }

    /// The worker's log so far.
    public var log: String {
        guard let file = fopen(stderrPath, "r") else { return "" }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = fread(&buffer, 1, buffer.count, file)
            if count <= 0 { break }
            bytes += buffer[0..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Reads output until `condition` holds for the worker's current
    /// status (the last one it sent), or the time runs out; returns it.
    @discardableResult
    public func waitForStatus(timeout: Double, _ condition: (WorkerStatus) -> Bool) -> WorkerStatus? {
        readAvailable(waitMilliseconds: 0)
        if let current = statuses.last, condition(current) { return current }
        let deadline = Monotonic.now() + timeout
        var seen = statuses.count
        while Monotonic.now() < deadline {
            readAvailable(waitMilliseconds: 100)
            while seen < statuses.count {
                if condition(statuses[seen]) { return statuses[seen] }
                seen += 1
            }
            if outputClosed { return nil }
        }
        return nil
    }

    /// Reads whatever the worker wrote for `seconds`.
    public func drain(for seconds: Double) {
        let deadline = Monotonic.now() + seconds
        while Monotonic.now() < deadline, !outputClosed { readAvailable(waitMilliseconds: 50) }
    }

    /// Waits for this process to end (reaping only this pid, never
    /// another test's children).
    public func waitForExit(timeout: Double) -> ChildProcess.Termination? {
        if let termination { return termination }
        let deadline = Monotonic.now() + timeout
        while Monotonic.now() < deadline {
            readAvailable(waitMilliseconds: 0)
            var status: Int32 = 0
            if waitpid(child.pid, &status, WNOHANG) == child.pid {
                let signal = status & 0x7f
                termination = signal == 0 ? .exited((status >> 8) & 0xff) : .signaled(signal)
                return termination
            }
            usleep(20_000)
        }
        return nil
    }

    private func readAvailable(waitMilliseconds: Int32) {
        var entry = pollfd(fd: child.stdoutFD, events: Int16(POLLIN), revents: 0)
        _ = poll(&entry, 1, waitMilliseconds)
        while true {
            guard let outcome = try? FileDescriptorIO.read(child.stdoutFD) else { return }
            switch outcome {
            case .wouldBlock: return
            case .endOfFile:
                outputClosed = true
                return
            case .bytes(let bytes):
                for item in lines.append(bytes) {
                    guard case .line(let line) = item else { continue }
                    do {
                        switch try JSONLines.decode(WorkerMessage.self, from: line) {
                        case .status(let status): statuses.append(status)
                        case .heartbeat: heartbeats += 1
                        case .slotRequest, .slotRelease:
                            slotMessages.append(try JSONLines.decode(WorkerMessage.self, from: line))
                        }
                    } catch {
                        malformedLines.append(String(decoding: line, as: UTF8.self))
                    }
                }
            }
        }
    }
}
