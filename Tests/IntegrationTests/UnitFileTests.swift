import Glibc
import TestSupport
import Testing

/// contrib/powa-collector.service is accepted by systemd's own checker.
@Suite(.enabled(if: access("/usr/bin/systemd-analyze", X_OK) == 0)) struct UnitFileTests {
    @Test func systemdAnalyzeVerifyAcceptsTheUnit() async throws {
        var root = #filePath
        for _ in 0..<3 { root = String(root[..<root.lastIndex(of: "/")!]) }
        let unit = try #require(TemporaryDirectory.readFile(root + "/contrib/powa-collector.service"))
        #expect(unit.contains("Type=notify"))
        #expect(unit.contains("WatchdogSec="))
        #expect(unit.contains("ExecReload=/bin/kill -HUP $MAINPID"))
        let directory = try TemporaryDirectory(prefix: "unit")
        defer { directory.remove() }
        // verify also checks that ExecStart's program exists: point it at
        // the built one. The man page is installed by the README's steps,
        // not here.
        let path = try directory.write(
            "powa-collector.service", unit.replacing("/usr/local/bin/powa-collector", with: BuiltProducts.collector))
        let result = try await TestProcess.run(
            "/usr/bin/systemd-analyze", ["verify", "--man=no", path], in: directory, name: "verify")
        #expect(result.termination == .exited(0), "\(result.stderr)")
        #expect(result.stderr.isEmpty && result.stdout.isEmpty, "\(result.stdout)\(result.stderr)")
    }
}
