import Testing

@testable import PowaCore

@Suite struct LineBufferTests {
    @Test func splitsAcrossChunks() {
        var buffer = LineBuffer()
        #expect(buffer.append(Array("ab".utf8)).isEmpty)
        #expect(
            buffer.append(Array("c\nd\n\ne".utf8)) == [.line(Array("abc".utf8)), .line(Array("d".utf8)), .line([])])
        #expect(buffer.pendingCount == 1)
    }

    @Test func dropsOverlongLinesAndResumes() {
        var buffer = LineBuffer(maximumLineLength: 4)
        var items = buffer.append(Array("123456".utf8))
        items += buffer.append(Array("78\nok\n".utf8))
        #expect(items == [.overlong(length: 8), .line(Array("ok".utf8))])
    }
}
