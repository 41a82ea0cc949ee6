import CSystemShims

/// Keeps a worker's private memory near the floor of one process per
/// server: at 1,000 servers every kilobyte a worker writes is a megabyte.
///
/// What measurement (`scripts/worker-memory --mappings`) showed a worker's
/// private dirty pages to be, before: the collector thread's own malloc
/// arena (glibc gives each new thread one, and every page it ever used
/// stays private and dirty), pages freed after a snapshot but kept by the
/// allocator, and thread stacks.
enum WorkerMemory {
    /// Bytes read from stdin at a time. Commands are short lines (a longer
    /// one is assembled across reads), and a larger buffer, zero-filled on
    /// each read, dirtied 16 heap pages for a line of a hundred bytes.
    static let stdinReadSize = 4096

    /// One malloc arena for every thread of the process. Call before any
    /// thread starts: glibc fixes the number of arenas when the second
    /// thread first allocates. Two threads that mostly wait do not contend.
    static func useOneArena() {
        _ = csystemshims_malloc_single_arena()
    }

    /// In the launcher, once before it forks: takes every free piece of its
    /// heap for good, so that a worker's allocations come from new pages
    /// at the top instead of filling holes all over the launcher's pages,
    /// each of which the worker would then copy. The launcher's requests
    /// between forks allocate little, and reuse their own pieces.
    static func sealLauncherHeap() {
        _ = csystemshims_malloc_fill_holes()
    }

    /// Gives the heap's wholly free pages back to the kernel (after a
    /// snapshot, whose result sets and COPY buffers are freed by then).
    static func releaseFreePages() {
        _ = csystemshims_malloc_trim()
    }

    /// On a thread about to wait (the collector thread between snapshots,
    /// the control thread once a snapshot ended): gives back the stack pages
    /// that deeper calls touched below where it waits.
    static func releaseUnusedStack() {
        _ = csystemshims_release_unused_stack()
    }
}
