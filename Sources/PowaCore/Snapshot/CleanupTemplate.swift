/// Resolution of the placeholders in a datasource's `query_cleanup`.
///
/// PoWA 5 writes cleanups as `SELECT {pg_qualstats}.pg_qualstats_reset()`:
/// `{name}` stands for the remote schema of extension `name`. The reference
/// collector runs every such query through Python's `str.format`, so the same
/// grammar is kept for custom datasources: `{name}` is replaced, `{{` and `}}`
/// stand for literal braces, and any other brace is an error.
public enum CleanupTemplate {
    public enum ResolveError: Error, Equatable, Sendable {
        /// `{name}` names an extension that the remote does not have.
        case unknownExtension(String)
        /// A lone brace or an empty `{}`.
        case malformed
    }

    /// `sql` with every `{extension}` replaced by that extension's quoted
    /// schema.
    ///
    /// - Parameters:
    ///   - schemas: extension name → raw schema name, on the remote.
    ///   - quoteIdentifier: quotes a schema name for SQL text.
    public static func resolve(
        _ sql: String, schemas: [String: String], quoteIdentifier: (String) -> String
    ) throws(ResolveError) -> String {
        var out = ""
        var index = sql.startIndex
        while index < sql.endIndex {
            let character = sql[index]
            let next = sql.index(after: index)
            switch character {
            case "{":
                if next < sql.endIndex, sql[next] == "{" {
                    out.append("{")
                    index = sql.index(after: next)
                    continue
                }
                guard let close = sql[next...].firstIndex(where: { $0 == "}" || $0 == "{" }),
                    sql[close] == "}", close > next
                else { throw .malformed }
                let name = String(sql[next..<close])
                guard let schema = schemas[name] else { throw .unknownExtension(name) }
                out.append(quoteIdentifier(schema))
                index = sql.index(after: close)
            case "}":
                guard next < sql.endIndex, sql[next] == "}" else { throw .malformed }
                out.append("}")
                index = sql.index(after: next)
            default:
                out.append(character)
                index = next
            }
        }
        return out
    }
}
