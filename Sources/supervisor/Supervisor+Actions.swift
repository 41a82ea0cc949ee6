import CollectorLogging
import Logging
import PowaCore
import ProcessSupport

extension Supervisor {
    /// Carries out one action of the machine. Those with a result report it
    /// with `feed`, which queues it behind the actions of the same batch.
    func perform(_ action: SupervisorAction) {
        switch action {
        case .spawnWorker(let configuration):
            spawnWorker(configuration)
        case .sendToWorker(let pid, let message):
            send(message, to: pid)
        case .signalWorker(let pid, let signal):
            self.signal(signal, to: pid)
        case .checkWorker(let pid):
            checkWorker(pid: pid)
        case .connectRepository(let dsn):
            connectRepository(dsn: dsn)
        case .readServerList:
            readServerList()
        case .reloadConfigurationFile:
            reloadConfigurationFile()
        case .answerNotification(let channel, let payload):
            answer(channel: channel, payload: payload)
        case .answerNotificationIfPermitted(let channel, let senderPID, let payload, let deniedPayload, let request):
            answerIfPermitted(
                channel: channel, senderPID: senderPID, payload: payload, deniedPayload: deniedPayload, request: request
            )
        case .checkSenderPermission(let payload, let senderPID):
            checkSenderPermission(payload: payload, senderPID: senderPID)
        case .coordinate(let round):
            coordinate(round)
        case .claimServers(let instance, let leaseSeconds, let srvids):
            claimServers(instance: instance, leaseSeconds: leaseSeconds, srvids: srvids)
        case .releaseServers(let instance, let srvids):
            releaseServers(instance: instance, srvids: srvids)
        case .setDebugLogging(let debug):
            StderrLogHandler.configure(debug: debug)
        case .log(let level, let message, let worker):
            logger.log(level: level, "\(message)", metadata: threadMetadata(worker))
        case .exit(let code):
            finish(code: code)
        }
    }
}

extension Supervisor {
    func coordinate(_ round: CoordinationRound) {
        guard let repository else {
            feed(.repositoryConnectionLost(reason: "not connected"))
            return
        }
        do {
            feed(.coordinationRead(try repository.coordinate(round)))
        } catch {
            if error.isConnectionBroken {
                repositoryLost(error.description)
            } else {
                feed(.coordinationFailed(reason: error.description))
            }
        }
    }

    func claimServers(instance: String, leaseSeconds: Double, srvids: [Int]) {
        guard let repository else {
            feed(.repositoryConnectionLost(reason: "not connected"))
            return
        }
        do {
            feed(.serversClaimed(try repository.claim(instance: instance, leaseSeconds: leaseSeconds, srvids: srvids)))
        } catch {
            if error.isConnectionBroken {
                repositoryLost(error.description)
            } else {
                feed(.coordinationFailed(reason: error.description))
            }
        }
    }

    func releaseServers(instance: String, srvids: [Int]) {
        guard let repository else { return }
        do {
            try repository.release(instance: instance, srvids: srvids)
        } catch {
            if error.isConnectionBroken {
                repositoryLost(error.description)
            } else {
                logger.warning("cannot release servers \(srvids): \(error)")
            }
        }
    }
}
