import Testing

@testable import PowaCore

/// What the dispatcher decides about a request before and after its
/// sender's check, including when the check itself fails.
@Suite struct NotifyDispatcherTests {
    static let t0 = MonotonicInstant(seconds: 10)
    static let fleet = WorkerFleet(timings: .standard)

    static func decided(_ dispatch: NotifyDispatcher.Dispatch) -> [SupervisorAction] {
        guard case .decided(let actions) = dispatch else {
            Issue.record("expected a decision, got \(dispatch)")
            return []
        }
        return actions
    }

    @Test func aSenderIsCheckedOncePerBatch() {
        var dispatcher = NotifyDispatcher()
        let first = Self.decided(
            dispatcher.arrived(payload: "RELOAD chan", senderPID: 7, fleet: Self.fleet, now: Self.t0))
        #expect(first == [.checkSenderPermission(payload: "RELOAD chan", senderPID: 7)])
        _ = dispatcher.checked(
            payload: "RELOAD chan", senderPermitted: false, senderPID: 7, fleet: Self.fleet, now: Self.t0)
        let second = Self.decided(
            dispatcher.arrived(payload: "RELOAD chan", senderPID: 7, fleet: Self.fleet, now: Self.t0))
        #expect(
            second.answers(on: "chan") == ["RELOAD ERROR Permission denied"],
            "refused from the cache, not checked again")
        #expect(!second.contains(.checkSenderPermission(payload: "RELOAD chan", senderPID: 7)))
        dispatcher.batchBegan()
        let third = Self.decided(
            dispatcher.arrived(payload: "RELOAD chan", senderPID: 7, fleet: Self.fleet, now: Self.t0))
        #expect(third == [.checkSenderPermission(payload: "RELOAD chan", senderPID: 7)], "a new batch checks again")
    }

    @Test func aConditionalAnswerFillsTheCacheToo() {
        var dispatcher = NotifyDispatcher()
        let asked = Self.decided(
            dispatcher.arrived(payload: "WORKERS_STATUS chan", senderPID: 7, fleet: Self.fleet, now: Self.t0))
        guard case .answerNotificationIfPermitted(_, _, _, _, let request)? = asked.last else {
            Issue.record("expected a conditional answer")
            return
        }
        _ = dispatcher.conditionalAnswerSent(request, senderPID: 7, permitted: true, now: Self.t0)
        let next = dispatcher.arrived(payload: "RELOAD chan", senderPID: 7, fleet: Self.fleet, now: Self.t0)
        guard case .carryOut(.reload, _, _) = next else {
            Issue.record("a permitted sender's RELOAD is carried out without another check")
            return
        }
    }

    @Test func aFailedCheckIsLoggedAndRefused() {
        var dispatcher = NotifyDispatcher()
        let actions = Self.decided(
            dispatcher.checkFailed(
                payload: "RELOAD chan", senderPID: 7, reason: "permission denied for table pg_roles", fleet: Self.fleet,
                now: Self.t0))
        #expect(
            actions.logs(.warning).first
                == "cannot check the permission of backend 7: permission denied for table pg_roles")
        #expect(actions.answers(on: "chan") == ["RELOAD ERROR Permission denied"])
        #expect(dispatcher.counters[.reload, .refused] == 1)
    }

    @Test func aFailedConditionalAnswerSendsTheDenial() {
        var dispatcher = NotifyDispatcher()
        let request = ConditionalAnswer(command: "WORKERS_STATUS", outcomeIfPermitted: .done)
        let actions = dispatcher.conditionalAnswerFailed(
            request, channel: "chan", deniedPayload: "WORKERS_STATUS ERROR Permission denied", senderPID: 7,
            reason: "timeout", now: Self.t0)
        #expect(actions.logs(.warning).first == "cannot check the permission of backend 7: timeout")
        #expect(actions.answers(on: "chan") == ["WORKERS_STATUS ERROR Permission denied"])
        #expect(dispatcher.counters[.workersStatus, .refused] == 1)
        #expect(dispatcher.counters[.workersStatus, .done] == 0)
    }

    @Test func aFailedAnswerIsLogged() {
        let dispatcher = NotifyDispatcher()
        #expect(
            dispatcher.answerFailed(channel: "chan", reason: "out of memory").logs(.warning)
                == ["cannot answer on channel \"chan\": out of memory"])
    }

    @Test func actingCommandsComeBackToBeCarriedOutThenAnswered() {
        var dispatcher = NotifyDispatcher()
        let dispatch = dispatcher.checked(
            payload: "FORCE_SNAPSHOT chan 3", senderPermitted: true, senderPID: 7, fleet: Self.fleet, now: Self.t0)
        guard case .carryOut(.forceSnapshot(srvid: 3), let pending, _) = dispatch else {
            Issue.record("expected FORCE_SNAPSHOT to be carried out")
            return
        }
        let answer = dispatcher.finish(pending, with: .refused("no worker for server id 3"), now: Self.t0)
        #expect(answer.answers(on: "chan") == ["FORCE_SNAPSHOT ERROR no worker for server id 3"])
        #expect(dispatcher.counters[.forceSnapshot, .declined] == 1)
    }

    @Test func whileStoppingActingCommandsAreDeclinedWithoutACheck() {
        var stopping = WorkerFleet(timings: .standard)
        _ = stopping.stop(killAt: Self.t0 + .seconds(10), now: Self.t0)
        var dispatcher = NotifyDispatcher()
        let actions = Self.decided(
            dispatcher.arrived(payload: "RELOAD chan", senderPID: 7, fleet: stopping, now: Self.t0))
        guard case .answerNotificationIfPermitted(_, _, let payload, _, _)? = actions.last else {
            Issue.record("expected a conditional answer")
            return
        }
        #expect(payload == "RELOAD ERROR the collector is shutting down")
    }
}
