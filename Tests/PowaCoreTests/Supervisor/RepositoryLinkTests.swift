import Testing

@testable import PowaCore

/// The supervisor's repository connection as a machine of its own.
@Suite struct RepositoryLinkTests {
    static let t0 = MonotonicInstant(seconds: 10)

    @Test func connectingThenConnectedLogsNothing() {
        var link = RepositoryLink(timings: .standard)
        #expect(link.connect(to: "host=repo") == .connectRepository(dsn: "host=repo"))
        #expect(link.state == .connecting && !link.isConnected)
        #expect(link.connected(now: Self.t0).isEmpty)
        #expect(link.isConnected && link.reconnectAt == nil)
    }

    @Test func aLossWaitsWithDoublingDelaysAndIsLoggedOnce() {
        var link = RepositoryLink(timings: .standard)
        _ = link.connect(to: "host=repo")
        _ = link.connected(now: Self.t0)
        let lost = link.failed("gone", wasConnected: true, now: Self.t0)
        #expect(
            lost?.logs(.warning) == [
                "lost the connection to the repository: gone; workers keep collecting, reconnecting in 1 s"
            ])
        #expect(link.reconnectAt == Self.t0 + .seconds(1))
        #expect(link.tick(now: Self.t0 + .milliseconds(999), dsn: "host=repo").isEmpty)
        #expect(link.tick(now: Self.t0 + .seconds(1), dsn: "host=repo") == [.connectRepository(dsn: "host=repo")])
        let again = link.failed("refused", wasConnected: false, now: Self.t0 + .seconds(1))
        #expect(again?.logs(.warning).isEmpty == true && again?.logs(.debug).count == 1)
        #expect(link.reconnectAt == Self.t0 + .seconds(3))
        _ = link.tick(now: Self.t0 + .seconds(3), dsn: "host=repo")
        #expect(
            link.connected(now: Self.t0 + .seconds(4)).logs(.info)
                == ["connection to the repository is back after 4 s"])
        let next = link.failed("gone", wasConnected: true, now: Self.t0 + .seconds(5))
        #expect(next?.logs(.warning).count == 1, "a new outage is logged again")
        #expect(link.reconnectAt == Self.t0 + .seconds(6), "a good connection starts the delays over")
    }

    @Test func duplicateReportsChangeNothing() {
        var link = RepositoryLink(timings: .standard)
        _ = link.connect(to: "host=repo")
        #expect(link.failed("lost while connecting?", wasConnected: true, now: Self.t0) == nil)
        _ = link.connected(now: Self.t0)
        #expect(link.connected(now: Self.t0).isEmpty)
        #expect(link.failed("refused while connected?", wasConnected: false, now: Self.t0) == nil)
        _ = link.failed("gone", wasConnected: true, now: Self.t0)
        #expect(link.failed("gone", wasConnected: true, now: Self.t0) == nil)
        #expect(link.reconnectAt == Self.t0 + .seconds(1))
    }

    @Test func aNewRepositoryIsConnectedAtOnceWithFreshDelays() {
        var link = RepositoryLink(timings: .standard)
        _ = link.connect(to: "host=old")
        for _ in 0..<3 {
            _ = link.failed("refused", wasConnected: false, now: Self.t0)
            _ = link.tick(now: link.reconnectAt!, dsn: "host=old")
        }
        #expect(link.connect(to: "host=new") == .connectRepository(dsn: "host=new"))
        _ = link.failed("refused", wasConnected: false, now: Self.t0)
        #expect(link.reconnectAt == Self.t0 + .seconds(1))
    }

    @Test func abandoningStopsTheAttempts() {
        var link = RepositoryLink(timings: .standard)
        _ = link.connect(to: "host=repo")
        _ = link.failed("refused", wasConnected: false, now: Self.t0)
        link.abandon()
        #expect(link.state == .disconnected && link.reconnectAt == nil)
        #expect(link.tick(now: Self.t0 + .seconds(60), dsn: "host=repo").isEmpty)
    }
}
