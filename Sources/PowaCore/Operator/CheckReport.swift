/// The outcome of `powa-collector check`: the repository's verdict, then
/// one result per enabled server, and the exit status an operator's script
/// tests: 0 when everything passes, 1 when some server fails, 2 when the
/// configuration or the repository does (nothing else could be checked).
public struct CheckReport: Equatable, Sendable {
    /// Nil when the repository passed.
    public var repositoryProblem: String?
    /// The repository's `powa` version text, when read.
    public var repositoryVersion: String?
    public var servers: [ServerCheckResult]

    public init(repositoryProblem: String?, repositoryVersion: String?, servers: [ServerCheckResult]) {
        self.repositoryProblem = repositoryProblem
        self.repositoryVersion = repositoryVersion
        self.servers = servers
    }

    public static func configurationFailed(_ problem: String) -> CheckReport {
        CheckReport(repositoryProblem: problem, repositoryVersion: nil, servers: [])
    }

    public var exitCode: Int32 {
        if repositoryProblem != nil { return 2 }
        return servers.allSatisfy(\.passed) ? 0 : 1
    }

    public var text: String {
        var lines: [String] = []
        if let repositoryProblem {
            lines.append("repository: FAIL " + OperatorText.oneLine(repositoryProblem))
        } else {
            lines.append("repository: OK (powa \(repositoryVersion ?? "?"))")
            if servers.isEmpty { lines.append("no enabled server in powa_servers") }
            lines += servers.map(\.line)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    public var json: String {
        let repository =
            "{\"ok\": \(repositoryProblem == nil), \"powa_version\": "
            + (repositoryVersion.map(OperatorText.json) ?? "null") + ", \"problem\": "
            + (repositoryProblem.map { OperatorText.json(OperatorText.oneLine($0)) } ?? "null") + "}"
        let servers = self.servers.map { server in
            "{\"srvid\": \(server.srvid), \"server\": \(OperatorText.json(server.name)), \"ok\": \(server.passed), "
                + "\"problems\": ["
                + server.problems.map { OperatorText.json(OperatorText.oneLine($0)) }
                .joined(separator: ", ") + "]}"
        }
        return "{\"repository\": \(repository), \"servers\": [" + servers.joined(separator: ", ")
            + "], \"exit_code\": \(exitCode)}\n"
    }
}
