import PostgresClient
import Testing

/// Pure checks of parameter handling; no server needed.
@Suite struct ConnectionParametersTests {
    @Test func redactsPasswordsGivenAsFields() {
        let parameters = ConnectionParameters.fields(
            host: "db.example", port: 5433, user: "powa", password: "s3cret", dbname: "powa")
        let text = parameters.redactedDescription
        #expect(!text.contains("s3cret"))
        #expect(text.contains("password=<REDACTED>"))
        #expect(text.contains("host=db.example"))
    }

    @Test func redactsPasswordsInsideURIsAndKeyValueStrings() {
        for dsn in [
            "postgresql://powa:s3cret@localhost:5432/powa",
            "host=localhost password=s3cret dbname=powa",
            "host=localhost password='s3 cret' dbname=powa",
        ] {
            let text = ConnectionParameters.conninfo(dsn).redactedDescription
            #expect(!text.contains("s3cret") && !text.contains("s3 cret"), "\(text)")
            #expect(text.contains("<REDACTED>"))
        }
    }

    @Test func overridingTheDatabaseKeepsTheRest() throws {
        let parameters = try ConnectionParameters.conninfo("postgresql://u@h:1234/powa").overridingDatabase("other db")
        let text = parameters.redactedDescription
        #expect(text.contains("dbname='other db'"))
        #expect(text.contains("host=h") && text.contains("port=1234") && text.contains("user=u"))
    }

    @Test func defaultsDoNotOverrideTheUsersChoice() {
        let chosen = ConnectionParameters.conninfo("host=h keepalives_idle=5 dbname=powa").defaulting(
            "keepalives_idle", "30")
        #expect(chosen.redactedDescription.contains("keepalives_idle=5"))
        #expect(!chosen.redactedDescription.contains("keepalives_idle=30"))
        let unset = ConnectionParameters.conninfo("postgresql://h/powa").defaulting("keepalives_idle", "30")
        #expect(unset.redactedDescription.contains("keepalives_idle=30"))
    }
}
