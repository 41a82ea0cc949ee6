/// Statements each of a snapshot's connections owes: their answer needs
/// no decision, so they wait to go ahead of that connection's next
/// command, in the same round trip, instead of costing one of their own.
struct OwedStatements {
    private var repository: [SnapshotSQL] = []
    private var remote: [SnapshotSQL] = []
    private var database: [SnapshotSQL] = []

    mutating func append(_ sql: SnapshotSQL, on side: SnapshotSide) {
        self[side].append(sql)
    }

    /// What `side` owes, in order, now handed over.
    mutating func take(_ side: SnapshotSide) -> [SnapshotSQL] {
        defer { self[side] = [] }
        return self[side]
    }

    /// The same as text, for a COPY's message (the simple query protocol):
    /// nothing with parameters is owed while datasources are copied.
    mutating func takeText(_ side: SnapshotSide) -> [String] {
        take(side).map { sql in
            guard case .simple(let text) = sql else {
                preconditionFailure("SnapshotRun: a statement with parameters owed before a COPY")
            }
            return text
        }
    }

    /// Puts back statements that were handed over but never sent.
    mutating func restore(_ statements: [String], on side: SnapshotSide) {
        self[side] = statements.map(SnapshotSQL.simple) + self[side]
    }

    func isEmpty(_ side: SnapshotSide) -> Bool { self[side].isEmpty }

    private subscript(side: SnapshotSide) -> [SnapshotSQL] {
        get {
            switch side {
            case .repository: repository
            case .remote: remote
            case .database: database
            }
        }
        set {
            switch side {
            case .repository: repository = newValue
            case .remote: remote = newValue
            case .database: database = newValue
            }
        }
    }
}
