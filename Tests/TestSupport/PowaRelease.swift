/// A PoWA release the test environment runs (`scripts/pg-env.sh up`): the
/// integration tests are parameterized by these, so one test body covers
/// every release it applies to.
public enum PowaRelease: String, CaseIterable, Sendable, CustomStringConvertible {
    /// powa-archivist 4.1.4, Debian 12's packages.
    case powa4 = "4.1"
    /// powa-archivist 5.0.2, built from Debian 13's source.
    case powa50 = "5.0"
    /// powa-archivist 5.3.0 (upstream's current release): 5.0.2's C part
    /// with the SQL of Debian sid's `postgresql-18-powa`.
    case powa53 = "5.3"

    /// Every PoWA 5 release, for tests of what only PoWA 5 has.
    public static let powa5: [PowaRelease] = [.powa50, .powa53]

    public var major: Int { self == .powa4 ? 4 : 5 }

    /// `major.minor`, as the collector compares and reports it.
    public var majorMinor: String { rawValue }

    public var description: String { "PoWA \(rawValue)" }

    /// The release a test written for PoWA `major` meant before 5.3 existed.
    public init(major: Int) {
        self = major >= 5 ? .powa50 : .powa4
    }

    public var repository: TestCluster {
        switch self {
        case .powa4: TestEnvironment.powa4Repository
        case .powa50: TestEnvironment.powa5Repository
        case .powa53: TestEnvironment.powa53Repository
        }
    }

    public var remote: TestCluster {
        switch self {
        case .powa4: TestEnvironment.powa4Remote
        case .powa50: TestEnvironment.powa5Remote
        case .powa53: TestEnvironment.powa53Remote
        }
    }
}
