import Glibc
import PowaCore
import ProcessSupport

/// The supervisor's end of one worker process: its pid and both pipes.
///
/// Writes never block: a worker that stops reading (SIGSTOPped, hung in
/// the kernel) must not stall the supervisor, which would stop answering
/// powa-web and supervising every other worker. Lines wait in `outbound`
/// until the pipe takes them; the event loop asks for POLLOUT meanwhile.
final class WorkerChannel {
    /// What the supervisor may queue for one worker. Its messages are a few
    /// hundred bytes and rare; a worker this far behind is hung, and the
    /// watchdog replaces it soon.
    static let maximumOutbound = 1 << 20

    let pid: pid_t
    let srvid: Int
    let name: String
    /// Our write end of its stdin; -1 once closed.
    private(set) var stdinFD: Int32
    /// Our read end of its stdout; -1 once it reached end of file.
    private(set) var stdoutFD: Int32
    /// Descriptors leave the poller before they are closed: a number
    /// reused by the next pipe must not inherit a stale registration.
    private let poller: EventPoller
    private var lines = LineBuffer()
    private var outbound: [UInt8] = []

    init(process: ChildProcess, srvid: Int, name: String, poller: EventPoller) {
        self.poller = poller
        pid = process.pid
        self.srvid = srvid
        self.name = name
        stdinFD = process.stdinFD
        stdoutFD = process.stdoutFD
    }

    /// Whether bytes wait for the pipe to take them.
    var hasPendingOutput: Bool { stdinFD >= 0 && !outbound.isEmpty }

    enum EnqueueOutcome {
        case queued
        /// The pipe is closed (the worker is gone).
        case closed
        /// `maximumOutbound` reached; the message was dropped.
        case overflow
    }

    /// Queues one message as a line and writes what the pipe takes now.
    func send(_ message: SupervisorMessage) -> EnqueueOutcome {
        guard stdinFD >= 0 else { return .closed }
        let line = message.line()
        guard outbound.count + line.count <= Self.maximumOutbound else { return .overflow }
        outbound += line
        flush()
        return stdinFD >= 0 ? .queued : .closed
    }

    /// Writes as much of `outbound` as the pipe takes. A broken pipe (the
    /// worker exited) drops the rest: its exit is reported through SIGCHLD.
    func flush() {
        guard stdinFD >= 0, !outbound.isEmpty else { return }
        do {
            let written = try FileDescriptorIO.write(stdinFD, outbound[...])
            outbound.removeFirst(written)
        } catch {
            closeStdin()
        }
    }

    /// Reads what the worker wrote, up to `maximumReads` chunks so that one
    /// chatty worker cannot starve the others, and turns complete lines into
    /// events. Closes stdout at end of file.
    func readAvailable(maximumReads: Int, bytesPerRead: Int) -> [SupervisorEvent] {
        var events: [SupervisorEvent] = []
        for _ in 0..<maximumReads {
            guard stdoutFD >= 0 else { break }
            let outcome: FileDescriptorIO.ReadOutcome
            do {
                outcome = try FileDescriptorIO.read(stdoutFD, maximum: bytesPerRead)
            } catch {
                closeStdout()
                break
            }
            switch outcome {
            case .wouldBlock:
                return events
            case .endOfFile:
                closeStdout()
            case .bytes(let bytes):
                for item in lines.append(bytes) { events += event(for: item) }
            }
        }
        return events
    }

    private func event(for item: LineBuffer.Item) -> [SupervisorEvent] {
        switch item {
        case .overlong(let length):
            return [.workerMalformedLine(pid: pid, reason: "a line of \(length) bytes, over the limit")]
        case .line(let bytes):
            if bytes.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\r") }) { return [] }
            do {
                return [.workerMessage(pid: pid, try WorkerMessage.decode(line: bytes))]
            } catch {
                return [.workerMalformedLine(pid: pid, reason: error.description)]
            }
        }
    }

    func closeStdin() {
        if stdinFD >= 0 { poller.unwatch(stdinFD) }
        FileDescriptorIO.close(stdinFD)
        stdinFD = -1
        outbound = []
    }

    func closeStdout() {
        if stdoutFD >= 0 { poller.unwatch(stdoutFD) }
        FileDescriptorIO.close(stdoutFD)
        stdoutFD = -1
    }

    func close() {
        closeStdin()
        closeStdout()
    }
}
