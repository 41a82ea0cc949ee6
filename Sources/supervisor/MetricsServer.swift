import Glibc
import Logging
import PowaCore
import ProcessSupport

/// The `metrics_listen` HTTP endpoint, served from the supervisor's event
/// loop: a non-blocking listening socket and at most `maximumClients`
/// non-blocking connections, each watched by the loop's epoll set.
/// No thread, no blocking call: a client that sends slowly, never reads,
/// or floods is cut off by the request-size bound or its deadline, and the
/// loop goes on; when every slot is taken, a new connection replaces the
/// oldest. What each path answers is `MetricsEndpoint`'s.
final class MetricsServer {
    static let maximumClients = 16
    /// A whole exchange (request in, answer out) must fit in this; a
    /// scraper on a LAN needs milliseconds.
    static let clientTimeout = 5.0

    let address: ListenAddress
    private let listenFD: Int32
    private var clients: [Int32: MetricsClient] = [:]
    private let logger: Logger
    /// The event loop's poller, and the tag of our keys (key = tag | fd).
    private var poller: EventPoller?
    private var tag: UInt64 = 0

    init(address: ListenAddress, logger: Logger) throws(SystemError) {
        self.address = address
        self.logger = logger
        let family = address.isIPv6 ? AF_INET6 : AF_INET
        let fd = socket(
            family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw SystemError(call: "socket", errno: errno) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let bound: Int32
        if address.isIPv6 {
            var socketAddress = sockaddr_in6()
            socketAddress.sin6_family = sa_family_t(AF_INET6)
            socketAddress.sin6_port = in_port_t(UInt16(address.port).bigEndian)
            guard inet_pton(AF_INET6, address.host, &socketAddress.sin6_addr) == 1 else {
                Glibc.close(fd)
                throw SystemError(call: "inet_pton(\(address.host))", errno: EINVAL)
            }
            bound = withUnsafePointer(to: &socketAddress) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        } else {
            var socketAddress = sockaddr_in()
            socketAddress.sin_family = sa_family_t(AF_INET)
            socketAddress.sin_port = in_port_t(UInt16(address.port).bigEndian)
            guard inet_pton(AF_INET, address.host, &socketAddress.sin_addr) == 1 else {
                Glibc.close(fd)
                throw SystemError(call: "inet_pton(\(address.host))", errno: EINVAL)
            }
            bound = withUnsafePointer(to: &socketAddress) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        guard bound == 0 else {
            let error = errno
            Glibc.close(fd)
            throw SystemError(call: "bind(\(address))", errno: error)
        }
        guard listen(fd, 64) == 0 else {
            let error = errno
            Glibc.close(fd)
            throw SystemError(call: "listen(\(address))", errno: error)
        }
        listenFD = fd
    }

    deinit { close() }

    func close() {
        for fd in clients.keys { drop(fd) }
        if listenFD >= 0 {
            poller?.unwatch(listenFD)
            Glibc.close(listenFD)
        }
    }

    /// Joins the event loop: the listening socket and then every client
    /// are watched by `poller` under keys `tag | fd`, each descriptor
    /// unwatched before it is closed (its number may come back at once).
    func attach(to poller: EventPoller, tag: UInt64) {
        self.poller = poller
        self.tag = tag
        watch(listenFD, .readable)
    }

    private func watch(_ fd: Int32, _ interest: EventPoller.Interest) {
        do {
            try poller?.watch(fd, interest, key: tag | UInt64(UInt32(bitPattern: fd)))
        } catch {
            logger.error("metrics endpoint \(address): cannot watch a socket: \(error)")
        }
    }

    /// The earliest client deadline.
    var nextDeadline: Double? { clients.values.map(\.deadline).min() }

    /// Handles readiness of one of `pollEntries`' descriptors.
    func handle(fd: Int32, now: Double, metrics: () -> SupervisorMetrics) {
        if fd == listenFD {
            acceptPending(now: now)
            return
        }
        guard var client = clients[fd] else { return }
        if client.wantsToWrite {
            if client.writeAvailable() { drop(fd) } else { clients[fd] = client }
            return
        }
        switch client.readAvailable() {
        case .waiting:
            clients[fd] = client
        case .done:
            drop(fd)
        case .answer(let parsed):
            let response: HTTPResponse
            var includeBody = true
            switch parsed {
            case .complete(let head):
                response = MetricsEndpoint.respond(to: head, metrics: metrics)
                includeBody = head.method != "HEAD"
            case .invalid(let status, let reason):
                response = .text(status, reason)
            case .incomplete:
                return
            }
            client.output = response.bytes(includeBody: includeBody)
            // Nothing more is read from a client that has its answer.
            shutdown(fd, Int32(SHUT_RD))
            if client.writeAvailable() {
                drop(fd)
            } else {
                clients[fd] = client
                watch(fd, .writable)
            }
        }
    }

    /// Closes the clients whose time is up.
    func expire(now: Double) {
        for (fd, client) in clients where now >= client.deadline {
            if !client.wantsToWrite {
                var late = client
                late.output = HTTPResponse.text(408, "request not received in time").bytes()
                _ = late.writeAvailable()
            }
            drop(fd)
        }
    }

    private func acceptPending(now: Double) {
        // A bounded batch per turn, so that a flood of connections cannot
        // keep the loop here.
        for _ in 0..<Self.maximumClients {
            let fd = accept(listenFD, nil, nil)
            if fd < 0 {
                if errno == EINTR { continue }
                if errno != EAGAIN && errno != EWOULDBLOCK && errno != ECONNABORTED {
                    let reason = String(cString: strerror(errno))
                    logger.warning(
                        """
                        metrics endpoint \(address): accept failed: \(reason) \
                        (check the process's open file limit, LimitNOFILE)
                        """)
                }
                return
            }
            // The loop's thread is the only one that starts processes, so
            // no spawn can slip in before close-on-exec is set.
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            try? FileDescriptorIO.setNonBlocking(fd)
            if clients.count >= Self.maximumClients {
                // Full: the oldest connection goes, so that idle or slow
                // clients holding every slot cannot lock a scraper out.
                if let oldest = clients.min(by: { $0.value.deadline < $1.value.deadline })?.key { drop(oldest) }
            }
            clients[fd] = MetricsClient(fd: fd, deadline: now + Self.clientTimeout)
            watch(fd, .readable)
        }
    }

    private func drop(_ fd: Int32) {
        clients[fd] = nil
        poller?.unwatch(fd)
        Glibc.close(fd)
    }
}
