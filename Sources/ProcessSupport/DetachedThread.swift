import Glibc

/// Runs one closure on a new, detached POSIX thread.
///
/// The worker needs real threads rather than Swift concurrency: libpq calls
/// block the calling thread for as long as a server takes to answer, and
/// the control loop must keep its heartbeats and signals going meanwhile.
/// The closure is `@Sendable`, so whatever the thread needs crosses over as
/// Sendable values, and anything non-Sendable it builds stays confined to it.
public enum DetachedThread {
    /// Starts `body` on a new thread that nobody joins.
    ///
    /// - Parameter stackSize: bytes of stack, nil for the system's default
    ///   (8 MiB on Linux, which counts against a small process's footprint).
    /// - Throws: `pthread_create`'s error, for instance EAGAIN when the
    ///   limits on processes and threads are reached.
    public static func start(stackSize: Int? = nil, _ body: @escaping @Sendable () -> Void) throws(SystemError) {
        let box = Unmanaged.passRetained(Body(body))
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        if let stackSize { pthread_attr_setstacksize(&attributes, stackSize) }
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        var thread = pthread_t()
        let created = pthread_create(
            &thread, &attributes,
            { context in
                Unmanaged<Body>.fromOpaque(context!).takeRetainedValue().run()
                return nil
            }, box.toOpaque())
        guard created == 0 else {
            box.release()
            throw SystemError(call: "pthread_create", errno: created)
        }
    }

    /// The closure, boxed so that its context can travel as a pointer.
    private final class Body: Sendable {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }
}
