import Testing

@testable import PowaCore

@Suite struct ProcessSampleTests {
    @Test func parsesStateAndCPUTimeAfterTheName() {
        let line = "4242 (powa-collector-w) S 1 4242 4242 0 -1 4194560 1024 0 0 0 17 5 0 0 25 5 2 0 123 1000 200"
        #expect(ProcessSample.parse(line) == ProcessSample(state: "S", cpuTicks: 22))
    }

    @Test func aNameWithSpacesAndParenthesesIsSkippedWhole() {
        let line = "7 (a) b (c) T 1 7 7 0 -1 0 0 0 0 0 100 50 0 0 20 0 1 0 5 0 0"
        let sample = ProcessSample.parse(line)
        #expect(sample == ProcessSample(state: "T", cpuTicks: 150))
        #expect(sample?.isStopped == true)
    }

    @Test func garbageIsNil() {
        #expect(ProcessSample.parse("") == nil)
        #expect(ProcessSample.parse("12 (x) R 1 2") == nil)
        #expect(ProcessSample.parse("12 (x) RR 1 2 3 4 5 6 7 8 9 10 11 12 13") == nil)
    }
}
