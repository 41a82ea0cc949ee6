import Glibc

/// A private directory under /tmp for one test's files (configuration,
/// captured output), removed by `remove()`.
public final class TemporaryDirectory: @unchecked Sendable {
    public let path: String

    public init(prefix: String = "powa-test") throws {
        var template = Array("/tmp/\(prefix)-XXXXXX".utf8CString)
        guard let created = mkdtemp(&template) else { throw TestProcessError("mkdtemp failed: errno \(errno)") }
        path = String(cString: created)
        // Worker processes and clusters may run as other users: let them in.
        chmod(path, 0o755)
    }

    /// Writes `text` to `name` inside the directory; returns its path.
    @discardableResult
    public func write(_ name: String, _ text: String) throws -> String {
        let file = path + "/" + name
        let fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw TestProcessError("cannot create \(file): errno \(errno)") }
        defer { close(fd) }
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            guard written > 0 else { throw TestProcessError("cannot write \(file): errno \(errno)") }
            offset += written
        }
        return file
    }

    /// The contents of `name` inside the directory ("" when absent).
    public func read(_ name: String) -> String {
        Self.readFile(path + "/" + name) ?? ""
    }

    public static func readFile(_ file: String) -> String? {
        let fd = open(file, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var contents: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = Glibc.read(fd, &buffer, buffer.count)
            if count > 0 {
                contents += buffer[0..<count]
            } else if count < 0, errno == EINTR {
                continue
            } else {
                break
            }
        }
        return String(decoding: contents, as: UTF8.self)
    }

    /// Removes the directory and the files in it (it holds no subdirectory).
    public func remove() {
        if let directory = opendir(path) {
            while let entry = readdir(directory) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
                }
                if name != "." && name != ".." { unlink(path + "/" + name) }
            }
            closedir(directory)
        }
        rmdir(path)
    }
}
