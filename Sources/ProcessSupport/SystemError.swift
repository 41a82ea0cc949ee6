import Glibc

/// A failed system call, with errno and the call's name.
public struct SystemError: Error, Sendable, CustomStringConvertible {
    public var call: String
    public var errno: Int32

    public init(call: String, errno: Int32) {
        self.call = call
        self.errno = errno
    }

    static func last(_ call: String) -> SystemError {
        SystemError(call: call, errno: Glibc.errno)
    }

    public var description: String {
        "\(call): \(String(cString: strerror(errno)))"
    }
}
