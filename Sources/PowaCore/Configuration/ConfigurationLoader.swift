/// Finds and parses the configuration file, given a way to read files.
///
/// Pure: the caller passes the reading function, so the search order and
/// every error can be tested without a file system.
public enum ConfigurationLoader {
    /// Loads the configuration from `source`.
    ///
    /// In a search, a missing file means "try the next location", as in the
    /// reference. A file that exists but cannot be read is skipped too (the
    /// reference does the same), but unlike the reference this is reported in
    /// `warnings`, so that a root-only `/etc/powa-collector.conf` silently
    /// shadowed by another file does not puzzle anyone. The first file read
    /// is the one used: a file with a syntax error is an error, not a reason
    /// to try the next location.
    public static func load(
        from source: ConfigurationSource,
        readFile: (String) -> ConfigurationFileReadResult
    ) throws(ConfigurationError) -> LoadedConfiguration {
        switch source {
        case .explicit(let path):
            switch readFile(path) {
            case .contents(let bytes):
                return try parse(bytes, path: path, warnings: [])
            case .missing:
                throw .unreadable(path: path, reason: "no such file")
            case .unreadable(let reason):
                throw .unreadable(path: path, reason: reason)
            }
        case .search(let paths):
            var warnings: [String] = []
            for path in paths {
                switch readFile(path) {
                case .contents(let bytes):
                    return try parse(bytes, path: path, warnings: warnings)
                case .missing:
                    continue
                case .unreadable(let reason):
                    warnings.append("skipped configuration file \(path): \(reason)")
                }
            }
            throw .noConfigurationFile(searched: paths)
        }
    }

    private static func parse(
        _ bytes: [UInt8], path: String, warnings: [String]
    ) throws(ConfigurationError) -> LoadedConfiguration {
        let (configuration, unknownKeys) = try CollectorConfiguration.parse(bytes, path: path)
        let unknownKeyWarnings = unknownKeys.map { "ignored unknown key \($0) in configuration file \(path)" }
        return LoadedConfiguration(configuration: configuration, path: path, warnings: warnings + unknownKeyWarnings)
    }
}
