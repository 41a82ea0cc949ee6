import CSystemShims
import Glibc

/// The two pipes between the supervisor and one worker. The child ends
/// become the worker's stdin and stdout, however the worker is started
/// (posix_spawn or the launcher's fork); the parent ends stay with us.
/// Every end is close-on-exec: the child gets its own through dup2.
public struct WorkerPipes: Sendable {
    /// Read end of the worker's stdin, its descriptor 0.
    public let childStdin: Int32
    /// Write end of the worker's stdout, its descriptor 1.
    public let childStdout: Int32
    /// Our write end of the worker's stdin.
    public let parentStdin: Int32
    /// Our read end of the worker's stdout.
    public let parentStdout: Int32

    public static func make() throws(SystemError) -> WorkerPipes {
        var toChild: [Int32] = [-1, -1]
        var fromChild: [Int32] = [-1, -1]
        guard csystemshims_pipe2(&toChild, O_CLOEXEC) == 0 else { throw .last("pipe2") }
        guard csystemshims_pipe2(&fromChild, O_CLOEXEC) == 0 else {
            let error = SystemError.last("pipe2")
            FileDescriptorIO.close(toChild[0])
            FileDescriptorIO.close(toChild[1])
            throw error
        }
        return WorkerPipes(
            childStdin: toChild[0], childStdout: fromChild[1], parentStdin: toChild[1], parentStdout: fromChild[0])
    }

    /// Once the child holds its ends (or will never exist).
    public func closeChildEnds() {
        FileDescriptorIO.close(childStdin)
        FileDescriptorIO.close(childStdout)
    }

    /// When the child will never exist, or failed to start.
    public func closeParentEnds() {
        FileDescriptorIO.close(parentStdin)
        FileDescriptorIO.close(parentStdout)
    }

    public func closeAll() {
        closeChildEnds()
        closeParentEnds()
    }

    /// The started child as the supervisor sees it: our ends, non-blocking.
    /// The child ends are the caller's to close (each exactly once).
    public func started(pid: pid_t) throws(SystemError) -> ChildProcess {
        do {
            try FileDescriptorIO.setNonBlocking(parentStdin)
            try FileDescriptorIO.setNonBlocking(parentStdout)
        } catch {
            closeParentEnds()
            throw error
        }
        return ChildProcess(pid: pid, stdinFD: parentStdin, stdoutFD: parentStdout)
    }
}
