import Testing

@testable import PowaCore

@Suite struct StrictJSONParserTests {
    static func parse(_ text: String) throws(JSONSyntaxError) -> JSONValue {
        try StrictJSONParser.parse(Array(text.utf8))
    }

    static func error(_ text: String) -> JSONSyntaxError? {
        do {
            _ = try parse(text)
            return nil
        } catch {
            return error
        }
    }

    @Test func parsesEveryKindOfValue() throws {
        let value = try Self.parse(#" {"a": [1, -2.5e+3, 0, true, false, null, "x"], "b": {}, "c": []} "#)
        #expect(
            value
                == .object([
                    JSONMember(
                        key: "a",
                        value: .array([
                            .number("1"), .number("-2.5e+3"), .number("0"), .bool(true), .bool(false), .null,
                            .string("x"),
                        ])),
                    JSONMember(key: "b", value: .object([])),
                    JSONMember(key: "c", value: .array([])),
                ]))
    }

    @Test func decodesEscapes() throws {
        let value = try Self.parse(#""q\" b\\ s\/ \b\f\n\r\t \u00e9 \uD83D\uDCA5 \u0000""#)
        #expect(value == .string("q\" b\\ s/ \u{8}\u{C}\n\r\t é 💥 \u{0}"))
        #expect(try Self.parse(#""\uD800x""#) == .string("\u{FFFD}x"), "a lone surrogate is replaced")
        #expect(try Self.parse(#""\uD800\u0041""#) == .string("\u{FFFD}A"))
    }

    @Test func keepsNonASCIIText() throws {
        #expect(try Self.parse(#"{"clé": "valeur ☃"}"#)["clé"] == .string("valeur ☃"))
    }

    @Test func lastDuplicateKeyWinsLikePython() throws {
        let value = try Self.parse(#"{"debug": true, "debug": false}"#)
        #expect(value["debug"] == .bool(false))
        #expect(value.keys == ["debug"])
    }

    /// Each error names the line and the column (in characters) of the
    /// offending spot, as an editor counts them.
    @Test(arguments: [
        ("{\n  \"a\": 1,\n  \"b\": tru\n}", 3, 8, "expected a value"),
        ("{\"a\": 1,}", 1, 9, "trailing commas"),
        ("[1, 2,]", 1, 7, "trailing commas"),
        ("{\"a\" 1}", 1, 6, "expected ':'"),
        ("{\"a\": 1 \"b\": 2}", 1, 9, "expected ',' or '}'"),
        ("[1 2]", 1, 4, "expected ',' or ']'"),
        ("", 1, 1, "unexpected end of file"),
        ("   \n  ", 2, 3, "unexpected end of file"),
        ("{\"a\": 1} x", 1, 10, "after the end"),
        ("{'a': 1}", 1, 2, "expected a key in double quotes"),
        ("{\"a\": \"x\\q\"}", 1, 9, "invalid escape"),
        ("{\"a\": \"\\u12G4\"}", 1, 8, "four hexadecimal digits"),
        ("{\"a\": \"tab\there\"}", 1, 11, "control character"),
        ("{\"a\": \"no end", 1, 7, "unterminated string"),
        ("{\"é\": 1,\n\n  @}", 3, 3, "expected a key"),
        ("{\"é\": ±}", 1, 7, "'±'"),
        ("[01]", 1, 3, "expected ',' or ']'"),
        ("[-]", 1, 3, "digit must follow '-'"),
        ("[1.]", 1, 4, "digit must follow '.'"),
        ("[1e]", 1, 4, "digit must follow the exponent"),
        ("[NaN]", 1, 2, "expected a value"),
        ("[nul]", 1, 2, "expected a value"),
        ("\u{FEFF}{}", 1, 1, "byte order mark"),
        ("{\"a\":\r\n ]", 2, 2, "expected a value"),
    ])
    func syntaxErrorsArePlaced(text: String, line: Int, column: Int, problem: String) {
        guard let error = Self.error(text) else {
            Issue.record("accepted: \(text.debugDescription)")
            return
        }
        #expect(error.line == line, "\(text.debugDescription): \(error)")
        #expect(error.column == column, "\(text.debugDescription): \(error)")
        #expect(error.problem.contains(problem), "\(text.debugDescription): \(error)")
    }

    @Test func invalidUTF8InAStringIsAnErrorAtTheString() {
        let bytes: [UInt8] = Array("{\n \"dsn\": \"".utf8) + [0xFF] + Array("\"}".utf8)
        #expect(throws: JSONSyntaxError(line: 2, column: 9, offset: 10, problem: "string is not valid UTF-8")) {
            try StrictJSONParser.parse(bytes)
        }
    }

    @Test func deepNestingIsRefusedNotACrash() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(Self.error(deep)?.problem.contains("nesting deeper") == true)
        let fine = String(repeating: "[", count: 500) + String(repeating: "]", count: 500)
        #expect(Self.error(fine) == nil)
    }

    /// Whatever the bytes, the parser returns a value or a placed error.
    @Test func randomBytesNeverCrash() {
        var generator = SeededGenerator(seed: 1)
        let alphabet = Array(#"{}[],:"\ 0123456789.eE+-truefalsnul"#.utf8) + [0x0A, 0xC3, 0xA9, 0xFF]
        for _ in 0..<20_000 {
            let bytes = (0..<Int.random(in: 0..<40, using: &generator)).map { _ in
                alphabet.randomElement(using: &generator)!
            }
            do {
                _ = try StrictJSONParser.parse(bytes)
            } catch {
                #expect(error.offset >= 0 && error.offset <= bytes.count)
                #expect(error.line >= 1 && error.column >= 1)
            }
        }
    }

    /// Serializing a random value and parsing it back gives the same value.
    @Test func roundTripsRandomValues() throws {
        var generator = SeededGenerator(seed: 99)
        for _ in 0..<2_000 {
            let value = Self.randomValue(depth: 0, using: &generator)
            #expect(try StrictJSONParser.parse(Array(Self.serialize(value).utf8)) == value)
        }
    }

    static func randomValue(depth: Int, using generator: inout SeededGenerator) -> JSONValue {
        let kind = Int.random(in: 0..<(depth > 3 ? 4 : 6), using: &generator)
        switch kind {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &generator))
        case 2: return .number(["0", "-1", "3.25", "1e9", "-0.5E-3"].randomElement(using: &generator)!)
        case 3: return .string(randomString(using: &generator))
        case 4:
            return .array(
                (0..<Int.random(in: 0..<4, using: &generator)).map { _ in
                    randomValue(depth: depth + 1, using: &generator)
                })
        default:
            return .object(
                (0..<Int.random(in: 0..<4, using: &generator)).map { index in
                    JSONMember(
                        key: "\(index)" + randomString(using: &generator),
                        value: randomValue(depth: depth + 1, using: &generator))
                })
        }
    }

    static func randomString(using generator: inout SeededGenerator) -> String {
        let scalars = (0..<Int.random(in: 0..<8, using: &generator)).compactMap { _ in
            Unicode.Scalar(UInt32.random(in: 0..<0x2_0000, using: &generator))
        }
        return String(String.UnicodeScalarView(scalars))
    }

    static func serialize(_ value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool(let flag): flag ? "true" : "false"
        case .number(let text): text
        case .string(let text): JSONStringLiteral.quoted(text)
        case .array(let elements): "[" + elements.map(serialize).joined(separator: ",\n") + "]"
        case .object(let members):
            "{ "
                + members.map { "\(JSONStringLiteral.quoted($0.key)) :\t\(serialize($0.value))" }.joined(
                    separator: " , ") + " }"
        }
    }
}
