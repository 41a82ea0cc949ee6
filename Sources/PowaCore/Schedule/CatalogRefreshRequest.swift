/// Which remote databases must have their catalogs refreshed at the next
/// snapshot (PoWA 5 only), as asked by powa-web's `REFRESH_DB_CAT`.
///
/// Requests arrive at any time and are merged until a snapshot takes them:
/// the union of the names, and "all databases" absorbs any list. A worker
/// that has no request holds `nil`, which is why there is no "none" case.
public enum CatalogRefreshRequest: Equatable, Sendable {
    /// Every database of the remote server.
    case allDatabases
    /// Only these databases; never empty (an empty request means "all").
    case databases(Set<String>)

    /// The request for these names, where an empty list means every
    /// database, as in the NOTIFY protocol (`count` 0).
    public init(dbnames: [String]) {
        self = dbnames.isEmpty ? .allDatabases : .databases(Set(dbnames))
    }

    /// Both requests in one: the union of their databases.
    public func merging(_ other: CatalogRefreshRequest) -> CatalogRefreshRequest {
        switch (self, other) {
        case (.allDatabases, _), (_, .allDatabases): .allDatabases
        case (.databases(let mine), .databases(let theirs)): .databases(mine.union(theirs))
        }
    }

    /// Whether the catalogs of `dbname` are to be refreshed.
    public func includes(_ dbname: String) -> Bool {
        switch self {
        case .allDatabases: true
        case .databases(let names): names.contains(dbname)
        }
    }

    /// The names in a stable order, for logs; nil for every database.
    public var sortedDatabaseNames: [String]? {
        switch self {
        case .allDatabases: nil
        case .databases(let names): names.sorted()
        }
    }
}

extension Optional where Wrapped == CatalogRefreshRequest {
    /// Adds `request` to a possibly absent pending request.
    public func merging(_ request: CatalogRefreshRequest?) -> CatalogRefreshRequest? {
        switch (self, request) {
        case (nil, let other): other
        case (let mine, nil): mine
        case (.some(let mine), .some(let other)): mine.merging(other)
        }
    }
}
