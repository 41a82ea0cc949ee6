/// Highest-random-weight (rendezvous) hashing of a server over instances.
///
/// Every instance computes the same winner from the same list of live
/// instances, with no exchange beyond that list. It is balanced (each
/// instance wins about 1/n of the servers), and when an instance joins or
/// leaves only the servers it wins or won change hands.
public enum RendezvousHash {
    /// The instance that should collect `srvid`, or nil when there is none.
    /// Ties (astronomically unlikely) go to the smaller id, so that every
    /// instance agrees.
    public static func winner(srvid: Int, among instances: some Sequence<String>) -> String? {
        var best: (instance: String, weight: UInt64)?
        for instance in instances {
            let weight = self.weight(srvid: srvid, instance: instance)
            if let current = best, current.weight > weight || (current.weight == weight && current.instance < instance)
            {
                continue
            }
            best = (instance, weight)
        }
        return best?.instance
    }

    /// A stable 64-bit weight: FNV-1a over the instance id and the server
    /// id, then a finalizer (splitmix64's) so that ids differing in one
    /// character get unrelated weights. Stable across processes and
    /// machines, unlike `Hasher`, which is seeded per process.
    public static func weight(srvid: Int, instance: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in instance.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        hash = (hash ^ 0xff) &* 0x0000_0100_0000_01b3
        var value = UInt64(bitPattern: Int64(srvid))
        for _ in 0..<8 {
            hash = (hash ^ (value & 0xff)) &* 0x0000_0100_0000_01b3
            value >>= 8
        }
        hash = (hash ^ (hash >> 30)) &* 0xbf58_476d_1ce4_e5b9
        hash = (hash ^ (hash >> 27)) &* 0x94d0_49bb_1331_11eb
        return hash ^ (hash >> 31)
    }
}
