import RBD

extension JobContext {
    /// Removes `snapshot` of `pool/image` if it is there (the image too may be gone), and any
    /// snapshot a removal killed inside librbd left in the trash namespace. Idempotent.
    func removeSnapshotIfPresent(pool: String, image: String, snapshot: String) async throws {
        try await rbd { session in
            do {
                try session.pool(pool).withImage(image) { opened in
                    _ = try opened.removeAbandonedTrashedSnapshots()
                    if try opened.snapshotExists(snapshot) { try opened.removeSnapshot(snapshot) }
                }
            } catch let error as RBDError where error.code == .notFound {}
        }
    }
}
