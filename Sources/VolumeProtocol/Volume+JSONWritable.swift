/// The same JSON as `Volume`'s `Encodable` under `JSONEncoder.volumed()` (sorted keys, every
/// optional written as `null` but `purge_at`, left out when absent), written directly: `volume.list` replies are this times N.
extension Volume: JSONWritable {
    public func write(to writer: inout JSONWriter) {
        writer.raw(#"{"attachment_count":"#)
        writer.int(attachmentCount)
        writer.raw(#","attachments":"#)
        if let attachments {
            writer.array(attachments) { writer, attachment in attachment.write(to: &writer) }
        } else {
            writer.null()
        }
        writer.raw(#","clone_depth":"#)
        writer.int(cloneDepth)
        writer.raw(#","created_at":"#)
        writer.date(createdAt)
        writer.raw(#","id":"#)
        writer.string(id)
        writer.raw(#","multiattach":"#)
        writer.bool(multiattach)
        writer.raw(#","name":"#)
        writer.string(name)
        writer.raw(#","parent":"#)
        if let parent {
            writer.raw(#"{"image_id":"#)
            writer.string(parent.imageID)
            writer.raw(#","rbd_snapshot":"#)
            writer.string(parent.rbdSnapshot)
            writer.raw(#","volume_id":"#)
            writer.string(parent.volumeID)
            writer.raw("}")
        } else {
            writer.null()
        }
        writer.raw(#","pool":"#)
        writer.string(pool)
        // Only for a volume deleted with deferred deletion (absent, as Encodable leaves it, otherwise).
        if let purgeAt {
            writer.raw(#","purge_at":"#)
            writer.date(purgeAt)
        }
        writer.raw(#","rbd_image":"#)
        writer.string(rbdImage)
        writer.raw(#","size_gb":"#)
        writer.int(sizeGB)
        writer.raw(#","source":"#)
        switch source {
        case nil: writer.null()
        case .volume(let id)?: writer.raw(#"{"volume_id":"#); writer.string(id); writer.raw("}")
        case .snapshot(let id)?: writer.raw(#"{"snapshot_id":"#); writer.string(id); writer.raw("}")
        case .image(let id)?: writer.raw(#"{"image_id":"#); writer.string(id); writer.raw("}")
        case .managed?: writer.raw(#"{"managed":true}"#)
        }
        writer.raw(#","status":"#)
        writer.string(status)
        writer.raw(#","updated_at":"#)
        writer.date(updatedAt)
        writer.raw("}")
    }
}

extension Attachment: JSONWritable {
    public func write(to writer: inout JSONWriter) {
        writer.raw(#"{"created_at":"#)
        writer.date(createdAt)
        writer.raw(#","host":"#)
        writer.string(host)
        writer.raw(#","id":"#)
        writer.string(id)
        writer.raw(#","volume_id":"#)
        writer.string(volumeID)
        writer.raw("}")
    }
}
