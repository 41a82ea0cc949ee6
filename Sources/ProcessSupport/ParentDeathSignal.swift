import CSystemShims
import Glibc

/// Makes sure a worker never outlives its supervisor.
public enum ParentDeathSignal {
    /// Asks the kernel to send SIGTERM when the parent `expectedParent`
    /// dies, then checks that it still is the parent: if it died before the
    /// request, no signal would ever come. Returns false when it is already
    /// gone (the caller exits).
    ///
    /// Without an expected parent nothing is armed: the kernel sends the
    /// signal when the *thread* that started the process exits, which in a
    /// multi-threaded parent (a test runner, a thread pool) can happen while
    /// the parent lives on. Such a process still ends when its stdin closes.
    public static func arm(expectedParent: pid_t?) -> Bool {
        guard let expectedParent else { return true }
        _ = csystemshims_set_parent_death_signal(SIGTERM)
        return getppid() == expectedParent
    }
}
