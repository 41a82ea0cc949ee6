import CLibPQ

/// Where the connection stands with respect to a transaction
/// (`PQtransactionStatus`).
public enum TransactionStatus: Sendable, Equatable {
    case idle
    case active
    case inTransaction
    /// Inside a failed transaction: only ROLLBACK (TO SAVEPOINT) will work.
    case inFailedTransaction
    case unknown

    init(_ status: PGTransactionStatusType) {
        switch status {
        case PQTRANS_IDLE: self = .idle
        case PQTRANS_ACTIVE: self = .active
        case PQTRANS_INTRANS: self = .inTransaction
        case PQTRANS_INERROR: self = .inFailedTransaction
        default: self = .unknown
        }
    }
}
