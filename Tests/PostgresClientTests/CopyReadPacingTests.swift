import PostgresClient
import Testing

@Suite struct CopyReadPacingTests {
    static let buffer: Int32 = 512 * 1024

    @Test func aStreamStartsByWaitingForAnyByte() {
        var pacing = CopyReadPacing()
        #expect(pacing.nextWait(receiveBufferBytes: Self.buffer) == CopyReadPacing.anyByte)
    }

    @Test func aFlowingStreamIsReadInBatchesWithABoundedWait() {
        var pacing = CopyReadPacing()
        _ = pacing.nextWait(receiveBufferBytes: Self.buffer)
        pacing.read(5000)
        pacing.read(4000)
        let wait = pacing.nextWait(receiveBufferBytes: Self.buffer)
        #expect(wait.lowWatermark == 128 * 1024)
        #expect(wait.timeoutMilliseconds > 0, "the last bytes of a stream may never reach the mark")
    }

    @Test func aWakeUpThatBringsLittleGoesBackToAnyByte() {
        var pacing = CopyReadPacing()
        pacing.read(20000)
        #expect(pacing.nextWait(receiveBufferBytes: Self.buffer) != CopyReadPacing.anyByte)
        pacing.read(300)
        #expect(pacing.nextWait(receiveBufferBytes: Self.buffer) == CopyReadPacing.anyByte)
        // What was read before the previous wait does not count again.
        #expect(pacing.nextWait(receiveBufferBytes: Self.buffer) == CopyReadPacing.anyByte)
    }

    /// A mark above half the receive buffer would make the kernel clamp the
    /// TCP window; a tiny buffer is not worth batching at all.
    static let marks: [(buffer: Int32, mark: Int32)] = [
        (128 * 1024, 32 * 1024), (8 * 1024 * 1024, 256 * 1024), (40 * 1024, 1),
    ]

    @Test(arguments: marks)
    func theBatchFollowsTheReceiveBuffer(buffer: Int32, mark: Int32) {
        #expect(CopyReadPacing.batched(receiveBufferBytes: buffer).lowWatermark == mark)
    }
}
