/// One line of `powa-collector status`.
public struct StatusRow: Equatable, Sendable {
    public var srvid: Int
    public var name: String
    /// The collector's status string; nil when the collector reported none
    /// for this server (not collected, or not by this collector).
    public var status: String?
    /// Last snapshot, seconds since the Unix epoch, from powa_snapshot_metas.
    public var lastSnapshot: Double?
    public var lastError: String?
    /// The instance that owns the server with a live lease, when several
    /// may share the repository (`host pid N`); nil when none does.
    public var owner: String?

    public init(
        srvid: Int, name: String, status: String?, lastSnapshot: Double?, lastError: String?, owner: String? = nil
    ) {
        self.srvid = srvid
        self.name = name
        self.status = status
        self.lastSnapshot = lastSnapshot
        self.lastError = lastError
        self.owner = owner
    }
}

/// The `status` table, aligned columns for a terminal, or JSON.
public enum StatusTable {
    static let header = ["SRVID", "NAME", "STATUS", "LAST SNAPSHOT", "LAST ERROR"]
    /// A last error is cut to this many characters in the table (JSON has
    /// it whole).
    static let errorWidth = 100

    /// `showingOwners`: add an INSTANCE column (before LAST ERROR, which
    /// stays last as the only unbounded one), for when several instances
    /// share the repository; alone, the table is as it always was.
    public static func text(_ rows: [StatusRow], showingOwners: Bool = false) -> String {
        let head = showingOwners ? header.dropLast() + ["INSTANCE", header.last!] : header
        let cells =
            [head]
            + rows.map { row in
                [String(row.srvid), row.name, row.status ?? "-", row.lastSnapshot.map(utcTimestamp) ?? "never"]
                    + (showingOwners ? [row.owner ?? "-"] : [])
                    + [row.lastError.map { String(OperatorText.oneLine($0).prefix(errorWidth)) } ?? "-"]
            }
        var widths = [Int](repeating: 0, count: head.count)
        for line in cells { for (index, cell) in line.enumerated() { widths[index] = max(widths[index], cell.count) } }
        return cells.map { line in
            line.enumerated().map { index, cell in
                index == line.count - 1 ? cell : cell + String(repeating: " ", count: widths[index] - cell.count)
            }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }

    public static func json(_ rows: [StatusRow]) -> String {
        "["
            + rows.map { row in
                "{\"srvid\": \(row.srvid), \"name\": \(OperatorText.json(row.name)), \"status\": "
                    + (row.status.map(OperatorText.json) ?? "null") + ", \"last_snapshot\": "
                    + (row.lastSnapshot.map { OperatorText.json(utcTimestamp($0)) } ?? "null") + ", \"last_error\": "
                    + (row.lastError.map(OperatorText.json) ?? "null") + ", \"instance\": "
                    + (row.owner.map(OperatorText.json) ?? "null") + "}"
            }.joined(separator: ", ") + "]\n"
    }

    /// `2026-12-01 21:40:05Z`, computed without the C library's time zone.
    public static func utcTimestamp(_ epoch: Double) -> String {
        let seconds = Int(epoch.rounded(.down))
        let days = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400
        let secondOfDay = seconds - days * 86400
        // Howard Hinnant's days-to-civil algorithm.
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthPrime = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthPrime + 2) / 5 + 1
        let month = monthPrime < 10 ? monthPrime + 3 : monthPrime - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return
            "\(year)-\(two(month))-\(two(day)) \(two(secondOfDay / 3600)):\(two(secondOfDay / 60 % 60)):\(two(secondOfDay % 60))Z"
    }
}
