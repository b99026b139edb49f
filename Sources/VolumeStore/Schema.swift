import Foundation
import GRDB

/// The database schema, as ordered migrations. Add a new migration; never edit a shipped one.
enum Schema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE volume (
                    id TEXT PRIMARY KEY NOT NULL,
                    name TEXT NOT NULL,
                    size_gb INTEGER NOT NULL CHECK (size_gb > 0),
                    status TEXT NOT NULL,
                    pool TEXT NOT NULL,
                    rbd_image TEXT NOT NULL,
                    parent_volume_id TEXT REFERENCES volume(id),
                    parent_snapshot TEXT,
                    source_kind TEXT,
                    source_id TEXT,
                    clone_depth INTEGER NOT NULL DEFAULT 0,
                    purged INTEGER NOT NULL DEFAULT 0,
                    created_at DATETIME NOT NULL,
                    updated_at DATETIME NOT NULL
                );
                CREATE INDEX volume_parent ON volume(parent_volume_id) WHERE purged = 0;
                CREATE INDEX volume_live ON volume(status, created_at);
                CREATE UNIQUE INDEX volume_image ON volume(pool, rbd_image);

                CREATE TABLE snapshot (
                    id TEXT PRIMARY KEY NOT NULL,
                    volume_id TEXT NOT NULL REFERENCES volume(id),
                    name TEXT NOT NULL,
                    status TEXT NOT NULL,
                    rbd_snapshot TEXT NOT NULL,
                    size_gb INTEGER NOT NULL,
                    purged INTEGER NOT NULL DEFAULT 0,
                    created_at DATETIME NOT NULL,
                    updated_at DATETIME NOT NULL
                );
                CREATE INDEX snapshot_volume ON snapshot(volume_id);

                CREATE TABLE job (
                    id TEXT PRIMARY KEY NOT NULL,
                    kind TEXT NOT NULL,
                    state TEXT NOT NULL,
                    lock_key TEXT NOT NULL,
                    volume_id TEXT,
                    snapshot_id TEXT,
                    params TEXT NOT NULL,
                    step INTEGER NOT NULL DEFAULT 0,
                    progress REAL NOT NULL DEFAULT 0,
                    error_kind TEXT,
                    error_message TEXT,
                    idempotency_key TEXT UNIQUE,
                    cancel_requested INTEGER NOT NULL DEFAULT 0,
                    note TEXT,
                    created_at DATETIME NOT NULL,
                    started_at DATETIME,
                    finished_at DATETIME
                );
                CREATE INDEX job_unfinished ON job(state) WHERE state IN ('queued', 'running');
                CREATE INDEX job_volume ON job(volume_id);
                """)
        }
        migrator.registerMigration("v2-daemon-clients") { db in
            // The cluster client names this database's daemons used, so that after a crash the
            // next start can break exclusive locks its dead predecessor still holds.
            try db.execute(sql: """
                CREATE TABLE daemon_client (
                    name TEXT PRIMARY KEY NOT NULL,
                    started_at DATETIME NOT NULL
                );
                """)
        }
        migrator.registerMigration("v3-images-attachments") { db in
            // Glance's side (images), Nova's boot disks (clones of images in other pools) and
            // Cinder's attachments.
            try db.execute(sql: """
                CREATE TABLE image (
                    id TEXT PRIMARY KEY NOT NULL,
                    name TEXT NOT NULL,
                    status TEXT NOT NULL,
                    pool TEXT NOT NULL,
                    rbd_image TEXT NOT NULL,
                    size_bytes INTEGER NOT NULL DEFAULT 0,
                    checksum TEXT,
                    location TEXT,
                    purged INTEGER NOT NULL DEFAULT 0,
                    created_at DATETIME NOT NULL,
                    updated_at DATETIME NOT NULL
                );
                CREATE INDEX image_live ON image(status, created_at);

                CREATE TABLE attachment (
                    id TEXT PRIMARY KEY NOT NULL,
                    volume_id TEXT NOT NULL REFERENCES volume(id),
                    host TEXT NOT NULL,
                    connector TEXT NOT NULL,
                    created_at DATETIME NOT NULL
                );
                CREATE INDEX attachment_volume ON attachment(volume_id);

                ALTER TABLE volume ADD COLUMN parent_image_id TEXT REFERENCES image(id);
                ALTER TABLE volume ADD COLUMN multiattach INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE volume ADD COLUMN attach_count INTEGER NOT NULL DEFAULT 0;
                CREATE INDEX volume_parent_image ON volume(parent_image_id) WHERE purged = 0;
                ALTER TABLE job ADD COLUMN image_id TEXT;
                """)
        }
        migrator.registerMigration("v4-volume-list-order") { db in
            // `volume.list` walks this index in its order: no sort of 100k rows per request.
            try db.execute(sql: "CREATE INDEX volume_list ON volume(created_at, id) WHERE status != 'deleted'")
        }
        migrator.registerMigration("v5-identity-fencing") { db in
            // Which database this is (the cluster records the one that last ran jobs, so a
            // stale or foreign copy cannot take over silently) and its generation (one more at
            // every takeover). And which of the recorded daemon clients are already fenced.
            try db.execute(sql: """
                CREATE TABLE meta (
                    key TEXT PRIMARY KEY NOT NULL,
                    value TEXT NOT NULL
                );
                ALTER TABLE daemon_client ADD COLUMN fenced_at DATETIME;
                """)
            try db.execute(
                sql: "INSERT INTO meta (key, value) VALUES ('database_id', ?), ('generation', '0')",
                arguments: [UUID().uuidString.lowercased()])
        }
        migrator.registerMigration("v6-idempotent-request") { db in
            // The request an idempotency key was given with: the same key with other parameters
            // is another request, refused (as payment APIs do), never answered with the first's job.
            try db.execute(sql: "ALTER TABLE job ADD COLUMN request TEXT")
        }
        migrator.registerMigration("v7-deferred-deletion") { db in
            // When a volume deleted with deferred deletion may be purged (null: at once, or over).
            try db.execute(sql: "ALTER TABLE volume ADD COLUMN purge_after DATETIME")
        }
        migrator.registerMigration("v8-snapshot-schedules") { db in
            try db.execute(sql: """
                CREATE TABLE schedule (
                    id TEXT PRIMARY KEY,
                    volume_id TEXT NOT NULL REFERENCES volume(id),
                    interval_s INTEGER NOT NULL,
                    keep INTEGER NOT NULL,
                    last_run_at DATETIME,
                    next_run_at DATETIME NOT NULL,
                    created_at DATETIME NOT NULL,
                    updated_at DATETIME NOT NULL
                );
                CREATE INDEX schedule_next_run ON schedule(next_run_at);
                -- The schedule that took a snapshot (and may delete it); null for a user's.
                ALTER TABLE snapshot ADD COLUMN schedule_id TEXT;
                """)
        }
        migrator.registerMigration("v9-backups") { db in
            // The volume may be purged while its backups stay: no foreign key to it.
            try db.execute(sql: """
                CREATE TABLE backup (
                    id TEXT PRIMARY KEY,
                    volume_id TEXT NOT NULL,
                    name TEXT NOT NULL,
                    status TEXT NOT NULL,
                    size_gb INTEGER NOT NULL,
                    parent_id TEXT,
                    pool TEXT NOT NULL,
                    chain_image TEXT NOT NULL,
                    rbd_snapshot TEXT NOT NULL,
                    source_snapshot TEXT,
                    bytes_transferred INTEGER NOT NULL,
                    purged INTEGER NOT NULL,
                    created_at DATETIME NOT NULL,
                    updated_at DATETIME NOT NULL
                );
                CREATE INDEX backup_volume ON backup(volume_id, created_at);
                """)
        }
        migrator.registerMigration("v10-list-and-prune-indexes") { db in
            // `job.list` (all, or one volume's) walks these newest first, whatever the number of
            // finished jobs; the pruning of old finished jobs walks `job_finished` oldest first.
            // `snapshot.list` walks its order without sorting, tombstones left out; a schedule's
            // turn finds its snapshots without a scan.
            try db.execute(sql: """
                DROP INDEX job_volume;
                CREATE INDEX job_volume ON job(volume_id, created_at);
                CREATE INDEX job_recent ON job(created_at);
                CREATE INDEX job_finished ON job(finished_at) WHERE finished_at IS NOT NULL;
                CREATE INDEX snapshot_list ON snapshot(created_at, id) WHERE status != 'deleted';
                CREATE INDEX snapshot_volume_list ON snapshot(volume_id, created_at, id) WHERE status != 'deleted';
                CREATE INDEX snapshot_schedule ON snapshot(schedule_id) WHERE schedule_id IS NOT NULL;
                """)
        }
        return migrator
    }
}
