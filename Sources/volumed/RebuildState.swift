import ArgumentParser
import Foundation
import VolumeDaemon

struct RebuildState: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rebuild-state",
        abstract: "Rebuild a lost database from the cluster's RBD metadata tags.",
        discussion: """
            Reads every image in rbd_pool, images_rbd_pool and the image store's pool, and writes the volumes, \
            snapshots and images it finds (with their parents and clone depths) into a new database: \
            state_dir/volumed.sqlite, or the shared one in RADOS with state_store = rados. Refuses when that \
            database already holds anything (move it away first) or a volumed is running on these pools. \
            Jobs and attachments are not in the cluster and are not rebuilt. The cluster then records the new \
            database as the one that runs jobs on these pools.
            """)

    @OptionGroup var config: ConfigOption

    func run() async throws {
        let configuration = try config.load()
        try await VolumedCommand.tool("rebuild-state") {
            "rebuilt \(configuration.databaseLocation): \(try await StateRebuilder.rebuild(configuration))"
        }
    }
}
