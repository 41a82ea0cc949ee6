/// A configuration together with where it came from and what is worth a
/// warning about it.
public struct LoadedConfiguration: Equatable, Sendable {
    public var configuration: CollectorConfiguration
    /// The file that was read, for logs and for the next reload's messages.
    public var path: String
    /// Human-readable, each naming its file: unknown keys that were
    /// ignored, earlier candidate files that exist but could not be read.
    public var warnings: [String]

    public init(configuration: CollectorConfiguration, path: String, warnings: [String] = []) {
        self.configuration = configuration
        self.path = path
        self.warnings = warnings
    }
}
