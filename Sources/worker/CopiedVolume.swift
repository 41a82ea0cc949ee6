/// Rows and bytes one snapshot streamed into the repository, added to the
/// worker's status counters when the snapshot commits.
struct CopiedVolume: Equatable {
    var rows = 0
    var bytes = 0
}
