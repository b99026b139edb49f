import Foundation

/// Cinder's connection info: `{driver_volume_type: "rbd", data: {...}}`, what os-brick and
/// libvirt need to open the volume over librbd.
public struct ConnectionInfo: Sendable, Codable, Equatable {
    public var driverVolumeType: String
    public var data: Data

    public struct Data: Sendable, Codable, Equatable {
        /// `<pool>/<image>`.
        public var name: String
        public var hosts: [String]
        public var ports: [String]
        public var clusterName: String
        public var authEnabled: Bool
        public var authUsername: String
        public var secretType: String
        @Nullable public var secretUUID: String?
        public var volumeID: String
        public var discard: Bool
        public var accessMode: String

        public init(name: String, hosts: [String], ports: [String], clusterName: String, authEnabled: Bool, authUsername: String,
                    secretUUID: String?, volumeID: String) {
            self.name = name
            self.hosts = hosts
            self.ports = ports
            self.clusterName = clusterName
            self.authEnabled = authEnabled
            self.authUsername = authUsername
            self.secretType = "ceph"
            self.secretUUID = secretUUID
            self.volumeID = volumeID
            self.discard = true
            self.accessMode = "rw"
        }

        enum CodingKeys: String, CodingKey {
            case name, hosts, ports, clusterName = "cluster_name", authEnabled = "auth_enabled", authUsername = "auth_username"
            case secretType = "secret_type", secretUUID = "secret_uuid", volumeID = "volume_id", discard, accessMode = "access_mode"
        }
    }

    public init(data: Data) {
        self.driverVolumeType = "rbd"
        self.data = data
    }

    enum CodingKeys: String, CodingKey { case driverVolumeType = "driver_volume_type", data }
}
