/// The statements that record the remote's PostgreSQL and extension versions
/// in the repository (at worker start and on `update_versions`), where
/// powa-web reads them to know what the remote supports.
///
/// Each statement runs on its own, outside the snapshot transaction: a
/// failure is logged as a warning (`VersionSaveStep.subject`) and the others
/// still run. Nothing on PoWA 4.0, which records no versions.
public enum VersionSavePlan {
    /// - Parameters:
    ///   - serverVersion: the remote's `server_version` (`RemoteSQL.serverVersion`).
    ///   - recorded: `RepositorySQL.extensionVersions` rows.
    ///   - remoteVersions: extension → `extversion` in the remote's powa
    ///     database (`InstalledExtensions.versions`).
    ///   - hypopgAvailableVersion: `RemoteSQL.hypopgAvailableVersion`, nil when
    ///     hypopg cannot be installed on the remote.
    public static func steps(
        sql: RepositorySQL, srvid: Int, serverVersion: String?, recorded: [ExtensionVersionRow],
        remoteVersions: [String: String], hypopgAvailableVersion: String?
    ) -> [VersionSaveStep] {
        guard sql.version.recordsComponentVersions else { return [] }
        var steps: [VersionSaveStep] = []
        if let serverVersion, let statement = sql.saveServerVersion(srvid: srvid, serverVersion: serverVersion) {
            steps.append(VersionSaveStep(subject: "server version", statement: statement))
        }
        // Extensions already known for the server; one the remote does not
        // have keeps its last recorded version.
        for row in recorded where row.extname != hypopg {
            guard let remote = remoteVersions[row.extname], remote != row.version,
                let statement = sql.updateExtensionVersion(srvid: srvid, extname: row.extname, version: remote)
            else { continue }
            steps.append(VersionSaveStep(subject: "extension \(row.extname)", statement: statement))
        }
        // hypopg: recorded when available at all, removed when not.
        let recordedHypopg = recorded.first { $0.extname == hypopg }
        let statement: SQLStatement? =
            switch (recordedHypopg, hypopgAvailableVersion) {
            case (nil, nil): nil
            case (.some, nil): sql.deleteExtensionVersion(srvid: srvid, extname: hypopg)
            case (nil, .some(let available)):
                sql.insertExtensionVersion(srvid: srvid, extname: hypopg, version: available)
            case (.some(let row), .some(let available)):
                row.version == available
                    ? nil : sql.updateExtensionVersion(srvid: srvid, extname: hypopg, version: available)
            }
        if let statement {
            steps.append(VersionSaveStep(subject: "extension \(hypopg)", statement: statement))
        }
        return steps
    }

    static let hypopg = "hypopg"
}
