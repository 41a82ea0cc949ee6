import Testing

@testable import PowaCore

@Suite struct RendezvousHashTests {
    static let instances = ["host-a:101:1f", "host-b:202:2e", "host-c:303:3d"]

    func shares(_ instances: [String], servers: Range<Int>) -> [String: [Int]] {
        var share: [String: [Int]] = [:]
        for srvid in servers {
            share[RendezvousHash.winner(srvid: srvid, among: instances)!, default: []].append(srvid)
        }
        return share
    }

    @Test func everyInstanceAgreesWhateverTheOrderOfTheList() {
        for srvid in 1...200 {
            let winner = RendezvousHash.winner(srvid: srvid, among: Self.instances)
            #expect(RendezvousHash.winner(srvid: srvid, among: Self.instances.reversed()) == winner)
            #expect(RendezvousHash.winner(srvid: srvid, among: Set(Self.instances)) == winner)
        }
    }

    @Test func noInstanceNoWinner() {
        #expect(RendezvousHash.winner(srvid: 1, among: [String]()) == nil)
    }

    @Test func serversAreSpreadEvenly() {
        let share = shares(Self.instances, servers: 1..<3001)
        #expect(share.count == 3)
        for (_, servers) in share {
            // 1,000 expected each; a hash this poor would fail it.
            #expect(servers.count > 850 && servers.count < 1150)
        }
        let two = shares(Array(Self.instances.prefix(2)), servers: 1..<11)
        #expect(two.count == 2, "ten servers over two instances give each some")
    }

    @Test func aJoinMovesOnlyServersToTheNewcomerAndALeaveOnlyTheLeaversServers() {
        let before = Array(Self.instances.prefix(2))
        var moved = 0
        for srvid in 1...1000 {
            let old = RendezvousHash.winner(srvid: srvid, among: before)!
            let new = RendezvousHash.winner(srvid: srvid, among: Self.instances)!
            if old != new {
                #expect(new == Self.instances[2], "a join moves servers to the new instance only")
                moved += 1
            }
        }
        #expect(moved > 250 && moved < 420, "about a third moves: \(moved)")
        for srvid in 1...1000 {
            let all = RendezvousHash.winner(srvid: srvid, among: Self.instances)!
            let without = RendezvousHash.winner(srvid: srvid, among: Self.instances.filter { $0 != Self.instances[1] })!
            if all != Self.instances[1] { #expect(without == all, "a leave moves only the leaver's servers") }
        }
    }

    @Test func weightsAreStableAcrossRuns() {
        // Fixed: a change of the function would reshuffle a running fleet
        // during a rolling upgrade.
        #expect(RendezvousHash.weight(srvid: 1, instance: "a") == RendezvousHash.weight(srvid: 1, instance: "a"))
        #expect(RendezvousHash.weight(srvid: 1, instance: "a") != RendezvousHash.weight(srvid: 2, instance: "a"))
        #expect(RendezvousHash.weight(srvid: 1, instance: "a") != RendezvousHash.weight(srvid: 1, instance: "b"))
    }
}
