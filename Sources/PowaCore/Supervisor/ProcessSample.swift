/// What `/proc/<pid>/stat` tells about a process the watchdog suspects:
/// whether it is stopped, and how much CPU it has used. Two samples apart
/// tell a slow worker (running, using CPU) from a hung or stopped one.
public struct ProcessSample: Equatable, Sendable {
    /// The state letter: R running, S sleeping, D disk wait, T stopped,
    /// t traced, Z zombie…
    public var state: Character
    /// utime + stime, in clock ticks.
    public var cpuTicks: Int

    public init(state: Character, cpuTicks: Int) {
        self.state = state
        self.cpuTicks = cpuTicks
    }

    /// Stopped by a signal or a tracer, or already dead: it cannot speak.
    public var isStopped: Bool { state == "T" || state == "t" || state == "Z" || state == "X" }

    /// Parses the one line of `/proc/<pid>/stat`. The command name, field
    /// 2, is in parentheses and may hold spaces and parentheses itself, so
    /// the fields are counted from the last `)`.
    public static func parse(_ line: String) -> ProcessSample? {
        guard let close = line.lastIndex(of: ")") else { return nil }
        let fields = line[line.index(after: close)...].split(separator: " ")
        // After the name: state is field 3, utime 14, stime 15 (1-based).
        guard fields.count >= 13, let state = fields[0].first, fields[0].count == 1,
            let utime = Int(fields[11]), let stime = Int(fields[12])
        else { return nil }
        return ProcessSample(state: state, cpuTicks: utime + stime)
    }
}
