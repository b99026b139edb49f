/// `service.reconcile`: where the database and the pools disagree.
public struct Drift: Sendable, Codable, Equatable {
    public struct Item: Sendable, Codable, Equatable {
        /// `pool/image` or `pool/image@snapshot`.
        public var location: String
        /// The volume, snapshot or image id involved, when known.
        public var id: String?
        public var detail: String

        public init(location: String, id: String?, detail: String) {
            self.location = location
            self.id = id
            self.detail = detail
        }
    }

    /// Nothing found: `isClean` when the report was made (what `fix` changed aside).
    public var clean = true
    /// Images in the pools the database does not know (never removed by volumed).
    public var unknownImages: [Item] = []
    /// Volumes and images the database has whose RBD image is gone.
    public var missingImages: [Item] = []
    /// Snapshots volumed made that nothing needs any more.
    public var staleSnapshots: [Item] = []
    /// Snapshots the database has that the image no longer holds.
    public var missingSnapshots: [Item] = []
    /// Entries in the pools' trash (volumed never moves images there).
    public var trash: [Item] = []
    /// What `fix` changed.
    public var fixed: [String] = []

    public init() {}

    public var isClean: Bool {
        unknownImages.isEmpty && missingImages.isEmpty && staleSnapshots.isEmpty && missingSnapshots.isEmpty && trash.isEmpty
    }

    enum CodingKeys: String, CodingKey {
        case clean, unknownImages = "unknown_images", missingImages = "missing_images", staleSnapshots = "stale_snapshots"
        case missingSnapshots = "missing_snapshots", trash, fixed
    }
}
