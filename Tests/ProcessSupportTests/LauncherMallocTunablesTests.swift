import ProcessSupport
import Testing

/// The launcher's `GLIBC_TUNABLES`: ours added to what the user set, never
/// in place of it, and never over the user's own thread cache size.
@Suite struct LauncherMallocTunablesTests {
    @Test func withoutTunablesOfTheUserOnlyOursAreSet() {
        #expect(LauncherMallocTunables.environmentItem(existing: nil) == "GLIBC_TUNABLES=glibc.malloc.tcache_count=0")
        #expect(LauncherMallocTunables.environmentItem(existing: "") == "GLIBC_TUNABLES=glibc.malloc.tcache_count=0")
    }

    @Test func theUsersTunablesAreKept() {
        #expect(
            LauncherMallocTunables.environmentItem(existing: "glibc.malloc.check=3:glibc.rtld.nns=2")
                == "GLIBC_TUNABLES=glibc.malloc.check=3:glibc.rtld.nns=2:glibc.malloc.tcache_count=0")
    }

    @Test func theUsersThreadCacheSizeWins() {
        #expect(
            LauncherMallocTunables.environmentItem(existing: "glibc.malloc.tcache_count=5")
                == "GLIBC_TUNABLES=glibc.malloc.tcache_count=5")
        // A tunable whose name merely starts the same is not it.
        #expect(
            LauncherMallocTunables.environmentItem(existing: "glibc.malloc.tcache_count_x=1")
                == "GLIBC_TUNABLES=glibc.malloc.tcache_count_x=1:glibc.malloc.tcache_count=0")
    }
}
