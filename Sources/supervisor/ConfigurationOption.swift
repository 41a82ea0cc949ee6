import ArgumentParser

/// `--config PATH`, shared by the daemon and its subcommands (an option
/// group, so that `powa-collector check --config PATH` reaches `check`).
struct ConfigurationOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Read only this configuration file.", valueName: "path"))
    var config: String?
}
