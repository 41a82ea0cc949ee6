import CSystemShims
import Glibc

/// The supervisor's end of the worker launcher: a process of the worker
/// executable, started with `LauncherProtocol.commandLine`, that forks
/// workers on request.
///
/// Why: a worker started with exec relocates libpq's dependencies
/// (OpenSSL, GnuTLS, Kerberos…) and the Swift runtime on its own, about
/// 2.4 MB of private memory each. Forked from one launcher that did it
/// once, workers share those pages copy-on-write. A worker is still the
/// worker executable's code, with the same pipes, arguments and start line;
/// the launcher forks twice so that each worker is reparented to the
/// supervisor (a child subreaper), which reaps it, signals it, and is the
/// parent its death signal follows, exactly as for a spawned worker.
public final class WorkerLauncherClient {
    public let pid: pid_t
    /// Our end of the SOCK_SEQPACKET pair; the launcher's end is its stdin.
    private var socket: Int32

    private init(pid: pid_t, socket: Int32) {
        self.pid = pid
        self.socket = socket
    }

    /// Makes this process adopt its orphaned descendants, which the
    /// launcher's workers become. Without it the launcher cannot be used.
    public static func adoptOrphans() -> Bool {
        csystemshims_set_child_subreaper() == 0
    }

    /// The launcher's dynamic linker resolves every symbol of every library
    /// at start: bound lazily, each worker's first call to a function
    /// writes the caller's GOT page, which it then owns (about 20 kB a
    /// worker, measured). Workers are forked, never exec'd, from it.
    static let bindNow = "LD_BIND_NOW=1"

    /// Starts the launcher from `executable` (the worker executable), its
    /// argv[0] being `programName`.
    public static func start(
        executable: String, programName: String, supervisorPID: pid_t
    ) throws(SystemError) -> WorkerLauncherClient {
        var pair: [Int32] = [-1, -1]
        let type = Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        guard socketpair(AF_UNIX, type, 0, &pair) == 0 else { throw .last("socketpair") }
        let pid: pid_t
        do {
            pid = try PosixSpawn.spawn(
                executable: executable,
                arguments: LauncherProtocol.commandLine(programName: programName, supervisorPID: supervisorPID),
                extraEnvironment: [Self.bindNow, LauncherMallocTunables.environmentItem()]
            ) { actions in
                posix_spawn_file_actions_adddup2(&actions, pair[1], 0)
                posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
            }
        } catch {
            FileDescriptorIO.close(pair[0])
            FileDescriptorIO.close(pair[1])
            throw error
        }
        FileDescriptorIO.close(pair[1])
        return WorkerLauncherClient(pid: pid, socket: pair[0])
    }

    /// Asks for one worker; returns it as a spawned one would be. Waits at
    /// most `timeoutMilliseconds` for the answer: a launcher that does not
    /// answer is broken, and the caller stops using it.
    public func startWorker(timeoutMilliseconds: Int32 = 5000) throws(SystemError) -> ChildProcess {
        guard socket >= 0 else { throw SystemError(call: "worker launcher", errno: EPIPE) }
        let pipes = try WorkerPipes.make()
        // The launcher holds its own copies of the child ends once sent.
        defer { pipes.closeChildEnds() }
        let reply: LauncherProtocol.Reply
        do {
            try DescriptorPassing.send(
                socket, LauncherProtocol.startRequest, descriptors: [pipes.childStdin, pipes.childStdout])
            reply = try awaitReply(timeoutMilliseconds: timeoutMilliseconds)
        } catch {
            pipes.closeParentEnds()
            throw error
        }
        switch reply {
        case .started(let pid):
            return try pipes.started(pid: pid)
        case .failed(let errno):
            pipes.closeParentEnds()
            throw SystemError(call: "fork (worker launcher)", errno: errno)
        }
    }

    private func awaitReply(timeoutMilliseconds: Int32) throws(SystemError) -> LauncherProtocol.Reply {
        var entry = [pollfd(fd: socket, events: Int16(POLLIN), revents: 0)]
        let deadline = SystemClock.now() + Double(timeoutMilliseconds) / 1000
        while true {
            // A signal interrupts poll (it then returns 0): wait for what is left.
            let left = FileDescriptorIO.pollTimeout(seconds: deadline - SystemClock.now())
            guard left > 0 else { throw SystemError(call: "waiting for the worker launcher", errno: ETIMEDOUT) }
            if try FileDescriptorIO.poll(&entry, timeoutMilliseconds: left) > 0 { break }
        }
        switch try DescriptorPassing.receive(socket, maximumDescriptors: 0) {
        case .endOfFile:
            throw SystemError(call: "worker launcher", errno: EPIPE)
        case .message(let bytes, _):
            guard let reply = LauncherProtocol.Reply.decode(bytes) else {
                throw SystemError(call: "worker launcher reply", errno: EPROTO)
            }
            return reply
        }
    }

    /// Closes our end; the launcher exits when it reads end of file.
    public func close() {
        FileDescriptorIO.close(socket)
        socket = -1
    }
}
