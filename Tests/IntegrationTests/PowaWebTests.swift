import PowaCore
import TestSupport
import Testing

/// powa-web itself, over HTTP, on a repository our collector collects: what
/// a user of the UI sees and asks for. powa-web 5.3.1 on PoWA 5.3 and 4.1.4
/// on PoWA 4.1, each from the virtual environment `scripts/pg-env.sh
/// install-powa-web` made (scripts/test makes them).
@Suite(.enabled(if: TestEnvironment.isAvailable, "needs scripts/pg-env.sh (run scripts/test)"))
struct PowaWebTests {
    @Test(arguments: PowaWebRelease.allCases)
    func powaWebShowsOurWorkerRunningAndItsRequestsAreAnswered(release: PowaWebRelease) async throws {
        try #require(
            release.environment != nil,
            "no powa-web \(release.rawValue): run scripts/pg-env.sh install-powa-web, then up")
        try await withCollectorRepository(release: release.powa) { repository in
            // On PoWA 5 the snapshot is the one powa-web asks for; powa-web 4
            // cannot ask, so that server snapshots on its own.
            let frequency = release.offersSnapshotActions ? 3600 : 5
            let srvid = try repository.registerServer(address: 21, frequency: frequency)
            try await withCollector(on: repository) { supervisor in
                let client = try NotifyClient(cluster: repository.cluster, database: repository.database)
                let running = try await eventually(timeout: 20) {
                    try await client.workersStatus(srvid) == [String(srvid): WorkerStatusText.running]
                }
                try #require(running, "\(supervisor.logTail())")
                if !release.offersSnapshotActions {
                    let collected = try await eventually(timeout: 20) { try repository.lastSnapshot(srvid) != nil }
                    try #require(collected, "\(supervisor.logTail())")
                }

                try await withPowaWeb(release, on: repository) { web in
                    let answers = try await web.session(srvid: srvid)
                    let context =
                        "powa-web answered: \(answers)\npowa-web log:\n\(web.log)\ncollector:\n\(supervisor.logTail())"

                    // Logged in: a redirect with the session cookies (powa-web
                    // refuses a repository of another major.minor than its own;
                    // the session then throws).
                    #expect(answers["login"]?["http"] == .number("302"), "\(context)")
                    #expect(answers["login"]?["cookies"]?.strings.contains("password") == true, "\(context)")
                    // The server list and the server's page show our worker running.
                    #expect(answers["server_list"]?["status"] == .string(WorkerStatusText.running), "\(context)")
                    #expect(
                        answers["server_page"]?["messages"]?["success"]?.strings
                            == ["Collector status for this instance: running"], "\(context)")
                    // RELOAD: powa-web reports success only on an OK answer.
                    #expect(answers["reload"]?["json"] == .bool(true), "\(context)")
                    let reloaded = await eventually(timeout: 10) {
                        !supervisor.logLines(thread: "-", containing: "reload done").isEmpty
                    }
                    #expect(reloaded, "\(context)")

                    if release.offersSnapshotActions {
                        // powa-web shows the answers it got: exactly one, OK.
                        #expect(answers["force_snapshot"]?["json"]?.onlyOKAnswer != nil, "\(context)")
                        #expect(answers["refresh_db_cat"]?["json"]?.onlyOKAnswer != nil, "\(context)")
                        // The snapshot powa-web asked for lands in the repository.
                        let collected = try await eventually(timeout: 30) { try repository.lastSnapshot(srvid) != nil }
                        #expect(collected, "\(context)")
                        #expect(try repository.errors(srvid: srvid) == nil)
                    } else {
                        #expect(answers["force_snapshot"] == nil)
                    }
                }
            }
        }
    }
}

extension JSONValue {
    /// The strings of an array (other members skipped); empty for other values.
    fileprivate var strings: [String] {
        guard case .array(let items) = self else { return [] }
        return items.compactMap { if case .string(let text) = $0 { text } else { nil } }
    }

    /// The text of the one answer in powa-web's list of answers
    /// (`[{"OK": text}]`); nil unless there is exactly one and it is OK.
    fileprivate var onlyOKAnswer: String? {
        guard case .array(let items) = self, items.count == 1, items[0].keys == ["OK"],
            case .string(let text)? = items[0]["OK"]
        else { return nil }
        return text
    }
}
