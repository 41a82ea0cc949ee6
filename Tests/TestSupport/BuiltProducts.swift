import Glibc
import ProcessSupport

/// The package's executables as `swift build` left them, for tests that run
/// the real programs.
public enum BuiltProducts {
    /// `name` beside the test bundle (SwiftPM puts products and the test
    /// executable in one directory), else in the package's `.build/debug`.
    public static func path(_ name: String, filePath: String = #filePath) -> String {
        if let directory = ChildProcess.ownExecutableDirectory(), access(directory + "/" + name, X_OK) == 0 {
            return directory + "/" + name
        }
        var root = filePath
        for _ in 0..<3 {
            if let slash = root.lastIndex(of: "/") { root = String(root[..<slash]) }
        }
        return root + "/.build/debug/" + name
    }

    public static var collector: String { path("powa-collector") }
    public static var worker: String { path("powa-collector-worker") }
}
