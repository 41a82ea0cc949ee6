import ArgumentParser
import CollectorLogging
import Glibc
import Logging
import PowaCore
import ProcessSupport

/// One worker's life, whether exec'd by the supervisor or forked by the
/// launcher: from the start line to the stop.
enum WorkerMain {
    /// How much nicer than the supervisor a worker runs.
    static let niceIncrement: Int32 = 5

    static func run(parentPid: Int32?, startTimeout: Double) throws {
        SignalPipe.ignoreBrokenPipes()
        try SignalPipe.install([SIGTERM, SIGINT])
        var logger = Logger(label: "powa-collector-worker")
        if !ParentDeathSignal.arm(expectedParent: parentPid) {
            logger.error("Supervisor already gone, exiting")
            throw ExitCode(0)
        }
        try FileDescriptorIO.setNonBlocking(0)
        // Snapshots are throughput work; the supervisor answering powa-web
        // is latency work. On a busy machine the scheduler should favour
        // the latter (and the monitored workload over both).
        errno = 0
        if nice(niceIncrement) == -1, errno != 0 {
            logger.debug("Could not lower the worker's priority (errno \(errno))")
        }

        var lines = LineBuffer()
        let config: WorkerConfiguration
        switch StartLine.read(&lines, timeout: startTimeout) {
        case .success(let read): config = read
        case .failure(let failure):
            logger.error("\(failure)")
            throw ExitCode(2)
        }
        StderrLogHandler.configure(threadName: config.name, debug: config.debug)
        logger = Logger(label: "powa-collector-worker")
        logger.info("Starting worker")
        logger.debug(
            "Configuration: srvid \(config.srvid), \(config.server.redactedDescription), frequency \(config.frequency) s"
        )

        let mailbox = try CollectorMailbox()
        let reporter = try StatusReporter(initial: WorkerStatus(status: WorkerStatusText.noRemoteConnection))
        reporter.announce()
        CollectorThread.start(config: config, mailbox: mailbox, reporter: reporter, logger: logger)
        var loop = ControlLoop(
            mailbox: mailbox, reporter: reporter, logger: logger, lines: lines,
            snapshotBudget: SnapshotBudget.seconds(for: config))
        loop.run()
    }
}

/// Reading and checking the first line.
enum StartLine {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func read(_ lines: inout LineBuffer, timeout: Double) -> Result<WorkerConfiguration, Failure> {
        let deadline = SystemClock.now() + timeout
        while SystemClock.now() < deadline {
            var entry = pollfd(fd: 0, events: Int16(POLLIN), revents: 0)
            let wait = FileDescriptorIO.pollTimeout(seconds: deadline - SystemClock.now())

            _ = Glibc.poll(&entry, 1, wait)
            let outcome: FileDescriptorIO.ReadOutcome
            do {
                outcome = try FileDescriptorIO.read(0, maximum: WorkerMemory.stdinReadSize)
            } catch {
                return .failure(Failure(description: "Cannot read the start line: \(error)"))
            }
            switch outcome {
            case .wouldBlock: continue
            case .endOfFile: return .failure(Failure(description: "stdin closed before a start line arrived"))
            case .bytes(let bytes):
                for item in lines.append(bytes) {
                    guard case .line(let line) = item else {
                        return .failure(Failure(description: "Start line too long"))
                    }
                    do {
                        let message = try JSONLines.decode(SupervisorMessage.self, from: line)
                        guard case .start(let config) = message else {
                            return .failure(
                                Failure(description: "Expected a start line first, got \(message.typeName)"))
                        }
                        if let problem = validate(config) {
                            return .failure(Failure(description: "Invalid start line: \(problem)"))
                        }
                        return .success(config)
                    } catch {
                        return .failure(Failure(description: "Invalid start line: \(error)"))
                    }
                }
            }
        }
        return .failure(Failure(description: "No start line within \(Int(timeout)) s"))
    }

    static func validate(_ config: WorkerConfiguration) -> String? {
        if config.srvid <= 0 { return "srvid must be positive, got \(config.srvid)" }
        if config.frequency <= 0 { return "frequency must be positive, got \(config.frequency)" }
        if config.server.port <= 0 || config.server.port > 65535 { return "port out of range: \(config.server.port)" }
        if config.repositoryDSN.isEmpty { return "empty repository_dsn" }
        return nil
    }
}
