import Testing

@testable import PowaCore

@Suite struct NotifyRequestTests {
    @Test func splitsCommandChannelAndArguments() {
        let request = NotifyRequest(payload: "REFRESH_DB_CAT powa_web_42 3 2 db1 db2")
        #expect(request.command == "REFRESH_DB_CAT")
        #expect(request.responseChannel == "powa_web_42")
        #expect(request.arguments == ["3", "2", "db1", "db2"])
    }

    @Test func dashOrNoSecondWordMeansNoAnswer() {
        #expect(NotifyRequest(payload: "RELOAD -").responseChannel == nil)
        #expect(NotifyRequest(payload: "RELOAD").responseChannel == nil)
        #expect(NotifyRequest(payload: "RELOAD -x").responseChannel == "-x")
    }

    /// Like Python's `split(' ')`: runs of spaces make empty words, other
    /// whitespace stays inside words.
    @Test func splitsOnSingleSpacesOnly() {
        let request = NotifyRequest(payload: "FORCE_SNAPSHOT  chan 1")
        #expect(request.responseChannel == "")
        #expect(request.arguments == ["chan", "1"])
        let tabs = NotifyRequest(payload: "WORKERS_STATUS\tchan 1")
        #expect(tabs.command == "WORKERS_STATUS\tchan")
        #expect(NotifyRequest(payload: "RELOAD chan ").arguments == [""])
    }

    /// A space followed by a combining mark is one Swift Character, but
    /// Python's split (the reference's) still splits there. Found by
    /// ProtocolPropertyTests.
    @Test func aSpaceBeforeACombiningMarkStillSplits() {
        let request = NotifyRequest(payload: "WORKERS_STATUS \u{301}chan 1")
        #expect(request.command == "WORKERS_STATUS")
        #expect(request.responseChannel?.unicodeScalars.elementsEqual("\u{301}chan".unicodeScalars) == true)
        #expect(request.arguments == ["1"])
    }

    @Test func emptyPayloadIsAnUnknownCommandWithoutChannel() {
        let request = NotifyRequest(payload: "")
        #expect(request.command == "")
        #expect(request.responseChannel == nil)
        #expect(request.parsedCommand == .success(.unknown))
    }

    @Test func commandsAreCaseSensitiveLikeTheReference() {
        #expect(NotifyRequest(payload: "reload chan").parsedCommand == .success(.unknown))
    }

    @Test func invalidUTF8IsReplacedNotRejected() {
        let request = NotifyRequest(payloadBytes: Array("RELOAD ch".utf8) + [0xFF, 0xC3] + Array(" x".utf8))
        #expect(request.command == "RELOAD")
        #expect(request.responseChannel == "ch\u{FFFD}\u{FFFD}")
    }

    @Test func reloadIgnoresArguments() {
        #expect(NotifyRequest(payload: "RELOAD chan extra words").parsedCommand == .success(.reload))
    }

    @Test func workersStatusScope() {
        func scope(_ payload: String) -> NotifyCommand? { try? NotifyRequest(payload: payload).parsedCommand.get() }
        #expect(scope("WORKERS_STATUS chan") == .workersStatus(.allServers))
        #expect(scope("WORKERS_STATUS chan 12") == .workersStatus(.server(12)))
        #expect(scope("WORKERS_STATUS chan 12 99") == .workersStatus(.server(12)), "only the first argument counts")
        #expect(scope("WORKERS_STATUS chan abc") == .workersStatus(.allServers), "non-numeric: all, like the reference")
        #expect(scope("WORKERS_STATUS chan -1") == .workersStatus(.allServers))
        #expect(scope("WORKERS_STATUS chan +1") == .workersStatus(.allServers))
        #expect(scope("WORKERS_STATUS chan ") == .workersStatus(.allServers))
        #expect(scope("WORKERS_STATUS chan ١") == .workersStatus(.allServers), "ASCII digits only")
        #expect(scope("WORKERS_STATUS chan 99999999999999999999999") == .workersStatus(.noServer))
    }

    @Test func forceSnapshotTakesExactlyOneServerId() {
        #expect(NotifyRequest(payload: "FORCE_SNAPSHOT chan 3").parsedCommand == .success(.forceSnapshot(srvid: 3)))
        for payload in ["FORCE_SNAPSHOT chan", "FORCE_SNAPSHOT chan 3 4", "FORCE_SNAPSHOT chan  3", "FORCE_SNAPSHOT"] {
            guard case .failure(let error) = NotifyRequest(payload: payload).parsedCommand else {
                Issue.record("\(payload) accepted")
                continue
            }
            #expect(error.reason.contains("one argument"))
        }
        #expect(
            NotifyRequest(payload: "FORCE_SNAPSHOT chan x").parsedCommand
                == .failure(NotifyRequestError("invalid server id \"x\"")))
        #expect(
            NotifyRequest(payload: "FORCE_SNAPSHOT chan 99999999999999999999999").parsedCommand
                == .failure(NotifyRequestError("invalid server id \"99999999999999999999999\"")))
    }

    @Test func refreshCatalogsCountMustMatchTheNames() {
        func parse(_ payload: String) -> Result<NotifyCommand, NotifyRequestError> {
            NotifyRequest(payload: payload).parsedCommand
        }
        #expect(
            parse("REFRESH_DB_CAT chan 1 2 db1 db2") == .success(.refreshCatalogs(srvid: 1, dbnames: ["db1", "db2"])))
        #expect(
            parse("REFRESH_DB_CAT chan 1 0") == .success(.refreshCatalogs(srvid: 1, dbnames: [])), "0 = every database")
        #expect(
            parse("REFRESH_DB_CAT chan 1 1 db1 db2")
                == .failure(NotifyRequestError("REFRESH_DB_CAT announced 1 databases but named 2")))
        #expect(
            parse("REFRESH_DB_CAT chan 1 3 db1")
                == .failure(NotifyRequestError("REFRESH_DB_CAT announced 3 databases but named 1")))
        #expect(
            parse("REFRESH_DB_CAT chan 1 0 db1")
                == .failure(NotifyRequestError("REFRESH_DB_CAT announced 0 databases but named 1")))
        #expect(
            parse("REFRESH_DB_CAT chan 1 -1")
                == .failure(NotifyRequestError("REFRESH_DB_CAT announced -1 databases but named 0")))
        #expect(
            parse("REFRESH_DB_CAT chan 1 two a b")
                == .failure(NotifyRequestError("invalid number of databases \"two\"")))
        #expect(parse("REFRESH_DB_CAT chan x 0") == .failure(NotifyRequestError("invalid server id \"x\"")))
        if case .failure(let error) = parse("REFRESH_DB_CAT chan 1") {
            #expect(error.reason.hasPrefix("REFRESH_DB_CAT takes"))
        } else {
            Issue.record("a missing count was accepted")
        }
    }

    @Test func databaseNamesAreTakenVerbatim() {
        #expect(
            NotifyRequest(payload: "REFRESH_DB_CAT chan 1 2 \"quoted\" élan").parsedCommand
                == .success(.refreshCatalogs(srvid: 1, dbnames: ["\"quoted\"", "élan"])))
    }

    @Test func usableChannels() {
        #expect(NotifyRequest.isUsableChannel("powa_web"))
        #expect(NotifyRequest.isUsableChannel(String(repeating: "a", count: 63)))
        #expect(!NotifyRequest.isUsableChannel(String(repeating: "a", count: 64)))
        #expect(!NotifyRequest.isUsableChannel(String(repeating: "é", count: 32)), "64 bytes in UTF-8")
        #expect(!NotifyRequest.isUsableChannel(""))
    }
}
