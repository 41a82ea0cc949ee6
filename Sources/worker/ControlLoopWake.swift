import Glibc
import ProcessSupport

/// Wakes the worker's control loop out of its poll when something it waits
/// on changed in the other thread: a snapshot began or ended (the heartbeat
/// interval and the budget watch change with it), or the collector thread
/// finished.
///
/// Without it the control loop had to wake every second to look, and those
/// idle wake-ups were a third of an idle worker fleet's CPU (perf, 40
/// workers at frequency 60: 60 wake-ups a minute each, against one
/// snapshot). With it an idle control loop sleeps until its next heartbeat.
final class ControlLoopWake: Sendable {
    /// Polled by the control loop; `drain` empties it.
    let readFD: Int32
    private let writeFD: Int32

    init() throws(SystemError) {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw SystemError(call: "pipe", errno: errno) }
        readFD = fds[0]
        writeFD = fds[1]
        try FileDescriptorIO.setNonBlocking(readFD)
        try FileDescriptorIO.setNonBlocking(writeFD)
    }

    /// One byte; a full pipe already wakes the loop, so a failed write is fine.
    func wake() {
        var byte: UInt8 = 1
        _ = write(writeFD, &byte, 1)
    }

    func drain() {
        var buffer = (UInt64(0), UInt64(0))
        while withUnsafeMutableBytes(of: &buffer, { read(readFD, $0.baseAddress, $0.count) }) > 0 {}
    }
}
