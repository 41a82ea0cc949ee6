import Glibc

/// The glibc malloc tunables the worker launcher, and so every worker it
/// forks, runs with. Only the environment sets them: glibc reads
/// `GLIBC_TUNABLES` once, when the program starts.
///
/// No per-thread cache (`tcache_count=0`): each thread's cache keeps up to
/// seven freed chunks of each small size (sixty-four sizes) for reuse, and
/// `malloc_trim`, which the worker calls after each snapshot, leaves them
/// where they are. Measured with `scripts/worker-memory` and a walk of a
/// worker's heap (40 workers of the small remote, after snapshots): the
/// collector thread's cache held 132 chunks (36 kB) scattered over the
/// pages a snapshot had used, keeping about 40 kB of its heap dirty.
/// Without it those pages are given back: heap 120 to 80 kB, the estimate
/// among 500 workers 346 to 304 kB, with no change of the workers' CPU per
/// snapshot within the noise (3.65 and 3.24 ms with, 3.33 and 3.20 ms
/// without, 240 snapshots each).
public enum LauncherMallocTunables {
    static let variable = "GLIBC_TUNABLES"
    static let noThreadCache = "glibc.malloc.tcache_count=0"

    /// `GLIBC_TUNABLES=…` for the launcher: the user's own tunables, if any,
    /// then ours, unless the user chose a thread cache size already.
    public static func environmentItem(existing: String?) -> String {
        guard let existing, !existing.isEmpty else { return "\(variable)=\(noThreadCache)" }
        let names = existing.split(separator: ":").map { $0.prefix { $0 != "=" } }
        if names.contains(where: { $0 == noThreadCache.prefix { $0 != "=" } }) { return "\(variable)=\(existing)" }
        return "\(variable)=\(existing):\(noThreadCache)"
    }

    /// The item for this process's environment.
    public static func environmentItem() -> String {
        environmentItem(existing: getenv(variable).map { String(cString: $0) })
    }
}
