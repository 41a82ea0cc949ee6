extension Duration {
    /// Whole seconds for log lines and status strings, e.g. "4 s".
    var roundedSecondsText: String { "\(Int(inSeconds.rounded())) s" }
}
