import CSystemShims
import Glibc

/// Turns asynchronous signals into bytes on a pipe (the self-pipe trick), so
/// that the event loop sees them as one more readable descriptor and handles
/// them on its own thread, outside of signal context.
public enum SignalPipe {
    /// Write end used by the handler; set once before handlers are installed.
    nonisolated(unsafe) private static var writeFD: Int32 = -1
    /// The read end to poll.
    nonisolated(unsafe) public private(set) static var readFD: Int32 = -1

    /// Creates the pipe and routes `signals` to it. Call once, at start.
    public static func install(_ signals: [Int32]) throws(SystemError) {
        var fds: [Int32] = [-1, -1]
        guard csystemshims_pipe2(&fds, O_CLOEXEC | O_NONBLOCK) == 0 else { throw .last("pipe2") }
        readFD = fds[0]
        writeFD = fds[1]
        for signo in signals {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { signo in
                let saved = errno
                var byte = UInt8(truncatingIfNeeded: signo)
                _ = Glibc.write(SignalPipe.writeFD, &byte, 1)
                errno = saved
            }
            sigemptyset(&action.sa_mask)
            action.sa_flags = SA_RESTART
            guard sigaction(signo, &action, nil) == 0 else { throw .last("sigaction") }
        }
    }

    /// The signals received since the last call, in order.
    public static func drain() -> [Int32] {
        var signals: [Int32] = []
        var buffer = [UInt8](repeating: 0, count: 64)
        while true {
            let count = Glibc.read(readFD, &buffer, buffer.count)
            if count <= 0 { break }
            signals.append(contentsOf: buffer[0..<count].map { Int32($0) })
        }
        return signals
    }

    /// Ignores SIGPIPE: a write to a closed pipe then fails with EPIPE, which
    /// the caller handles, instead of killing the process.
    public static func ignoreBrokenPipes() {
        signal(SIGPIPE, SIG_IGN)
    }
}
