import Foundation
import Logging
import RBD
import TestSupport
import Testing

/// The librbd wrapper on the real cluster: errors are typed, progress is reported.
@Suite(.timeLimit(.minutes(10))) struct RBDWrapperTests {
    /// Tags written into the header of an image no one has open read back through librbd as
    /// if `rbd_metadata_set` had written them; the old keys of the prefix go, the others stay.
    @Test func metadataReplacedWithoutOpeningTheImage() async throws {
        let cluster = try TestCluster.require()
        let pool = try await cluster.makePool("m")
        defer { cluster.deletePool(pool) }
        let name = "img-\(UUID().uuidString.prefix(8))"
        let found = try await cluster.adminCluster.run { session in
            let io = try session.pool(pool)
            try io.createImage(name: name, size: 64 << 20, order: 22)
            try io.withImage(name) { image in
                try image.setMetadata("volumed.volume_id", "parent")
                try image.setMetadata("volumed.snapshot.x", "inherited")
                try image.setMetadata("other.key", "kept")
            }
            try io.replaceMetadata(ofUnopenedImage: name, prefix: "volumed.", with: ["volumed.volume_id": "mine", "volumed.name": "a name"])
            return try io.withImage(name, readOnly: true) { image in
                (try image.metadata(prefix: "volumed."), try image.metadata("other.key"))
            }
        }
        #expect(found.0 == ["volumed.volume_id": "mine", "volumed.name": "a name"])
        #expect(found.1 == "kept")
        await #expect(throws: RBDError.self) {
            try await cluster.adminCluster.run { try $0.pool(pool).replaceMetadata(ofUnopenedImage: "missing", prefix: "volumed.", with: [:]) }
        }
        // An id without its header (a create killed inside librbd): refused, and no header made.
        let (headerless, made) = try await cluster.adminCluster.run { session -> (RBDError?, Bool) in
            let io = try session.pool(pool)
            let id = "0123456789ab"
            try io.writeObject("rbd_id.half", [UInt8(id.utf8.count), 0, 0, 0] + Array(id.utf8))
            var failure: RBDError?
            do { try io.replaceMetadata(ofUnopenedImage: "half", prefix: "volumed.", with: ["volumed.volume_id": "x"]) } catch let error as RBDError { failure = error }
            return (failure, try io.readObject("rbd_header.\(id)") != nil)
        }
        #expect(headerless?.code == .notFound, "\(String(describing: headerless))")
        #expect(!made, "no header object was created")
    }

    @Test func imageLifecycleAndTypedErrors() async throws {
        let cluster = try TestCluster.require()
        let pool = try await cluster.makePool("r")
        defer { cluster.deletePool(pool) }
        let rbd = cluster.adminCluster
        let name = "img-\(UUID().uuidString.prefix(8))"
        try await rbd.run { session in
            let io = try session.pool(pool)
            try io.createImage(name: name, size: 64 << 20, order: 22)
            try io.withImage(name) { image in
                #expect(try image.size() == 64 << 20)
                try image.setMetadata("volumed.volume_id", "abc")
                #expect(try image.metadata("volumed.volume_id") == "abc")
                #expect(try image.metadata("missing") == nil)
                try image.createSnapshot("s")
                try image.protectSnapshot("s")
                #expect(try image.isProtected("s"))
                #expect(try image.snapshots().map(\.name) == ["s"])
            }
            try io.clone(parent: name, snapshot: "s", into: io, child: name + "-c", order: 22)
            let children = try io.withImage(name) { image in try image.children(of: "s") }
            #expect(children == ["\(pool)/\(name)-c"])
        }
        // Removing a parent with snapshots, or unprotecting a snapshot with children, is refused in kind.
        await #expect(throws: RBDError.self) {
            try await rbd.run { try $0.pool(pool).removeImage(name: name) }
        }
        do {
            try await rbd.run { try $0.pool(pool).withImage(name) { try $0.unprotectSnapshot("s") } }
            Issue.record("unprotect should fail while a clone exists")
        } catch let error as RBDError {
            #expect(error.code == .busy)
            #expect(error.description.contains("unprotect snapshot \(pool)/\(name)@s"))
        }
        let progress = Progress()
        try await rbd.run { session in
            let io = try session.pool(pool)
            try io.withImage(name + "-c") { clone in
                #expect(try clone.parent().map { [$0.pool, $0.image, $0.snapshot] } == [pool, name, "s"])
                try clone.flatten { done, total in progress.record(done, total); return true }
                #expect(try clone.parent() == nil)
            }
            try io.withImage(name) { image in
                try image.unprotectSnapshot("s")
                try image.removeSnapshot("s")
            }
            try io.removeImage(name: name + "-c")
            try io.removeImage(name: name)
        }
        // librbd counts objects (64 MiB / 4 MiB = 16) and reports before each one, so its last
        // call is (15, 16): the engine marks a job done itself, not from the callback.
        #expect(progress.last?.1 == 16)
        #expect(progress.last?.0 == 15)
        do {
            try await rbd.run { try $0.pool(pool).removeImage(name: name) }
            Issue.record("removing a missing image should fail")
        } catch let error as RBDError {
            #expect(error.code == .notFound)
        }
        #expect(try await cluster.contents(of: pool).images.isEmpty)
    }

    final class Progress: @unchecked Sendable {
        // Safety: written only from the one blocking thread running the flatten, read after it.
        var last: (UInt64, UInt64)?
        func record(_ done: UInt64, _ total: UInt64) { last = (done, total) }
    }
}
