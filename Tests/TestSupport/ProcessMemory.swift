import Glibc

/// Reads this process's memory figures from /proc/self/status.
public enum ProcessMemory {
    /// A field such as `VmRSS` or `VmHWM`, in kilobytes.
    public static func kilobytes(_ field: String, pid: pid_t? = nil) -> Int? {
        let path = pid.map { "/proc/\($0)/status" } ?? "/proc/self/status"
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 512)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            guard text.hasPrefix(field + ":") else { continue }
            let digits = text.dropFirst(field.count + 1).filter(\.isNumber)
            return Int(digits)
        }
        return nil
    }
}

extension ProcessMemory {
    /// A field of /proc/PID/smaps_rollup (`Pss`, `Private_Dirty`…), in kB.
    public static func rollup(_ field: String, pid: pid_t) -> Int? {
        guard let text = TemporaryDirectory.readFile("/proc/\(pid)/smaps_rollup") else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
            return Int(line.dropFirst(field.count + 1).filter(\.isNumber))
        }
        return nil
    }

    /// How many malloc arenas besides the main one (the `brk` heap) the
    /// process has. glibc maps each further arena's heap as 64 MiB of
    /// address space aligned on 64 MiB: a read-write part followed by an
    /// inaccessible rest, which is how they are recognised in
    /// /proc/PID/maps (thread stacks have their guard page first).
    public static func extraMallocArenas(pid: pid_t) -> Int? {
        guard let text = TemporaryDirectory.readFile("/proc/\(pid)/maps") else { return nil }
        let heapSize: UInt64 = 64 << 20
        var regions: [(start: UInt64, end: UInt64, permissions: Substring, anonymous: Bool)] = []
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 5 else { continue }
            let bounds = fields[0].split(separator: "-")
            guard bounds.count == 2, let start = UInt64(bounds[0], radix: 16), let end = UInt64(bounds[1], radix: 16)
            else { continue }
            regions.append((start, end, fields[1], fields.count == 5))
        }
        var count = 0
        for (first, second) in zip(regions, regions.dropFirst()) {
            guard first.anonymous, second.anonymous, first.permissions.hasPrefix("rw"),
                second.permissions.hasPrefix("---"), first.end == second.start
            else { continue }
            if first.start % heapSize == 0, second.end - first.start == heapSize { count += 1 }
        }
        return count
    }
}
