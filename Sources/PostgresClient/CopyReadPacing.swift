/// How long a streamed COPY's reader sleeps before reading the source again.
///
/// A PostgreSQL backend sends COPY data 8 kB at a time, and a reader woken
/// for each of them spends most of its CPU switching contexts. So while a
/// stream flows (the last wake-up brought 8 kB or more), the reader asks the
/// kernel to wake it only once a batch has arrived (SO_RCVLOWAT), bounded
/// by `batchWaitMilliseconds` since the stream's last bytes may never reach
/// that mark. A wake-up that brings less (the stream ends, or the source
/// computes between rows) goes back to waking on any byte, so small
/// datasources, the common case, never wait on the bound.
public struct CopyReadPacing: Sendable, Equatable {
    /// What to wait for before reading again.
    public struct Wait: Sendable, Equatable {
        /// SO_RCVLOWAT: bytes the socket must hold to count as readable.
        public var lowWatermark: Int32
        /// poll's timeout; -1 waits for readiness alone.
        public var timeoutMilliseconds: Int32
    }

    /// A wake-up that brought at least this much shows a flowing stream.
    public static let streamingBytes = 8 * 1024
    /// The largest batch: past it, fewer wake-ups no longer pay.
    public static let maximumBatchBytes: Int32 = 256 * 1024
    /// Below this a batch saves too little to be worth a bounded wait.
    public static let minimumBatchBytes: Int32 = 16 * 1024
    public static let batchWaitMilliseconds: Int32 = 2

    public static let anyByte = Wait(lowWatermark: 1, timeoutMilliseconds: -1)

    /// A batch is a quarter of the socket's receive buffer (as SO_RCVBUF
    /// reports it): the kernel raises the buffer, and clamps the TCP window
    /// to the mark, only for a mark above half of it.
    public static func batched(receiveBufferBytes: Int32) -> Wait {
        let batch = min(maximumBatchBytes, receiveBufferBytes / 4)
        return batch < minimumBatchBytes
            ? anyByte : Wait(lowWatermark: batch, timeoutMilliseconds: batchWaitMilliseconds)
    }

    private var bytesSinceWait = 0

    public init() {}

    /// Rows worth `bytes` were read.
    public mutating func read(_ bytes: Int) {
        bytesSinceWait += bytes
    }

    /// The wait before the next read, judged on what the reader got since
    /// the previous one. The buffer size is read only for a batch.
    public mutating func nextWait(receiveBufferBytes: @autoclosure () -> Int32) -> Wait {
        defer { bytesSinceWait = 0 }
        return bytesSinceWait >= Self.streamingBytes
            ? Self.batched(receiveBufferBytes: receiveBufferBytes()) : Self.anyByte
    }
}
