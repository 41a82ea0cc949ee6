/// A savepoint used around one fallible part of a snapshot, so that a
/// failure costs only that part and not the whole transaction.
///
/// The names are those of the reference collector, which makes the
/// statements recognisable in PostgreSQL logs of either.
public struct Savepoint: Equatable, Sendable {
    public let name: String

    init(_ name: String) { self.name = name }

    public var create: String { "SAVEPOINT \(name)" }
    public var release: String { "RELEASE \(name)" }
    public var rollback: String { "ROLLBACK TO \(name)" }

    // Repository side.

    /// Around each `COPY … FROM STDIN` into a `_tmp` table.
    public static let data = Savepoint("data")
    /// Around `powa_take_snapshot`.
    public static let takeSnapshot = Savepoint("powa_take_snapshot")
    /// Around writing errors into `powa_snapshot_metas`.
    public static let metas = Savepoint("metas")

    // Remote side.

    /// Around each source `COPY … TO STDOUT`, and again around its cleanup.
    public static let source = Savepoint("src")
}
