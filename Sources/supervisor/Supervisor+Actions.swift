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
                channel: channel, senderPID: senderPID, payload: payload, deniedPayload: deniedPayload, request: request)
        case .checkSenderPermission(let payload, let senderPID):
            checkSenderPermission(payload: payload, senderPID: senderPID)
        case .setDebugLogging(let debug):
            StderrLogHandler.configure(debug: debug)
        case .log(let level, let message, let worker):
            logger.log(level: level, "\(message)", metadata: threadMetadata(worker))
        case .exit(let code):
            finish(code: code)
        }
    }
}
