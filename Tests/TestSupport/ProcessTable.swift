import Glibc

/// What /proc says about processes: children of a pid, liveness, argv and
/// environment (to check that no secret shows there).
public enum ProcessTable {
    public struct Entry: Equatable, Sendable {
        public var pid: pid_t
        public var parent: pid_t
        /// The kernel's short name (15 characters at most).
        public var name: String
        /// `R`, `S`, `T` (stopped), `Z` (zombie)…
        public var state: Character
        /// The scheduling nice value.
        public var nice: Int
    }

    /// One process's entry, nil when it does not exist.
    public static func entry(_ pid: pid_t) -> Entry? {
        guard let stat = TemporaryDirectory.readFile("/proc/\(pid)/stat"), !stat.isEmpty,
            let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")")
        else { return nil }
        let name = String(stat[stat.index(after: open)..<close])
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the name: state, ppid, …, nice is field 19 of the line (index 16 here).
        guard fields.count > 16, let state = fields[0].first, let parent = pid_t(fields[1]),
            let nice = Int(fields[16])
        else { return nil }
        return Entry(pid: pid, parent: parent, name: name, state: state, nice: nice)
    }

    /// Every process, from /proc.
    public static func all() -> [Entry] {
        guard let directory = opendir("/proc") else { return [] }
        defer { closedir(directory) }
        var entries: [Entry] = []
        while let item = readdir(directory) {
            let name = withUnsafeBytes(of: item.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if let pid = pid_t(name), let entry = entry(pid) { entries.append(entry) }
        }
        return entries
    }

    /// Live (not zombie) children of `parent`, in pid order.
    public static func children(of parent: pid_t) -> [pid_t] {
        all().filter { $0.parent == parent && $0.state != "Z" }.map(\.pid).sorted()
    }

    /// Whether `pid` exists and is not a zombie. A dead worker reparented to
    /// an init that does not reap stays a zombie: it runs nothing.
    public static func isAlive(_ pid: pid_t) -> Bool {
        guard let entry = entry(pid) else { return false }
        return entry.state != "Z" && entry.state != "X"
    }

    /// argv, NUL-separated items joined with spaces.
    public static func commandLine(_ pid: pid_t) -> String {
        (TemporaryDirectory.readFile("/proc/\(pid)/cmdline") ?? "").replacing("\u{0}", with: " ")
    }

    /// argv, one item per element.
    public static func arguments(_ pid: pid_t) -> [String] {
        (TemporaryDirectory.readFile("/proc/\(pid)/cmdline") ?? "").split(separator: "\u{0}").map(String.init)
    }

    /// The environment, NUL-separated items joined with newlines.
    public static func environment(_ pid: pid_t) -> String {
        (TemporaryDirectory.readFile("/proc/\(pid)/environ") ?? "").replacing("\u{0}", with: "\n")
    }
}
