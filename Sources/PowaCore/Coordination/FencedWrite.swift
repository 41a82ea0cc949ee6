/// A write about one server outside a snapshot (its errors in
/// `powa_snapshot_metas`), fenced like the snapshot: with several instances
/// on the repository, a worker whose instance lost the server (frozen, then
/// resumed before its supervisor stops it) must not write about it, or its
/// errors would replace those the new owner recorded.
///
/// With a fence: `BEGIN`, the idle-in-transaction limit, the fence (the
/// ownership row taken `FOR KEY SHARE`), the statement, `COMMIT`; nothing
/// is written when this instance no longer owns the server at its epoch
/// with a live lease. Without one the statement just runs. A machine
/// without I/O: each step is one statement to run on a repository session
/// outside a transaction, answered with its result.
public struct FencedWrite: Sendable {
    public enum Outcome: Equatable, Sendable {
        case written
        /// The fence refused: another instance owns the server, or the lease ran out.
        case notOwner
        case failed(StatementFailure)
    }

    public enum Step: Equatable, Sendable {
        /// Run this on the repository session; answer with `next`.
        case execute(SnapshotSQL)
        case finished(Outcome)
    }

    private enum State: Equatable, Sendable {
        case created
        case writingUnfenced
        case beginning
        case limitingIdleTime
        case checkingFence
        case writing
        case committing
        /// `ROLLBACK` was sent; its own failure changes nothing.
        case rollingBack(Outcome)
        case finished
    }

    private let statement: SQLStatement
    private let srvid: Int
    private let fence: OwnershipFence?
    private var state = State.created

    public init(_ statement: SQLStatement, srvid: Int, fence: OwnershipFence?) {
        self.statement = statement
        self.srvid = srvid
        self.fence = fence
    }

    public mutating func start() -> Step {
        guard state == .created else { preconditionFailure("FencedWrite.start called twice") }
        guard fence != nil else {
            state = .writingUnfenced
            return .execute(.parameterized(statement))
        }
        state = .beginning
        return .execute(.simple(SessionSQL.begin))
    }

    /// The next step, given the last statement's result (rows in text format).
    public mutating func next(_ result: Result<[[String?]], StatementFailure>) -> Step {
        switch state {
        case .created, .finished:
            preconditionFailure("FencedWrite answered outside of a write")
        case .rollingBack(let outcome):
            return finish(outcome)
        case .writingUnfenced:
            switch result {
            case .success: return finish(.written)
            case .failure(let failure): return finish(.failed(failure))
            }
        case .beginning, .limitingIdleTime, .checkingFence, .writing, .committing:
            guard case .success(let rows) = result, let fence else {
                if case .failure(let failure) = result { return rollBack(.failed(failure)) }
                preconditionFailure("FencedWrite: a fenced step without its fence")
            }
            switch state {
            case .beginning:
                state = .limitingIdleTime
                return .execute(.parameterized(CoordinationSQL.idleInTransactionTimeout(fence)))
            case .limitingIdleTime:
                state = .checkingFence
                return .execute(.parameterized(CoordinationSQL.fence(srvid: srvid, fence)))
            case .checkingFence:
                if rows.isEmpty { return rollBack(.notOwner) }
                state = .writing
                return .execute(.parameterized(statement))
            case .writing:
                state = .committing
                return .execute(.simple(SessionSQL.commit))
            default:
                return finish(.written)
            }
        }
    }

    private mutating func rollBack(_ outcome: Outcome) -> Step {
        state = .rollingBack(outcome)
        return .execute(.simple(SessionSQL.rollback))
    }

    private mutating func finish(_ outcome: Outcome) -> Step {
        state = .finished
        return .finished(outcome)
    }
}
