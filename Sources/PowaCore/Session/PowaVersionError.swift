/// Why a server cannot be collected because of its PoWA version.
///
/// The description is what goes into the log and, for the version mismatch,
/// into `powa_snapshot_metas.errors` where powa-web shows it.
public enum PowaVersionError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The `powa` extension is not installed in the database connected to.
    case notInstalled(ServerRole)
    /// `extversion` is not of the form `major.minor[.patch]`.
    case unparsable(ServerRole, String)
    /// Older than `PowaVersion.minimumMajor`.
    case tooOld(ServerRole, PowaVersion)
    /// Repository and remote run different major.minor versions.
    case incompatible(repository: PowaVersion, remote: PowaVersion)

    public var description: String {
        switch self {
        case .notInstalled(let role):
            "The powa extension is not installed on the \(role)"
        case .unparsable(let role, let text):
            "Cannot understand the version \"\(text)\" of the powa extension on the \(role)"
        case .tooOld(let role, let version):
            "The powa extension on the \(role) is version \(version), "
                + "at least \(PowaVersion.minimumMajor).0 is required"
        case .incompatible(let repository, let remote):
            "PoWA versions differ between the repository server (\(repository.series).X) "
                + "and the remote server (\(remote.series).X); they must have the same major.minor"
        }
    }
}
