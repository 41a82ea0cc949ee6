import Glibc
import PowaCore

/// The file-system side of loading the configuration: reads candidate
/// files for `ConfigurationLoader`, which decides what they mean. Used the
/// same way at startup and on every reload.
enum ConfigurationFile {
    /// A configuration file is a few hundred bytes; anything this big is
    /// not one, and reading it whole would only waste memory.
    static let maximumSize = 1 << 20

    static func load(_ source: ConfigurationSource) -> Result<LoadedConfiguration, ConfigurationError> {
        do {
            return .success(try ConfigurationLoader.load(from: source, readFile: read))
        } catch {
            return .failure(error)
        }
    }

    /// `$HOME`, or the password database's home directory when it is unset,
    /// as Python's `os.path.expanduser` (used by the reference) does.
    static var homeDirectory: String? {
        if let home = getenv("HOME"), home.pointee != 0 { return String(cString: home) }
        guard let entry = getpwuid(getuid()), let directory = entry.pointee.pw_dir else { return nil }
        return String(cString: directory)
    }

    static func read(_ path: String) -> ConfigurationFileReadResult {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let error = errno
            if error == ENOENT || error == ENOTDIR { return .missing }
            return .unreadable(reason: String(cString: strerror(error)))
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return .unreadable(reason: String(cString: strerror(errno))) }
        if (info.st_mode & S_IFMT) == S_IFDIR { return .unreadable(reason: "it is a directory") }
        var contents: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16384)
        while true {
            let count = Glibc.read(fd, &buffer, buffer.count)
            if count == 0 { return .contents(contents) }
            if count < 0 {
                if errno == EINTR { continue }
                return .unreadable(reason: String(cString: strerror(errno)))
            }
            contents += buffer[0..<count]
            if contents.count > maximumSize {
                return .unreadable(reason: "larger than \(maximumSize) bytes, not a configuration file")
            }
        }
    }
}
