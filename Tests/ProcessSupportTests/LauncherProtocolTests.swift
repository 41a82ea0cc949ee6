import ProcessSupport
import Testing

@Suite struct LauncherProtocolTests {
    typealias Reply = LauncherProtocol.Reply

    @Test func repliesRoundTrip() {
        for reply in [Reply.started(pid: 4242), .failed(errno: 11)] {
            #expect(Reply.decode(reply.encoded) == reply)
        }
    }

    /// A reply the supervisor cannot trust must not become a pid it would
    /// signal later: init, our own group (0, negative), garbage.
    @Test(arguments: [
        "started 1", "started 0", "started -5", "started", "started 12 13", "started 12x",
        "", "failed 0", "failed -1", "startd 12", "started  12", String(repeating: "9", count: 40),
    ])
    func refusesAnyOtherReply(_ text: String) {
        #expect(Reply.decode(Array(text.utf8)) == nil)
    }

    /// The server recognises exactly the command line the client starts it
    /// with, whatever the program is called.
    @Test func theLauncherCommandLineIsRecognisedByTheServer() {
        let line = LauncherProtocol.commandLine(programName: "some-worker", supervisorPID: 4242)
        #expect(LauncherProtocol.launcherParentPID(in: line) == 4242)
    }

    /// Anything else is a worker's own command line, parsed as usual.
    @Test(arguments: [
        ["w"], ["w", "--parent-pid", "42"], ["w", "--parent-pid", "42", "--debug"],
        ["w", "--parent-pid", "x", "--launcher"], ["w", "--parent-pid", "0", "--launcher"],
        ["w", "--launcher", "42", "--parent-pid"], ["w", "--parent-pid", "42", "--launcher", "extra"],
    ])
    func otherCommandLinesAreNotTheLauncher(_ arguments: [String]) {
        #expect(LauncherProtocol.launcherParentPID(in: arguments) == nil)
    }
}
