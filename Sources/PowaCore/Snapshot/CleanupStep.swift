/// A datasource's `query_cleanup`, once its placeholders are resolved.
public enum CleanupStep: Equatable, Sendable {
    /// Run this on the remote (trusted SQL from the repository).
    case run(String)
    /// The cleanup cannot be written for this remote (it names an extension
    /// the remote lacks, or has a stray brace): record this error instead.
    case unresolvable(error: String)
}
