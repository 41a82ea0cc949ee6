import ArgumentParser
import CollectorLogging
import Glibc
import Logging
import PowaCore
import ProcessSupport

/// `powa-collector`: PoWA's remote collector. Reads the configuration,
/// then supervises one `powa-collector-worker` process per server listed in
/// the repository's `powa_servers`, and answers powa-web over NOTIFY.
@main
struct SupervisorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "powa-collector",
        abstract: "Collects PoWA remote servers into a PoWA repository.",
        discussion: """
            Without --config, the configuration is the first file found among \
            /etc/powa-collector.conf, ~/.config/powa-collector.conf, ~/.powa-collector.conf \
            and ./powa-collector.conf. SIGHUP reloads the configuration and the server list; \
            SIGTERM and SIGINT stop every worker and exit. Under systemd (Type=notify) it reports \
            readiness, reloads, shutdown and watchdog keep-alives on NOTIFY_SOCKET.
            """,
        version: CollectorVersion.current,
        subcommands: [CheckCommand.self, StatusCommand.self])

    @OptionGroup var configurationOption: ConfigurationOption

    var config: String? { configurationOption.config }

    func run() throws {
        let source = ConfigurationSource.from(commandLinePath: config, homeDirectory: ConfigurationFile.homeDirectory)
        let loaded: LoadedConfiguration
        switch ConfigurationFile.load(source) {
        case .success(let value): loaded = value
        case .failure(let error):
            Self.printError("\(error)")
            throw ExitCode(1)
        }
        guard let directory = ChildProcess.ownExecutableDirectory() else {
            Self.printError("cannot find the directory of this executable (/proc/self/exe)")
            throw ExitCode(1)
        }

        SignalPipe.ignoreBrokenPipes()
        try SignalPipe.install([SIGHUP, SIGTERM, SIGINT, SIGCHLD])
        StderrLogHandler.bootstrap(threadName: "-", debug: loaded.configuration.debug)
        let logger = Logger(label: "powa-collector")
        var metricsServer: MetricsServer?
        if let address = loaded.configuration.metricsListen {
            do {
                metricsServer = try MetricsServer(address: address, logger: logger)
                logger.info("serving /metrics, /healthz and /readyz on http://\(address)")
            } catch {
                logger.error(
                    """
                    cannot serve metrics_listen \(address): \(error); choose a free address and port \
                    in \(loaded.path) or stop what holds it (ss -ltnp)
                    """)
                throw ExitCode(1)
            }
        }
        let supervisor = Supervisor(
            configurationSource: source, workerExecutable: directory + "/" + WorkerSpawner.workerProgramName,
            serviceManager: ServiceManagerNotifier.fromEnvironment(logger: logger), metricsServer: metricsServer)
        let code = supervisor.run(loaded)
        if code != 0 { throw ExitCode(code) }
    }

    static func printError(_ message: String) {
        let line = Array("powa-collector: \(message)\n".utf8)
        _ = try? FileDescriptorIO.writeAll(2, line)
    }
}
