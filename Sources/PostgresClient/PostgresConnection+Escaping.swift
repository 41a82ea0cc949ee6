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
}
