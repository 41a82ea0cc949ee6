/// A powa-web release the tests drive over HTTP, with the PoWA release it
/// serves: powa-web accepts only a repository of its own major.minor.
public enum PowaWebRelease: String, CaseIterable, Sendable, CustomStringConvertible {
    case powaWeb531 = "5.3.1"
    case powaWeb414 = "4.1.4"

    public var powa: PowaRelease {
        switch self {
        case .powaWeb531: .powa53
        case .powaWeb414: .powa4
        }
    }

    /// The virtual environment `pg-env.sh install-powa-web` made, if any.
    public var environment: String? {
        switch self {
        case .powaWeb531: TestEnvironment.powaWeb53Environment
        case .powaWeb414: TestEnvironment.powaWeb41Environment
        }
    }

    /// powa-web 4 has neither FORCE_SNAPSHOT nor REFRESH_DB_CAT: its UI
    /// sends only WORKERS_STATUS and RELOAD.
    public var offersSnapshotActions: Bool { powa.major >= 5 }

    public var description: String { "powa-web \(rawValue) on \(powa)" }
}
