extension SnapshotPlan {
    /// One step per global datasource, in the given (priority) order.
    ///
    /// A datasource reads `SELECT <srvid>, * FROM <schema>.<query_source>(0)`
    /// on the remote (`0`: the remote's own, local data) into
    /// `<schema>.<query_source>_tmp` on the repository. The schema on each
    /// side is that of the datasource's `schemaExtension` there; when that
    /// extension is missing on either side, the datasource is skipped with
    /// an error. A cleanup whose placeholders cannot be resolved on the
    /// remote is replaced by an error; the copy itself still runs.
    ///
    /// - Parameters:
    ///   - serverName: the worker's name for the remote, for error texts.
    ///   - remoteSchemas, repositorySchemas: extension → raw schema name
    ///     (`InstalledExtensions.schemas`).
    ///   - quoteIdentifier: quotes a schema name for SQL text.
    public static func datasourceSteps(
        srvid: Int, serverName: String, datasources: [DatasourceRow],
        remoteSchemas: [String: String], repositorySchemas: [String: String],
        quoteIdentifier: (String) -> String
    ) -> [DatasourceStep] {
        datasources.map { row in
            guard let querySource = row.querySource else {
                return .ignore(datasource: row.name, warning: SnapshotErrorText.noQuerySource(datasource: row.name))
            }
            if let required = row.requiredExtension, remoteSchemas[required] == nil {
                return .skip(
                    datasource: row.name,
                    error: SnapshotErrorText.extensionMissing(required, on: .remote, serverName: serverName))
            }
            let extname = row.schemaExtension
            guard let remoteSchema = remoteSchemas[extname] else {
                return .skip(
                    datasource: row.name,
                    error: SnapshotErrorText.extensionMissing(extname, on: .remote, serverName: serverName))
            }
            guard let repositorySchema = repositorySchemas[extname] else {
                return .skip(
                    datasource: row.name,
                    error: SnapshotErrorText.extensionMissing(extname, on: .repository, serverName: serverName))
            }
            let source = "COPY (SELECT \(srvid), * FROM \(quoteIdentifier(remoteSchema)).\(querySource)(0)) TO STDOUT"
            let target = "COPY \(quoteIdentifier(repositorySchema)).\(querySource)_tmp FROM STDIN"
            let cleanup = row.queryCleanup.map { sql -> CleanupStep in
                do throws(CleanupTemplate.ResolveError) {
                    return .run(
                        try CleanupTemplate.resolve(sql, schemas: remoteSchemas, quoteIdentifier: quoteIdentifier))
                } catch {
                    switch error {
                    case .unknownExtension(let missing):
                        return .unresolvable(
                            error: SnapshotErrorText.cleanupNeedsMissingExtension(
                                datasource: row.name, extname: missing, serverName: serverName))
                    case .malformed:
                        return .unresolvable(
                            error: SnapshotErrorText.cleanupMalformed(datasource: row.name, cleanup: sql))
                    }
                }
            }
            return .copy(CopyStep(name: row.name, source: source, target: target, cleanup: cleanup))
        }
    }
}
