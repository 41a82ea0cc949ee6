import CSystemShims
import Glibc

/// Makes sure a worker never outlives its supervisor.
public enum ParentDeathSignal {
    /// Asks the kernel to send SIGTERM when the parent dies, then checks that
    /// the parent is still the one expected: if it died before the request,
    /// no signal would ever come. Returns false when the parent is already
    /// gone (the caller exits).
    public static func arm(expectedParent: pid_t?) -> Bool {
        _ = csystemshims_set_parent_death_signal(SIGTERM)
        let parent = getppid()
        if let expectedParent { return parent == expectedParent }
        return parent != 1
    }
}
