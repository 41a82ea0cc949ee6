import Glibc
import PowaCore

/// Reads `/proc/<pid>/stat` for the watchdog's check of a silent worker.
enum ProcessStat {
    static func sample(pid: pid_t) -> ProcessSample? {
        let fd = open("/proc/\(pid)/stat", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 1024)
        let count = read(fd, &buffer, buffer.count)
        guard count > 0 else { return nil }
        return ProcessSample.parse(String(decoding: buffer[0..<count], as: UTF8.self))
    }
}
