import Testing

@testable import PowaCore

@Suite struct ReceivedSignalTests {
    /// systemd's stop signals the whole group: the children's deaths in the
    /// same batch as SIGTERM come after it, so they are part of the stop.
    @Test func stopAndReloadComeBeforeChildExitsWhichAreHandledOnce() {
        let batch: [ReceivedSignal] = [.childExited, .supervisor(.hangup), .childExited, .supervisor(.terminate)]
        #expect(ReceivedSignal.handlingOrder(batch) == [.supervisor(.hangup), .supervisor(.terminate), .childExited])
    }

    @Test func aBatchWithoutChildExitsKeepsItsOrder() {
        let batch: [ReceivedSignal] = [.supervisor(.interrupt), .supervisor(.hangup)]
        #expect(ReceivedSignal.handlingOrder(batch) == batch)
        #expect(ReceivedSignal.handlingOrder([]).isEmpty)
    }
}
