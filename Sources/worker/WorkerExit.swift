import Glibc

/// How a worker process ends once its collector thread exists.
///
/// Never `exit`: it runs the atexit handlers and every library's
/// destructors on the calling thread while the collector thread may still
/// be inside libpq. libkrb5's and libgssapi's destructors destroy their
/// mutexes (krb5 expects "the application code [to be] coordinating things
/// such that the library code is not in use by this point"), and glibc
/// answers a lock of a destroyed mutex with EINVAL, on which krb5 asserts:
/// `k5_mutex_lock: Received error 22 (Invalid argument)`, then SIGABRT.
/// OpenSSL's cleanup frees what a TLS handshake in progress still uses.
///
/// `_exit` skips all of that, which loses nothing here: logs and status
/// lines are written with `write(2)`, never through stdio buffers, and the
/// kernel closes the sockets, so the servers roll back whatever
/// transaction was open.
enum WorkerExit {
    static func now(_ status: Int32) -> Never {
        _exit(status)
    }
}
