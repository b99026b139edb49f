/// How to reach the cluster: Cinder's `rbd_*` and `rados_*` options, already validated.
public struct ConnectionSettings: Sendable, Equatable {
    /// cephx id without the `client.` prefix (Cinder's `rbd_user`).
    public var user: String
    public var cephConf: String
    public var keyring: String?
    /// Seconds; a negative value keeps librados' own defaults (Cinder's `rados_connect_timeout`).
    public var connectTimeout: Int
    /// Total connection attempts, not retries (Cinder's `rados_connection_retries`).
    public var connectionRetries: Int
    /// Seconds before the second attempt; doubles after each failure.
    public var connectionInterval: Int

    public init(
        user: String, cephConf: String, keyring: String? = nil,
        connectTimeout: Int = -1, connectionRetries: Int = 3, connectionInterval: Int = 5
    ) {
        self.user = user
        self.cephConf = cephConf
        self.keyring = keyring
        self.connectTimeout = connectTimeout
        self.connectionRetries = connectionRetries
        self.connectionInterval = connectionInterval
    }
}
