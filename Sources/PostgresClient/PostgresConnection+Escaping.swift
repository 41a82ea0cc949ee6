import CLibPQ

extension PostgresConnection {
    /// Quotes an identifier with `PQescapeIdentifier` (always double-quoted,
    /// embedded quotes doubled, encoding-aware).
    public func escapeIdentifier(_ identifier: String) throws(PostgresError) -> String {
        try escape(identifier, with: PQescapeIdentifier)
    }

    /// Quotes a literal with `PQescapeLiteral` (E'' form when it holds
    /// backslashes).
    public func escapeLiteral(_ literal: String) throws(PostgresError) -> String {
        try escape(literal, with: PQescapeLiteral)
    }

    private func escape(
        _ text: String, with function: (OpaquePointer?, UnsafePointer<CChar>?, Int) -> UnsafeMutablePointer<CChar>?
    ) throws(PostgresError) -> String {
        let handle = try requireHandle()
        guard let escaped = function(handle, text, text.utf8.count) else {
            throw PostgresError(kind: .clientError, message: lastErrorMessage)
        }
        defer { PQfreemem(escaped) }
        return String(cString: escaped)
    }

    /// `SAVEPOINT name`.
    public func savepoint(_ name: String) throws(PostgresError) {
        try executeSimple("SAVEPOINT \(try escapeIdentifier(name))")
    }

    /// `RELEASE SAVEPOINT name`.
    public func releaseSavepoint(_ name: String) throws(PostgresError) {
        try executeSimple("RELEASE SAVEPOINT \(try escapeIdentifier(name))")
    }

    /// `ROLLBACK TO SAVEPOINT name`.
    public func rollbackToSavepoint(_ name: String) throws(PostgresError) {
        try executeSimple("ROLLBACK TO SAVEPOINT \(try escapeIdentifier(name))")
    }

    /// Runs `body` inside a savepoint: released when it succeeds, rolled back
    /// to when it throws a statement error (then rethrown). A broken
    /// connection is rethrown as is: there is nothing left to roll back.
    public func withSavepoint<T>(_ name: String, _ body: () throws(PostgresError) -> T) throws(PostgresError) -> T {
        try savepoint(name)
        do {
            let value = try body()
            try releaseSavepoint(name)
            return value
        } catch {
            if !error.isConnectionBroken { try rollbackToSavepoint(name) }
            throw error
        }
    }
}
