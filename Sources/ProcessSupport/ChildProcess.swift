import Glibc

/// A worker process: its stdin and stdout connected to us by pipes, its
/// stderr shared with ours (for its log lines).
public struct ChildProcess: Sendable {
    public let pid: pid_t
    /// Our write end of the child's stdin (non-blocking, close-on-exec).
    public let stdinFD: Int32
    /// Our read end of the child's stdout (non-blocking, close-on-exec).
    public let stdoutFD: Int32

    /// Starts `executable` with `arguments` (argv[0] included). No secret may
    /// be in `arguments`: other local users can read them from /proc.
    /// `stderrPath`, when given, receives the child's stderr (appended)
    /// instead of sharing ours.
    public static func spawn(
        executable: String, arguments: [String], stderrPath: String? = nil
    ) throws(SystemError) -> ChildProcess {
        let pipes = try WorkerPipes.make()
        let pid: pid_t
        do {
            pid = try PosixSpawn.spawn(executable: executable, arguments: arguments) { actions in
                // dup2 clears close-on-exec on the new descriptors 0 and 1.
                posix_spawn_file_actions_adddup2(&actions, pipes.childStdin, 0)
                posix_spawn_file_actions_adddup2(&actions, pipes.childStdout, 1)
                if let stderrPath {
                    posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_APPEND, 0o600)
                }
            }
        } catch {
            pipes.closeAll()
            throw error
        }
        pipes.closeChildEnds()
        return try pipes.started(pid: pid)
    }

    /// How a reaped child ended.
    public enum Termination: Equatable, Sendable {
        case exited(Int32)
        case signaled(Int32)
    }

    /// Reaps every child that has ended, without blocking.
    public static func reapExited() -> [(pid: pid_t, termination: Termination)] {
        var reaped: [(pid_t, Termination)] = []
        while true {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, WNOHANG)
            if pid <= 0 { break }
            // WIFEXITED / WTERMSIG are C macros Swift does not import.
            let signal = status & 0x7f
            if signal == 0 {
                reaped.append((pid, .exited((status >> 8) & 0xff)))
            } else {
                reaped.append((pid, .signaled(signal)))
            }
        }
        return reaped
    }

    /// The directory of the running executable (from /proc/self/exe), where
    /// the worker executable is installed beside the supervisor.
    public static func ownExecutableDirectory() -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard length > 0 else { return nil }
        let path = String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard let slash = path.lastIndex(of: "/") else { return nil }
        return String(path[..<slash])
    }
}
