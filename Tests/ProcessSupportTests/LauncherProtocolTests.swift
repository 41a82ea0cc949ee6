import PowaCore
import Testing

@Suite struct LauncherReplyTests {
    @Test func roundTrips() {
        for reply in [LauncherReply.started(pid: 4242), .failed(errno: 11)] {
            #expect(LauncherReply.decode(reply.encoded) == reply)
        }
    }

    /// A reply the supervisor cannot trust must not become a pid it would
    /// signal later: init, our own group (0, negative), garbage.
    @Test(arguments: ["started 1", "started 0", "started -5", "started", "started 12 13", "started 12x",
                      "", "failed 0", "failed -1", "startd 12", "started  12", String(repeating: "9", count: 40)])
    func refusesAnythingElse(_ text: String) {
        #expect(LauncherReply.decode(Array(text.utf8)) == nil)
    }
}
