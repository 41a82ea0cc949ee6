/// The data of a `WORKERS_STATUS` answer: a JSON object whose keys are
/// server ids as strings and whose values are status strings, like
/// `{"1":"running","12":"no connection to remote server"}`.
///
/// Compact (no space after `,` or `:`), unlike the reference's `", "` and
/// `": "`: a NOTIFY payload stops at 8000 bytes, and without the spaces the
/// status of 500 running servers (ids 1 to 500) fits in one answer. powa-web
/// reads it with `json.loads`, to which the spaces make no difference.
/// Built by hand so that servers come in numeric order (which a key-sorting
/// `JSONEncoder` would not give: "12" < "2").
public enum WorkersStatusJSON {
    public static func encode(_ statuses: [Int: String]) -> String {
        var result = "{"
        for srvid in statuses.keys.sorted() {
            if result.utf8.count > 1 { result += "," }
            result += JSONStringLiteral.quoted(String(srvid)) + ":" + JSONStringLiteral.quoted(statuses[srvid]!)
        }
        return result + "}"
    }
}
