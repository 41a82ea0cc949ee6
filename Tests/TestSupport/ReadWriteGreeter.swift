import Glibc

/// The first steps of a PostgreSQL server and nothing more: it refuses
/// GSSAPI and TLS encryption, accepts any startup packet, reports a
/// read-write PostgreSQL 15 session and waits for the client to hang up.
///
/// A libpq client that wants a read-only session (`target_session_attrs`)
/// then gives up on it and tries its next host after microseconds of
/// server work, so a long host list keeps the client in its own connect
/// code (Kerberos credential lookup included) rather than waiting on a
/// server. Connections are served one at a time on a thread of its own.
public final class ReadWriteGreeter: @unchecked Sendable {
    public let address: String
    public let port: Int
    private let listener: Int32

    /// Listens on `address`:`port` (a loopback address other than the one
    /// a cluster on that port listens on).
    public init(address: String, port: Int) throws {
        self.address = address
        self.port = port
        listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard listener >= 0 else { throw TestProcessError("socket: errno \(errno)") }
        var yes: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var socketAddress = sockaddr_in()
        socketAddress.sin_family = sa_family_t(AF_INET)
        socketAddress.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, address, &socketAddress.sin_addr)
        let bound = withUnsafePointer(to: &socketAddress) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(listener, 512) == 0 else {
            let error = errno
            Glibc.close(listener)
            throw TestProcessError("cannot listen on \(address):\(port): errno \(error)")
        }
        var thread = pthread_t()
        let box = Unmanaged.passRetained(self)
        guard
            pthread_create(
                &thread, nil,
                { context in
                    Unmanaged<ReadWriteGreeter>.fromOpaque(context!).takeRetainedValue().serve()
                    return nil
                }, box.toOpaque()) == 0
        else {
            box.release()
            Glibc.close(listener)
            throw TestProcessError("pthread_create failed")
        }
        pthread_detach(thread)
    }

    /// Stops listening; the serving thread ends with the next accept.
    public func close() {
        shutdown(listener, Int32(SHUT_RDWR))
    }

    private func serve() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                Glibc.close(listener)
                return
            }
            var timeout = timeval(tv_sec: 2, tv_usec: 0)
            setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            greet(client)
            Glibc.close(client)
        }
    }

    private static let gssEncryptionRequest: UInt32 = 80_877_104
    private static let tlsRequest: UInt32 = 80_877_103

    private func greet(_ client: Int32) {
        while true {
            guard let header = readExactly(client, 8) else { return }
            let length = Int(Self.bigEndian(header, at: 0))
            let code = Self.bigEndian(header, at: 4)
            if code == Self.gssEncryptionRequest || code == Self.tlsRequest {
                guard writeAll(client, [UInt8(ascii: "N")]) else { return }
                continue
            }
            guard length >= 8, length < 10_000, readExactly(client, length - 8) != nil else { return }
            var reply = Self.message("R", Self.int32(0))
            for (name, value) in [
                ("server_version", "15.0"), ("in_hot_standby", "off"),
                ("default_transaction_read_only", "off"), ("client_encoding", "UTF8"),
                ("standard_conforming_strings", "on"), ("integer_datetimes", "on"),
            ] {
                reply += Self.message("S", Array(name.utf8) + [0] + Array(value.utf8) + [0])
            }
            reply += Self.message("K", Self.int32(1) + Self.int32(2)) + Self.message("Z", [UInt8(ascii: "I")])
            guard writeAll(client, reply) else { return }
            // Until the client's Terminate or hang-up.
            _ = readExactly(client, 5)
            return
        }
    }

    private static func message(_ type: Character, _ body: [UInt8]) -> [UInt8] {
        [type.asciiValue!] + int32(UInt32(body.count + 4)) + body
    }

    private static func int32(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8((value >> 16) & 0xff), UInt8((value >> 8) & 0xff), UInt8(value & 0xff)]
    }

    private static func bigEndian(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        bytes[offset..<offset + 4].reduce(0) { $0 << 8 | UInt32($1) }
    }

    private func readExactly(_ fd: Int32, _ count: Int) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: count)
        var offset = 0
        while offset < count {
            let read = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + offset, count - offset) }
            if read < 0, errno == EINTR { continue }
            guard read > 0 else { return nil }
            offset += read
        }
        return bytes
    }

    private func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes {
                send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            }
            if written < 0, errno == EINTR { continue }
            guard written > 0 else { return false }
            offset += written
        }
        return true
    }
}
