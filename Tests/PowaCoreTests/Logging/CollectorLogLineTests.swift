import Testing

@testable import PowaCore

@Suite struct CollectorLogLineTests {
    let time = CollectorLogLine.Timestamp(year: 2026, month: 11, day: 5, hour: 9, minute: 2, second: 7, millisecond: 57)

    @Test func matchesTheReferenceFormat() {
        #expect(
            CollectorLogLine.format(time: time, threadName: "127.0.0.1:5432", level: .info, message: "Starting worker")
                == "2026-11-05 09:02:07,057 127.0.0.1:5432 INFO  : Starting worker ")
        #expect(
            CollectorLogLine.format(time: time, threadName: "-", level: .warning, message: "x")
                == "2026-11-05 09:02:07,057 - WARNING: x ")
    }

    @Test func levelNamesArePythons() {
        #expect(CollectorLogLine.levelName(.debug) == "DEBUG")
        #expect(CollectorLogLine.levelName(.trace) == "DEBUG")
        #expect(CollectorLogLine.levelName(.notice) == "INFO")
        #expect(CollectorLogLine.levelName(.error) == "ERROR")
        #expect(CollectorLogLine.levelName(.critical) == "CRITICAL")
    }
}
