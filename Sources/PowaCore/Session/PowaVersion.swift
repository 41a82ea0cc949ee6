/// The version of the `powa` extension (`pg_extension.extversion`) on one
/// server, and what it implies for the collector.
///
/// Only major and minor matter: they select the schema the collector talks
/// to (PoWA 4's `powa_functions` table versus PoWA 5's view, per-database
/// data, extension version table, search_path). Patch releases do not change
/// that interface.
public struct PowaVersion: Hashable, Sendable, CustomStringConvertible {
    /// The oldest major version the collector supports.
    public static let minimumMajor = 4

    /// `extversion` as installed, e.g. `4.1.4` or `5.0.2`.
    public let text: String
    public let major: Int
    public let minor: Int

    /// Parses `extversion`: dot-separated, the first two components starting
    /// with digits (`4.0`, `4.1.4`, `5.1.0dev`). Nil when it does not.
    public init?(extversion: String) {
        let parts = extversion.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count >= 2,
            let major = Self.leadingNumber(parts[0]),
            let minor = Self.leadingNumber(parts[1])
        else { return nil }
        self.text = extversion
        self.major = major
        self.minor = minor
    }

    /// A version from its parts, for tests and messages.
    public init(major: Int, minor: Int, patch: Int? = nil) {
        self.major = major
        self.minor = minor
        self.text = patch.map { "\(major).\(minor).\($0)" } ?? "\(major).\(minor)"
    }

    /// `major.minor`, the part that must be equal on both sides.
    public var series: String { "\(major).\(minor)" }

    public var description: String { text }

    /// PoWA 4.0 registers its settings only when its library is loaded, and
    /// it need not be in `shared_preload_libraries`: such connections run
    /// `LOAD 'powa'` first.
    public var needsLoad: Bool { major == 4 && minor == 0 }

    /// PoWA 5 qualifies every name and expects sessions to use
    /// `search_path = pg_catalog`, so that no object of another schema can
    /// hijack a call.
    public var usesSecureSearchPath: Bool { major >= 5 }

    /// PoWA 5 also collects per-database modules and catalogs, over one
    /// connection per remote database.
    public var collectsPerDatabaseData: Bool { major >= 5 }

    /// PoWA 4.0 has no `version` column in `powa_servers` and no extension
    /// version table; later versions record both.
    public var recordsComponentVersions: Bool { !(major == 4 && minor == 0) }

    /// The repository table holding each extension's version for a server:
    /// `powa_extensions` up to PoWA 4, `powa_extension_config` from PoWA 5.
    public var extensionVersionTable: String {
        major >= 5 ? "powa_extension_config" : "powa_extensions"
    }

    /// The version read from one server, checked: present, parsable, and at
    /// least `minimumMajor`.
    ///
    /// - Parameter extversion: `extversion` of `powa` in `pg_extension`, nil
    ///   when the extension is not installed.
    public static func validated(extversion: String?, on role: ServerRole) throws(PowaVersionError) -> PowaVersion {
        guard let extversion else { throw .notInstalled(role) }
        guard let version = PowaVersion(extversion: extversion) else {
            throw .unparsable(role, extversion)
        }
        guard version.major >= minimumMajor else { throw .tooOld(role, version) }
        return version
    }

    /// Repository and remote must run the same major.minor of PoWA: the
    /// repository's functions consume exactly the rows that the remote's
    /// source functions of that series produce.
    public static func checkCompatible(repository: PowaVersion, remote: PowaVersion) throws(PowaVersionError) {
        guard repository.major == remote.major, repository.minor == remote.minor else {
            throw .incompatible(repository: repository, remote: remote)
        }
    }

    private static func leadingNumber(_ part: Substring) -> Int? {
        let digits = part.prefix { $0.isASCII && $0.isNumber }
        return digits.isEmpty ? nil : Int(digits)
    }
}
