/// One pool's capacity (`service.capacity`), in bytes, by Cinder's quota-aware formula.
public struct PoolCapacity: Sendable, Codable, Equatable {
    public var pool: String
    public var totalBytes: Int64
    public var freeBytes: Int64
    public var usedBytes: Int64
    /// What the database promised: volume sizes (and image sizes in the image pool).
    public var provisionedBytes: Int64
    @Nullable public var quotaBytes: Int64?
    /// provisioned ÷ total.
    public var overSubscriptionRatio: Double

    public init(pool: String, totalBytes: Int64, freeBytes: Int64, usedBytes: Int64, provisionedBytes: Int64,
                quotaBytes: Int64?, overSubscriptionRatio: Double) {
        self.pool = pool
        self.totalBytes = totalBytes
        self.freeBytes = freeBytes
        self.usedBytes = usedBytes
        self.provisionedBytes = provisionedBytes
        self.quotaBytes = quotaBytes
        self.overSubscriptionRatio = overSubscriptionRatio
    }

    enum CodingKeys: String, CodingKey {
        case pool, totalBytes = "total_bytes", freeBytes = "free_bytes", usedBytes = "used_bytes"
        case provisionedBytes = "provisioned_bytes", quotaBytes = "quota_bytes", overSubscriptionRatio = "over_subscription_ratio"
    }
}
