import Testing

@testable import PowaCore

@Suite struct CleanupTemplateTests {
    func resolve(_ sql: String, _ schemas: [String: String] = ["a": "sa", "b": "s\"b"]) throws(CleanupTemplate
        .ResolveError) -> String
    {
        try CleanupTemplate.resolve(sql, schemas: schemas, quoteIdentifier: FakeQuoting.identifier)
    }

    @Test func withoutPlaceholdersTheTextIsUnchanged() throws {
        #expect(try resolve("SELECT pg_qualstats_reset()") == "SELECT pg_qualstats_reset()")
        #expect(try resolve("") == "")
    }

    @Test func everyPlaceholderIsReplaced() throws {
        #expect(try resolve("SELECT {a}.f(), {b}.g()") == #"SELECT "sa".f(), "s""b".g()"#)
    }

    @Test func doubledBracesAreLiteralBraces() throws {
        #expect(try resolve("SELECT '{{}}'::text[], {a}.f()") == #"SELECT '{}'::text[], "sa".f()"#)
    }

    @Test func unknownExtensionAndStrayBracesAreErrors() {
        #expect(throws: CleanupTemplate.ResolveError.unknownExtension("c")) { try resolve("SELECT {c}.f()") }
        for bad in ["SELECT '{}'", "SELECT {a", "SELECT a}", "SELECT {a{b}}"] {
            #expect(throws: CleanupTemplate.ResolveError.malformed) { try resolve(bad) }
        }
    }
}
