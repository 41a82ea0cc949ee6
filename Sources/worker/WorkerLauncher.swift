import CSystemShims
import Glibc
import Logging
import PowaCore
import ProcessSupport

/// `powa-collector-worker --launcher`: forks workers for the supervisor.
///
/// The launcher loads libpq, its dependencies and the Swift runtime once;
/// workers forked from it share those pages copy-on-write instead of each
/// relocating its own (see `WorkerLauncherClient`, the supervisor's end).
/// It stays single-threaded, so that fork is safe, and holds nothing but
/// its socket: no connection, no secret; a worker learns its server from
/// its start line like an exec'd one.
///
/// Each request forks twice: the intermediate process forks the worker,
/// reports its pid and exits, so the worker is reparented to the
/// supervisor, a child subreaper. The launcher replies only once the
/// intermediate is reaped, when the worker already is the supervisor's.
enum WorkerLauncher {
    /// How long a new worker waits to be adopted by the supervisor.
    static let adoptionTimeoutMicroseconds: UInt32 = 5_000_000

    /// Serves requests on stdin until the supervisor closes it, then exits
    /// the process. Returns only in a forked worker, with the worker's
    /// pipes as stdin and stdout.
    static func serve(supervisorPID: pid_t) {
        let logger = Logger(label: "powa-collector-worker")
        guard ParentDeathSignal.arm(expectedParent: supervisorPID) else { exit(0) }
        SignalPipe.ignoreBrokenPipes()
        LauncherPrewarm.run()
        while true {
            let received: DescriptorPassing.Received
            do {
                received = try DescriptorPassing.receive(0)
            } catch {
                logger.error(
                    "Worker launcher: cannot read the supervisor's requests: \(error) (the supervisor starts workers itself meanwhile)"
                )
                exit(1)
            }
            guard case .message(let bytes, let descriptors) = received else { exit(0) }
            let reply: LauncherProtocol.Reply
            if bytes == LauncherProtocol.startRequest, descriptors.count == 2 {
                switch forkWorker(stdin: descriptors[0], stdout: descriptors[1]) {
                case .inWorker: return
                case .inLauncher(let outcome): reply = outcome
                }
            } else {
                reply = .failed(errno: EINVAL)
            }
            descriptors.forEach(FileDescriptorIO.close)
            do {
                try DescriptorPassing.send(0, reply.encoded, descriptors: [])
            } catch {
                logger.error(
                    "Worker launcher: cannot answer the supervisor: \(error) (the supervisor starts workers itself meanwhile)"
                )
                exit(1)
            }
        }
    }

    private enum ForkOutcome {
        case inWorker
        case inLauncher(LauncherProtocol.Reply)
    }

    private static func forkWorker(stdin: Int32, stdout: Int32) -> ForkOutcome {
        var report: [Int32] = [-1, -1]
        guard csystemshims_pipe2(&report, O_CLOEXEC) == 0 else { return .inLauncher(.failed(errno: errno)) }
        let intermediate = fork()
        if intermediate < 0 {
            let error = errno
            report.forEach(FileDescriptorIO.close)
            return .inLauncher(.failed(errno: error))
        }
        if intermediate == 0 {
            let adoptedFrom = getpid()
            let worker = fork()
            if worker == 0 {
                report.forEach(FileDescriptorIO.close)
                becomeWorker(stdin: stdin, stdout: stdout, adoptedFrom: adoptedFrom)
                return .inWorker
            }
            var value: Int32 = worker > 0 ? worker : -errno
            _ = write(report[1], &value, MemoryLayout<Int32>.size)
            _exit(0)
        }
        FileDescriptorIO.close(report[1])
        var status: Int32 = 0
        while waitpid(intermediate, &status, 0) < 0, errno == EINTR {}
        var value: Int32 = 0
        var count: Int
        repeat { count = read(report[0], &value, MemoryLayout<Int32>.size) } while count < 0 && errno == EINTR
        FileDescriptorIO.close(report[0])
        guard count == MemoryLayout<Int32>.size, value != 0 else { return .inLauncher(.failed(errno: EIO)) }
        return .inLauncher(value > 0 ? .started(pid: value) : .failed(errno: -value))
    }

    /// In the new worker: its pipes become stdin and stdout (closing the
    /// launcher's socket), it waits until the supervisor adopted it (its
    /// death signal must follow the supervisor, not the intermediate), and
    /// its command line stops saying it is the launcher.
    private static func becomeWorker(stdin: Int32, stdout: Int32, adoptedFrom intermediate: pid_t) {
        _ = dup2(stdin, 0)
        _ = dup2(stdout, 1)
        FileDescriptorIO.close(stdin)
        FileDescriptorIO.close(stdout)
        var waited: UInt32 = 0
        while getppid() == intermediate, waited < adoptionTimeoutMicroseconds {
            usleep(200)
            waited += 200
        }
        hideLauncherFlag()
    }

    /// Blanks `--launcher` in place in argv's memory, which is what
    /// /proc/PID/cmdline and ps show: a worker then reads like an exec'd
    /// one. The flag is the last argument, so only trailing NULs remain.
    private static func hideLauncherFlag() {
        for index in 0..<Int(CommandLine.argc) {
            guard let argument = CommandLine.unsafeArgv[index],
                String(cString: argument) == LauncherProtocol.launcherFlag
            else { continue }
            memset(argument, 0, strlen(argument))
        }
    }
}
