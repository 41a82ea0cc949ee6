/// This collector's version, shown by `--version` and in the repository
/// connection's `application_name`.
public enum CollectorVersion {
    public static let current = "1.0.0"
}
