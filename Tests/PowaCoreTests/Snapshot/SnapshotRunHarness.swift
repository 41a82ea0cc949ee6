@testable import PowaCore

/// A scripted world for `SnapshotRun`: answers every command as healthy
/// connections would, unless an override answers it first, and records
/// what the machine asked for.
struct SnapshotRunHarness {
    static let srvid = 5
    static let applicationName = "PoWA collector - repo_conn for worker test"

    var repository = InstalledExtensions([.init(name: "powa", schema: "public", version: "4.1.4")])
    var remote = InstalledExtensions([
        .init(name: "powa", schema: "public", version: "4.1.4"),
        .init(name: "pg_qualstats", schema: "public", version: "2.1.0"),
    ])
    var datasources: [[String?]] = [
        ["pg_stat_statements", "f", "powa_statements_src", nil, "powa_statements_snapshot", nil],
        [
            "pg_qualstats", "f", "powa_qualstats_src", "SELECT {pg_qualstats}.pg_qualstats_reset()",
            "powa_qualstats_snapshot", nil,
        ],
    ]
    var remoteDatabases: [[String?]] = [["app"], ["postgres"]]
    var databaseModules: [[String?]] = [["pg_stat_all_tables", "SELECT relid FROM t", "powa.tables_tmp", nil]]
    var catalogs: [[String?]] = []
    var catalogRefresh: CatalogRefreshRequest?
    var failedFunctions = "0"
    /// Set: the run is fenced (several instances); `ownsServer` is what the
    /// repository's ownership row says.
    var fence: OwnershipFence?
    var ownsServer = true

    /// Answers tried before the healthy world's, by command index or content.
    var override: (Int, SnapshotRunCommand) -> SnapshotRunEvent? = { _, _ in nil }
    /// The interruption given with the answer to command number `index`.
    var interruption: (Int) -> SnapshotInterruption? = { _ in nil }

    private(set) var commands: [SnapshotRunCommand] = []
    private(set) var effects: [SnapshotRunEffect] = []

    var sql: RepositorySQL {
        RepositorySQL(
            version: PowaVersion(extversion: repository.powaVersionText ?? "4.1")!,
            powaSchema: repository.schemas["powa"] ?? "public",
            quoteIdentifier: FakeQuoting.identifier)
    }

    var logs: [String] { effects.compactMap { if case .log(_, let text) = $0 { text } else { nil } } }

    func logs(_ level: SnapshotLogLevel) -> [String] {
        effects.compactMap { if case .log(level, let text) = $0 { text } else { nil } }
    }

    /// The statements the machine executed, in order, with their side:
    /// those sent ahead of a command (its preamble) first. A copy's
    /// preambles count, not its COPY statements.
    var executed: [(SnapshotSQL, SnapshotSide)] {
        commands.flatMap { command -> [(SnapshotSQL, SnapshotSide)] in
            switch command {
            case .execute(let sql, let side, let preamble):
                return preamble.map { ($0, side) } + [(sql, side)]
            case .copy(let copy):
                return copy.targetPreamble.map { (.simple($0), .repository) }
                    + copy.sourcePreamble.map { (.simple($0), copy.from) }
            default:
                return []
            }
        }
    }

    var simpleStatements: [String] {
        executed.compactMap { if case .simple(let text) = $0.0 { text } else { nil } }
    }

    func ran(_ sql: SnapshotSQL, on side: SnapshotSide) -> Bool {
        executed.contains { $0.0 == sql && $0.1 == side }
    }

    /// Runs the snapshot to its end.
    mutating func drive() -> (result: SnapshotRunResult, followUps: [SnapshotFollowUp]) {
        var run = SnapshotRun(
            SnapshotRun.Context(
                srvid: Self.srvid, serverName: "127.0.0.1:5432", repositoryApplicationName: Self.applicationName,
                repositoryExtensions: repository,
                remoteServerVersionNum: 150_000, catalogRefresh: catalogRefresh, budgetSeconds: 30,
                quoteIdentifier: FakeQuoting.identifier, quoteLiteral: FakeQuoting.literal, fence: fence))
        var step = run.start()
        while true {
            effects += step.effects
            commands.append(step.command)
            if case .finish(let result, let followUps) = step.command { return (result, followUps) }
            precondition(commands.count < 500, "the snapshot does not end")
            let index = commands.count - 1
            let event = override(index, step.command) ?? answer(step.command)
            step = run.next(event, interruption: interruption(index))
        }
    }

    /// What healthy connections answer.
    func answer(_ command: SnapshotRunCommand) -> SnapshotRunEvent {
        switch command {
        case .readRemoteExtensions:
            return .remoteExtensionsRead(remote)
        case .execute(let statement, _, _):
            switch statement {
            case .parameterized(sql.globalDatasources(srvid: Self.srvid)): return .succeeded(rows: datasources)
            case .parameterized(sql.takeSnapshot(srvid: Self.srvid)): return .succeeded(rows: [[failedFunctions]])
            case .simple(RemoteSQL.now): return .succeeded(rows: [["2026-12-02 01:00:00+00"]])
            case .simple(RemoteSQL.databases): return .succeeded(rows: remoteDatabases)
            default:
                if let fence, case .parameterized(CoordinationSQL.fence(srvid: Self.srvid, fence)) = statement {
                    return .succeeded(rows: ownsServer ? [["1"]] : [])
                }
                if case .parameterized(let s) = statement,
                    s == sql.databaseModules(srvid: Self.srvid, serverVersionNum: 150_000)
                {
                    return .succeeded(rows: databaseModules)
                }
                if case .parameterized(let s) = statement,
                    s == sql.catalogs(srvid: Self.srvid, serverVersionNum: 150_000, forceRefresh: catalogRefresh != nil)
                {
                    return .succeeded(rows: catalogs)
                }
                return .succeeded(rows: [])
            }
        case .copy:
            return .copied(rows: 10, bytes: 100)
        case .openDatabase:
            return .succeeded(rows: [])
        case .rollBack:
            return .rolledBack(remoteHealthy: true, repositoryHealthy: true)
        case .finish:
            preconditionFailure("finish needs no answer")
        }
    }

    /// PoWA 5 on both sides.
    mutating func usePowa5() {
        repository = InstalledExtensions([.init(name: "powa", schema: "powa", version: "5.0.2")])
        remote = InstalledExtensions([.init(name: "powa", schema: "powa", version: "5.0.2")])
        datasources = [["pg_stat_statements", "f", "powa_statements_src", nil, "powa_statements_snapshot", nil]]
    }
}

/// Failures as libpq reports them, mapped by the worker.
enum Failures {
    static let statement = StatementFailure(
        sqlState: "42P01", message: "relation does not exist (SQLSTATE 42P01)", connectionBroken: false)
    static let cancelled = StatementFailure(
        sqlState: "57014", message: "canceling statement due to statement timeout (SQLSTATE 57014)",
        connectionBroken: false)
    static let broken = StatementFailure(
        sqlState: nil, message: "server closed the connection unexpectedly", connectionBroken: true)
}

extension SnapshotRunCommand {
    var isCopy: Bool { if case .copy = self { true } else { false } }
    var isRollBack: Bool { if case .rollBack = self { true } else { false } }
    var copyName: String? { if case .copy(let copy) = self { copy.name } else { nil } }

    func executes(_ text: String) -> Bool {
        if case .execute(.simple(let sql), _, _) = self { return sql == text }
        return false
    }

    func executes(_ statement: SQLStatement) -> Bool {
        if case .execute(.parameterized(let sql), _, _) = self { return sql == statement }
        return false
    }

    var side: SnapshotSide? { if case .execute(_, let side, _) = self { side } else { nil } }

    /// How many statements the command sends ahead of its own.
    var preambleCount: Int {
        switch self {
        case .execute(_, _, let preamble): preamble.count
        case .copy(let copy): copy.targetPreamble.count + copy.sourcePreamble.count
        default: 0
        }
    }
}

extension SnapshotRunHarness {
    /// The commands as short lines, for readable expectations: the
    /// statements one command sends together are joined by ` + `, those
    /// it sends ahead of its own first.
    var transcript: [String] { commands.map(describe) }

    func describe(_ command: SnapshotRunCommand) -> String {
        switch command {
        case .execute(let sql, let side, let preamble) where !preamble.isEmpty:
            return "\(side): " + (preamble + [sql]).map(name).joined(separator: " + ")
        case .copy(let copy) where !copy.targetPreamble.isEmpty || !copy.sourcePreamble.isEmpty:
            let ahead =
                copy.targetPreamble.map { "repository: \($0)" } + copy.sourcePreamble.map { "\(copy.from): \($0)" }
            return (ahead + [mainStatement(command)]).joined(separator: " + ")
        default:
            return mainStatement(command)
        }
    }

    /// The command's own statement, without what it sends ahead.
    func mainStatement(_ command: SnapshotRunCommand) -> String {
        switch command {
        case .readRemoteExtensions:
            return "read extensions"
        case .execute(let sql, let side, _):
            return "\(side): " + name(sql)
        case .copy(let copy):
            return "copy \(copy.name) from \(copy.from)"
        case .openDatabase(let dbname):
            return "open \(dbname)"
        case .rollBack:
            return "roll back"
        case .finish:
            return "finish"
        }
    }

    /// A short name for one statement.
    func name(_ statement: SnapshotSQL) -> String {
        switch statement {
        case .simple(let text):
            if text.hasPrefix(Savepoint.source.create + "; ") { return "SAVEPOINT src + cleanup" }
            return text
        case .parameterized(let statement):
            let srvid = Self.srvid
            let names: [(String, String)] = [
                (sql.globalDatasources(srvid: srvid).text, "list datasources"),
                (sql.takeSnapshot(srvid: srvid).text, "take snapshot"),
                (sql.appendErrors(srvid: srvid, errors: []).text, "append errors"),
                (sql.replaceErrors(srvid: srvid, errors: []).text, "replace errors"),
                (sql.clearErrors(srvid: srvid).text, "clear errors"),
                (SessionSQL.setApplicationName(Self.applicationName).text, "set application_name"),
                (
                    fence.map { CoordinationSQL.idleInTransactionTimeout($0).text } ?? "-",
                    "limit idle time to the lease"
                ),
                (fence.map { CoordinationSQL.fence(srvid: srvid, $0).text } ?? "-", "check ownership"),
                (sql.databaseModules(srvid: srvid, serverVersionNum: 150_000)?.text ?? "-", "list db modules"),
                (
                    sql.catalogs(srvid: srvid, serverVersionNum: 150_000, forceRefresh: catalogRefresh != nil)?.text
                        ?? "-", "list catalogs"
                ),
            ]
            return names.first { $0.0 == statement.text }?.1 ?? statement.text
        }
    }

    /// The errors given to the statement that appended or replaced them.
    func recordedErrors(_ kind: String) -> [String]? {
        for (statement, _) in executed.reversed() {
            guard case .parameterized(let s) = statement else { continue }
            let template =
                kind == "append"
                ? sql.appendErrors(srvid: Self.srvid, errors: []) : sql.replaceErrors(srvid: Self.srvid, errors: [])
            if s.text == template.text, let literal = s.parameters.last ?? nil {
                return try? TextArrayLiteral.decode(literal).compactMap { $0 }
            }
        }
        return nil
    }
}
