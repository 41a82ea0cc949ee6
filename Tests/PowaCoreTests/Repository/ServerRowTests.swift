import Testing

@testable import PowaCore

@Suite struct ServerRowTests {
    let collector = CollectorConfiguration(repositoryDSN: "host=repo", debug: true, useServerAlias: false)

    @Test func onlyPositiveIdsAndFrequenciesAreCollected() {
        #expect(ServerRow.sample(1).isCollected)
        #expect(!ServerRow.sample(0).isCollected, "id 0 is the repository itself")
        #expect(!ServerRow.sample(1, frequency: -1).isCollected, "-1 means deactivated")
        #expect(!ServerRow.sample(1, frequency: 0).isCollected)
        #expect(!ServerRow.sample(-3).isCollected)
    }

    @Test func namedByHostAndPortUnlessAliasesAreWanted() {
        let row = ServerRow.sample(1, host: "db.example.com", port: 5433, alias: "prod")
        #expect(row.workerName(useServerAlias: false) == "db.example.com:5433")
        #expect(row.workerName(useServerAlias: true) == "prod")
        #expect(ServerRow.sample(1, host: "h", alias: "").workerName(useServerAlias: true) == "h:5432")
        #expect(ServerRow.sample(1, host: "h", alias: nil).workerName(useServerAlias: true) == "h:5432")
    }

    @Test func workerConfigurationCarriesEverything() {
        let row = ServerRow(
            id: 4, hostname: "db", port: 5444, username: "u", password: nil, dbname: "d", frequency: 60, alias: "a")
        #expect(
            row.workerConfiguration(collector: collector)
                == WorkerConfiguration(
                    srvid: 4, name: "db:5444", frequency: 60,
                    server: ServerConnectionParameters(host: "db", port: 5444, user: "u", password: nil, dbname: "d"),
                    repositoryDSN: "host=repo", debug: true, usesSnapshotSlots: true))
    }

    @Test func configurationsAreKeyedByServerIdAndFiltered() {
        let rows: [ServerRow] = [.sample(0), .sample(2), .sample(3, frequency: -1), .sample(5)]
        #expect(ServerRow.workerConfigurations(rows, collector: collector).keys.sorted() == [2, 5])
    }
}
