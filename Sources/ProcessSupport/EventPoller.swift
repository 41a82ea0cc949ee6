import CSystemShims
import Glibc

/// epoll(7): the kernel keeps the set of descriptors, so a wait costs what
/// is ready, not what is registered (poll(2) over 1,000 worker pipes
/// rebuilt and scanned the whole array on every wake-up).
///
/// Level-triggered: a descriptor left with unread bytes is reported again
/// at the next wait, which lets the caller bound its work per wake-up
/// without losing anything.
public final class EventPoller {
    // <sys/epoll.h> values (Linux ABI; Swift's Glibc module omits the header).
    private static let epollIn: UInt32 = 0x001
    private static let epollOut: UInt32 = 0x004
    private static let epollErr: UInt32 = 0x008
    private static let epollHup: UInt32 = 0x010
    private static let ctlAdd: Int32 = 1
    private static let ctlDel: Int32 = 2
    private static let ctlMod: Int32 = 3

    public struct Interest: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let readable = Interest(rawValue: EventPoller.epollIn)
        public static let writable = Interest(rawValue: EventPoller.epollOut)
    }

    public struct Ready: Sendable {
        public var key: UInt64
        /// Readable, or the other end closed or failed (read to find out).
        public var readable: Bool
        public var writable: Bool
    }

    private let epfd: Int32
    private var keys = [UInt64](repeating: 0, count: 64)
    private var events = [UInt32](repeating: 0, count: 64)

    public init() throws(SystemError) {
        epfd = csystemshims_epoll_create()
        guard epfd >= 0 else { throw .last("epoll_create1") }
    }

    deinit { Glibc.close(epfd) }

    /// Registers `fd`, or changes its interest when already registered.
    public func watch(_ fd: Int32, _ interest: Interest, key: UInt64) throws(SystemError) {
        if csystemshims_epoll_ctl(epfd, Self.ctlMod, fd, interest.rawValue, key) == 0 { return }
        guard errno == ENOENT else { throw .last("epoll_ctl") }
        guard csystemshims_epoll_ctl(epfd, Self.ctlAdd, fd, interest.rawValue, key) == 0 else {
            throw .last("epoll_ctl")
        }
    }

    /// Unregisters `fd`, before it is closed (a closed descriptor leaves
    /// the set by itself only when no duplicate of it remains open).
    public func unwatch(_ fd: Int32) {
        _ = csystemshims_epoll_ctl(epfd, Self.ctlDel, fd, 0, 0)
    }

    /// Waits up to `timeoutMilliseconds` for at most `capacity` (≤ 64)
    /// ready descriptors. An interrupted wait returns nothing.
    public func wait(capacity: Int, timeoutMilliseconds: Int32) throws(SystemError) -> [Ready] {
        let count = csystemshims_epoll_wait(epfd, &keys, &events, Int32(min(capacity, 64)), timeoutMilliseconds)
        if count < 0 {
            if errno == EINTR { return [] }
            throw .last("epoll_wait")
        }
        let hangUp = Self.epollHup | Self.epollErr
        return (0..<Int(count)).map { index in
            let mask = events[index]
            return Ready(
                key: keys[index],
                readable: mask & (Self.epollIn | hangUp) != 0,
                writable: mask & (Self.epollOut | Self.epollErr) != 0)
        }
    }
}
