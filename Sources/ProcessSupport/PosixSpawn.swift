import Glibc

/// posix_spawn with clean signal dispositions (SpawnAttributes) and the
/// caller's file actions, shared by every process the supervisor starts.
enum PosixSpawn {
    /// Starts `executable` with `arguments` (argv[0] included) and our
    /// environment, plus `extraEnvironment` (`NAME=value` items, which win
    /// over ours). No secret may be in `arguments` or the environment:
    /// other local users can read them from /proc.
    static func spawn(
        executable: String, arguments: [String], extraEnvironment: [String] = [],
        fileActions configure: (inout posix_spawn_file_actions_t) -> Void
    ) throws(SystemError) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        configure(&actions)
        var pid: pid_t = 0
        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let status: Int32
        if extraEnvironment.isEmpty {
            status = SpawnAttributes.withCleanSignals { attributes in
                posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
            }
        } else {
            let names = Set(extraEnvironment.map { $0.prefix { $0 != "=" } })
            var inherited: [String] = []
            var entry = environ
            while let variable = entry.pointee {
                let text = String(cString: variable)
                if !names.contains(text.prefix { $0 != "=" }) { inherited.append(text) }
                entry += 1
            }
            let envp: [UnsafeMutablePointer<CChar>?] = (inherited + extraEnvironment).map { strdup($0) } + [nil]
            defer { envp.forEach { free($0) } }
            status = SpawnAttributes.withCleanSignals { attributes in
                posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
            }
        }
        guard status == 0 else { throw SystemError(call: "posix_spawn \(executable)", errno: status) }
        return pid
    }
}
