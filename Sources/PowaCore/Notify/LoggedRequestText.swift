/// Words taken from a notification, made fit for one log line. Any role that
/// can connect to the repository can send up to 8000 bytes of anything: a log
/// line gets at most 64 characters of it, with control characters (newlines
/// included) written as escapes, so that no request can split a log line or
/// forge one.
public enum LoggedRequestText {
    public static let maximumCharacters = 64

    public static func shortened(_ text: String) -> String {
        let kept = text.count <= maximumCharacters ? text : String(text.prefix(maximumCharacters)) + "…"
        guard kept.unicodeScalars.contains(where: isControl) else { return kept }
        var escaped = ""
        for scalar in kept.unicodeScalars {
            if isControl(scalar) {
                escaped += "\\u{" + String(scalar.value, radix: 16) + "}"
            } else {
                escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }

    /// C0 and C1 controls, DEL, and the Unicode line and paragraph separators.
    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar.value == 0x2028 || scalar.value == 0x2029
    }
}
