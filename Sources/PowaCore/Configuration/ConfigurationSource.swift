/// Where to look for the configuration file.
public enum ConfigurationSource: Equatable, Sendable {
    /// `--config PATH`: only this file; it must exist.
    case explicit(path: String)
    /// The reference collector's locations, in order; the first file found
    /// wins.
    case search([String])

    /// The reference collector's locations: `/etc/powa-collector.conf`,
    /// `~/.config/powa-collector.conf`, `~/.powa-collector.conf`, then
    /// `./powa-collector.conf` (relative to the working directory).
    ///
    /// - Parameter homeDirectory: `$HOME` (or the password database's entry);
    ///   when unknown, the two `~` locations are left out rather than guessed.
    public static func standard(homeDirectory: String?) -> ConfigurationSource {
        var paths = ["/etc/powa-collector.conf"]
        if let home = homeDirectory, !home.isEmpty {
            let base = home.hasSuffix("/") ? String(home.dropLast()) : home
            paths.append(base + "/.config/powa-collector.conf")
            paths.append(base + "/.powa-collector.conf")
        }
        paths.append("./powa-collector.conf")
        return .search(paths)
    }

    /// `--config PATH` when given, the standard search otherwise.
    public static func from(commandLinePath: String?, homeDirectory: String?) -> ConfigurationSource {
        if let commandLinePath { .explicit(path: commandLinePath) } else { .standard(homeDirectory: homeDirectory) }
    }
}
