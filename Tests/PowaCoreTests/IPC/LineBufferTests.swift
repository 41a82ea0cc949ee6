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

    @Test func aLineAtTheLimitIsKeptOneOverIsDropped() {
        var buffer = LineBuffer(maximumLineLength: 4)
        #expect(buffer.append(Array("1234\n12345\nab".utf8)) == [.line(Array("1234".utf8)), .overlong(length: 5)])
        #expect(buffer.append(Array("cd\n".utf8)) == [.line(Array("abcd".utf8))])
        #expect(buffer.append(Array("ab".utf8)).isEmpty)
        #expect(buffer.append(Array("cde".utf8)).isEmpty)
        #expect(buffer.pendingCount == 0)
        #expect(buffer.append(Array("f\n\n".utf8)) == [.overlong(length: 6), .line([])])
    }

    /// Byte by byte or all at once, the same items come out.
    @Test func chunkingDoesNotChangeTheItems() {
        let stream = Array("{\"a\":1}\n123456789\n\nxy\nlast".utf8)
        var whole = LineBuffer(maximumLineLength: 8)
        let expected = whole.append(stream)
        #expect(expected == [.line(Array(#"{"a":1}"#.utf8)), .overlong(length: 9), .line([]), .line(Array("xy".utf8))])
        for size in 1...5 {
            var buffer = LineBuffer(maximumLineLength: 8)
            var items: [LineBuffer.Item] = []
            for start in stride(from: 0, to: stream.count, by: size) {
                items += buffer.append(stream[start..<min(start + size, stream.count)])
            }
            #expect(items == expected, "chunks of \(size)")
            #expect(buffer.pendingCount == 4)
        }
    }
}
