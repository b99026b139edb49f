import Lifecycle

/// The queries of the lists that grow without bound (jobs, snapshots) and of the pruning, in one
/// place so that a test can pin the index each walks (migration v10): none may scan its table or
/// sort it, whatever the number of rows.
enum ListQueries {
    /// A volume's jobs, newest first (`job_volume`).
    static let jobsOfVolume = "SELECT * FROM job WHERE volume_id = ? ORDER BY created_at DESC, rowid DESC LIMIT ?"
    /// Every job, newest first (`job_recent`).
    static let recentJobs = "SELECT * FROM job ORDER BY created_at DESC, rowid DESC LIMIT ?"
    /// A finished job that ended before a cutoff (the one parameter).
    static let finishedBefore = "finished_at < ? AND state IN ('\(JobState.succeeded)', '\(JobState.failed)', '\(JobState.cancelled)')"
    /// Up to a batch of finished jobs that ended before a cutoff, oldest first (`job_finished`).
    static let pruneFinishedJobs = "DELETE FROM job WHERE rowid IN (SELECT rowid FROM job WHERE \(finishedBefore) ORDER BY finished_at LIMIT ?)"
    /// A volume's snapshots not deleted, oldest first (`snapshot_volume_list`).
    static let snapshotsOfVolume = "SELECT * FROM snapshot WHERE status != '\(SnapshotStatus.deleted)' AND volume_id = ? ORDER BY created_at, id"
    /// Every snapshot not deleted, oldest first (`snapshot_list`).
    static let snapshots = "SELECT * FROM snapshot WHERE status != '\(SnapshotStatus.deleted)' ORDER BY created_at, id"
}
