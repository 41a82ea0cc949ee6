import Testing

@testable import PowaCore

@Suite struct ServiceNotificationsTests {
    @Test func notifySocketAcceptsPathsAndAbstractNamesOnly() {
        #expect(ServiceNotifySocket(environmentValue: "/run/systemd/notify") == .path("/run/systemd/notify"))
        #expect(ServiceNotifySocket(environmentValue: "@sd-notify")?.addressBytes == [0] + Array("sd-notify".utf8))
        #expect(ServiceNotifySocket(environmentValue: "relative/path") == nil)
        #expect(ServiceNotifySocket(environmentValue: "@") == nil)
        #expect(ServiceNotifySocket(environmentValue: "/" + String(repeating: "x", count: 200)) == nil)
    }

    @Test func watchdogPingsAtHalfTheLimitAndOnlyForItsOwnPid() {
        let watchdog = ServiceWatchdog(watchdogMicroseconds: "30000000", watchdogPID: "42", ownPID: 42)
        #expect(watchdog?.pingInterval == 15)
        #expect(ServiceWatchdog(watchdogMicroseconds: "30000000", watchdogPID: "41", ownPID: 42) == nil)
        #expect(ServiceWatchdog(watchdogMicroseconds: "0", watchdogPID: nil, ownPID: 42) == nil)
        #expect(ServiceWatchdog(watchdogMicroseconds: "abc", watchdogPID: nil, ownPID: 42) == nil)
    }

    @Test func lifecycleGivesReadyReloadingReadyStoppingOnce() {
        var notifications = ServiceNotifications(watchdog: nil)
        #expect(notifications.stateChanged(to: .starting, monotonicMicroseconds: 1).isEmpty)
        #expect(notifications.stateChanged(to: .ready, monotonicMicroseconds: 2) == [.ready])
        #expect(notifications.stateChanged(to: .ready, monotonicMicroseconds: 3).isEmpty)
        #expect(
            notifications.stateChanged(to: .reloading, monotonicMicroseconds: 4) == [
                .reloading(monotonicMicroseconds: 4)
            ])
        #expect(notifications.stateChanged(to: .ready, monotonicMicroseconds: 5) == [.ready])
        #expect(notifications.stateChanged(to: .stopping, monotonicMicroseconds: 6) == [.stopping])
        #expect(notifications.stateChanged(to: .stopping, monotonicMicroseconds: 7).isEmpty)
        #expect(ServiceManagerMessage.reloading(monotonicMicroseconds: 4).datagram == "RELOADING=1\nMONOTONIC_USEC=4")
    }

    @Test func statusIsOneLineAndSentOnlyWhenItChanges() {
        var notifications = ServiceNotifications(watchdog: nil)
        #expect(notifications.summary("a\nb") == [.status("a\nb")])
        #expect(ServiceManagerMessage.status("a\nb").datagram == "STATUS=a b")
        #expect(notifications.summary("a\nb").isEmpty)
        let long = String(repeating: "é", count: 500)
        #expect(
            ServiceManagerMessage.status(long).datagram.utf8.count <= "STATUS=".count
                + ServiceManagerMessage.maximumStatusBytes)
    }

    @Test func keepAliveIsDueEveryPingIntervalOfLoopTurns() {
        let watchdog = ServiceWatchdog(watchdogMicroseconds: "4000000", watchdogPID: nil, ownPID: 1)
        var notifications = ServiceNotifications(watchdog: watchdog)
        #expect(notifications.loopTurn(now: 10) == [.watchdog])
        #expect(notifications.loopTurn(now: 11.9).isEmpty)
        #expect(notifications.nextPingAt == 12)
        #expect(notifications.loopTurn(now: 12) == [.watchdog])
        var none = ServiceNotifications(watchdog: nil)
        #expect(none.loopTurn(now: 100).isEmpty)
        #expect(none.nextPingAt == nil)
    }

    @Test func aStatusLineThatWasNotDeliveredIsSentAgain() {
        var notifications = ServiceNotifications(watchdog: nil)
        #expect(notifications.summary("1 server") == [.status("1 server")])
        #expect(notifications.summary("1 server").isEmpty)
        notifications.statusNotDelivered()
        #expect(notifications.summary("1 server") == [.status("1 server")])
    }

    @Test func summaryCountsRunningAndFailingServers() {
        let line = ServiceStatusSummary.line(
            statuses: [1: "running", 2: "no connection to remote server", 3: "running"],
            repositoryConnected: true, state: .ready)
        #expect(line == "3 servers: 2 running, 1 failing; repository connected")
        let early = ServiceStatusSummary.line(statuses: [1: "starting"], repositoryConnected: true, state: .ready)
        #expect(early == "1 server: 0 running, 0 failing, 1 starting; repository connected")
    }
}
