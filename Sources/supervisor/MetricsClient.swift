import Glibc
import PowaCore

/// One connection to the metrics endpoint: the request head as it arrives,
/// then the answer as the client takes it. Each is bounded: the head by
/// `HTTPRequestHead.maximumBytes`, the whole exchange by the server's
/// deadline, after which the connection is closed whatever its state.
struct MetricsClient {
    let fd: Int32
    let deadline: Double
    var received: [UInt8] = []
    /// Set once the answer is ready; then only writes remain.
    var output: [UInt8]?
    var written = 0

    var wantsToWrite: Bool { output != nil }

    enum Progress {
        case waiting
        case answer(HTTPRequestHead.ParseResult)
        case done
    }

    /// Reads what arrived (non-blocking).
    mutating func readAvailable() -> Progress {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while received.count < HTTPRequestHead.maximumBytes {
            let count = recv(fd, &buffer, min(buffer.count, HTTPRequestHead.maximumBytes - received.count + 1), 0)
            if count > 0 {
                received += buffer[0..<count]
                continue
            }
            if count == 0 { return .done }  // closed before a full request
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK { break }
            return .done
        }
        let parsed = HTTPRequestHead.parse(received)
        if case .incomplete = parsed { return .waiting }
        return .answer(parsed)
    }

    /// Writes what the socket takes now; true once everything went out or
    /// the client is gone.
    mutating func writeAvailable() -> Bool {
        guard let output else { return true }
        while written < output.count {
            let count = output.withUnsafeBytes { buffer in
                Glibc.send(fd, buffer.baseAddress! + written, output.count - written, Int32(MSG_NOSIGNAL))
            }
            if count > 0 {
                written += count
            } else if count < 0, errno == EINTR {
                continue
            } else if count < 0, errno == EAGAIN || errno == EWOULDBLOCK {
                return false
            } else {
                return true
            }
        }
        return true
    }
}
