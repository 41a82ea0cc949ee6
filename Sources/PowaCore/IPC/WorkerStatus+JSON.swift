/// A worker's status line, written and read without Foundation's JSON
/// coders.
///
/// The supervisor reads two status lines a snapshot from every worker; at
/// 500 servers, decoding them with `JSONDecoder` (and its Codable
/// machinery) was a third of the supervisor's CPU (`perf record` of the
/// supervisor during `scripts/bench-scale --small 500:60:240`). The strict
/// parser and a direct mapping of the fields do the same work for a
/// fraction of it, with the same rules: `status` and `snapshot_running`
/// required, the others optional, counters absent meaning 0. Writing is
/// direct too (the worker writes two a snapshot): the same members as the
/// synthesized encoding, in the same order (sorted keys, absent optionals
/// left out), numbers as Swift prints them, which any JSON reader reads.
extension WorkerStatus {
    /// The members of this status, then `"type":"status"`, as one JSON
    /// object. A non-finite number (never measured) is written as null.
    func jsonLine() -> [UInt8] {
        var text = "{\"bytes_copied\":\(bytesCopied),\"datasource_errors\":\(datasourceErrors)"
        if let lastError { text += ",\"last_error\":" + JSONStringLiteral.quoted(lastError) }
        if let lastSnapshotDuration { text += ",\"last_snapshot_duration\":" + Self.number(lastSnapshotDuration) }
        if let lastSnapshotLateness { text += ",\"last_snapshot_lateness\":" + Self.number(lastSnapshotLateness) }
        if let lastSnapshotStart { text += ",\"last_snapshot_start\":" + Self.number(lastSnapshotStart) }
        text += ",\"rows_copied\":\(rowsCopied),\"snapshot_running\":\(snapshotRunning)"
        text += ",\"snapshots_failed\":\(snapshotsFailed),\"snapshots_taken\":\(snapshotsTaken)"
        text += ",\"status\":" + JSONStringLiteral.quoted(status) + ",\"type\":\"status\"}\n"
        return Array(text.utf8)
    }

    private static func number(_ value: Double) -> String {
        value.isFinite ? value.description : "null"
    }

    /// - Parameter value: the line's object (`WorkerMessage.decode` checks
    ///   that it is one).
    init(json value: JSONValue) throws(JSONLines.DecodeError) {
        guard let status = try Self.field("status", in: value, Self.string) else { throw Self.missing("status") }
        guard let running = try Self.field("snapshot_running", in: value, Self.bool) else {
            throw Self.missing("snapshot_running")
        }
        self.status = status
        snapshotRunning = running
        lastSnapshotStart = try Self.field("last_snapshot_start", in: value, Self.double)
        lastSnapshotDuration = try Self.field("last_snapshot_duration", in: value, Self.double)
        lastSnapshotLateness = try Self.field("last_snapshot_lateness", in: value, Self.double)
        lastError = try Self.field("last_error", in: value, Self.string)
        snapshotsTaken = try Self.field("snapshots_taken", in: value, Self.int) ?? 0
        snapshotsFailed = try Self.field("snapshots_failed", in: value, Self.int) ?? 0
        datasourceErrors = try Self.field("datasource_errors", in: value, Self.int) ?? 0
        rowsCopied = try Self.field("rows_copied", in: value, Self.int) ?? 0
        bytesCopied = try Self.field("bytes_copied", in: value, Self.int) ?? 0
    }

    /// The value of `key` read by `read`; nil when absent or null.
    private static func field<T>(
        _ key: String, in object: JSONValue, _ read: (JSONValue) -> T?
    ) throws(JSONLines.DecodeError) -> T? {
        guard let member = object[key], member != .null else { return nil }
        guard let value = read(member) else {
            throw .invalidMessage("\(key): \(member.typeDescription) is not a valid value here")
        }
        return value
    }

    private static func missing(_ key: String) -> JSONLines.DecodeError {
        .invalidMessage("\(key): required, and absent")
    }

    private static func string(_ value: JSONValue) -> String? {
        if case .string(let text) = value { return text }
        return nil
    }

    private static func bool(_ value: JSONValue) -> Bool? {
        if case .bool(let flag) = value { return flag }
        return nil
    }

    private static func double(_ value: JSONValue) -> Double? {
        if case .number(let text) = value, let number = Double(text), number.isFinite { return number }
        return nil
    }

    /// An integer, written as one (as the worker writes counters).
    private static func int(_ value: JSONValue) -> Int? {
        if case .number(let text) = value { return Int(text) }
        return nil
    }
}
