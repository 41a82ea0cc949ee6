import CSystemShims
import Glibc

/// Datagrams with file descriptors attached (SCM_RIGHTS) on a
/// SOCK_SEQPACKET socket: how the supervisor hands a worker's pipes to the
/// launcher that forks it.
public enum DescriptorPassing {
    public enum Received: Equatable {
        /// Received descriptors are close-on-exec and owned by the caller.
        case message([UInt8], descriptors: [Int32])
        case endOfFile
    }

    /// Sends one datagram (blocking) with `descriptors`, at most 4; our
    /// copies stay open.
    public static func send(_ socket: Int32, _ bytes: [UInt8], descriptors: [Int32]) throws(SystemError) {
        while true {
            let sent = csystemshims_send_with_fds(socket, bytes, bytes.count, descriptors, Int32(descriptors.count))
            if sent >= 0 { return }
            if errno == EINTR { continue }
            throw .last("sendmsg")
        }
    }

    /// Receives one datagram (blocking), with at most `maximumDescriptors`
    /// descriptors (extra ones are closed).
    public static func receive(
        _ socket: Int32, maximumLength: Int = 256, maximumDescriptors: Int = 2
    ) throws(SystemError) -> Received {
        var bytes = [UInt8](repeating: 0, count: maximumLength)
        var descriptors = [Int32](repeating: -1, count: 4)
        var count: Int32 = 0
        while true {
            let length = csystemshims_receive_with_fds(
                socket, &bytes, bytes.count, &descriptors, Int32(min(maximumDescriptors, 4)), &count)
            if length > 0 || (length == 0 && count > 0) {
                return .message(Array(bytes[0..<length]), descriptors: Array(descriptors[0..<Int(count)]))
            }
            if length == 0 { return .endOfFile }
            if errno == EINTR { continue }
            throw .last("recvmsg")
        }
    }
}
