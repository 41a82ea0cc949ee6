/// Where the supervisor is in its life, each phase carrying only what it
/// needs: a reload stage cannot exist while shutting down, nor a kill
/// deadline while running.
///
/// `notStarted` → `starting` (connect, read the first server list) →
/// `running` ⇄ `reloading` → `shuttingDown` → `finished`. A failure before
/// the first list is read, or a stop request then, goes straight to
/// `finished`.
enum SupervisorPhase: Sendable {
    case notStarted
    case starting(StartingPhase)
    case running
    case reloading(ReloadPhase)
    case shuttingDown(ShutdownPhase)
    /// The `exit` action was returned; later events are ignored.
    case finished
}

/// Whether the server list is to be read, or being read.
enum ServerListRead: Equatable, Sendable {
    /// To read as soon as the repository connection is up.
    case wanted
    /// `readServerList` was issued.
    case inFlight
}

/// Connecting and reading the first server list.
struct StartingPhase: Sendable {
    var serverList: ServerListRead = .wanted
    /// SIGHUP or RELOAD arrived before the first list: a reload follows it.
    var reloadRequested = false
}

/// A reload in progress: the configuration file, then the server list.
struct ReloadPhase: Sendable {
    enum Stage: Equatable, Sendable {
        case readingConfigurationFile
        case readingServerList(ServerListRead)
    }

    var stage: Stage = .readingConfigurationFile
    /// Asked again while this one runs: several requests make a single
    /// further reload.
    var againRequested = false
}

/// Waiting for the workers to exit; SIGKILL for the rest at `killAt`.
struct ShutdownPhase: Sendable {
    var killAt: MonotonicInstant
}
