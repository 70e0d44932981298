-- Retention and erasure. SQLite; the PostgreSQL twin is migrations/postgres/0013_erasure.sql.
-- Forward-only, like every migration.
--
-- From here each event row's hash covers the SHA-256 of its payload rather than the payload
-- (src/store/chain.rs), so that a payload can lose its personal data and the chain still
-- verify. Rows written before keep their hash over the payload itself; the audit accepts both.

-- An event whose personal data was erased: the digest of its payload as it was (what the
-- chain covers), the digest of the payload as kept, and whether the chain covers the digest
-- (false for a row written before this migration: the audit can then check its link only).
-- Written in the erasure's transaction, before the payload is replaced; never changed.
CREATE TABLE erased_events (
    complaint_id   INTEGER NOT NULL REFERENCES complaints (id),
    sequence       INTEGER NOT NULL,
    payload_sha256 TEXT    NOT NULL,
    kept_sha256    TEXT    NOT NULL,
    chained        INTEGER NOT NULL,
    erased_at      INTEGER NOT NULL,  -- microseconds, UTC
    PRIMARY KEY (complaint_id, sequence)
);
CREATE TRIGGER erased_events_no_update BEFORE UPDATE ON erased_events
BEGIN SELECT RAISE(ABORT, 'erased_events are append-only'); END;
CREATE TRIGGER erased_events_no_delete BEFORE DELETE ON erased_events
BEGIN SELECT RAISE(ABORT, 'erased_events are append-only'); END;

-- Events stay append-only, with one exception: the payload of an event recorded in
-- erased_events may be replaced (by what is left of it); nothing else of the row may change.
DROP TRIGGER events_no_update;
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
WHEN NOT (
    NEW.complaint_id = OLD.complaint_id AND NEW.sequence = OLD.sequence AND NEW.kind = OLD.kind
    AND NEW.actor = OLD.actor AND NEW.occurred_at = OLD.occurred_at
    AND NEW.recorded_at = OLD.recorded_at AND NEW.due_at IS OLD.due_at
    AND NEW.prev_hash = OLD.prev_hash AND NEW.hash = OLD.hash AND NEW.via IS OLD.via
    AND EXISTS (SELECT 1 FROM erased_events e
                WHERE e.complaint_id = OLD.complaint_id AND e.sequence = OLD.sequence)
)
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;

-- When the complaint's personal data was erased.
ALTER TABLE complaints ADD COLUMN erased_at INTEGER;

-- Closed complaints the retention run must look at, from when (`check_at`, microseconds):
-- from its closing at first; then from the end of its retention period, or the next day when
-- something holds it. Kept by the triggers below in the writer's own transaction.
CREATE TABLE retention_queue (
    complaint_id INTEGER PRIMARY KEY REFERENCES complaints (id),
    check_at     INTEGER NOT NULL
);
CREATE INDEX retention_queue_due ON retention_queue (check_at);
INSERT INTO retention_queue (complaint_id, check_at)
    SELECT id, updated_at FROM complaints WHERE status = 'closed';
CREATE TRIGGER complaints_retention_insert AFTER INSERT ON complaints
WHEN NEW.status = 'closed' BEGIN
    INSERT INTO retention_queue (complaint_id, check_at) VALUES (NEW.id, NEW.updated_at)
        ON CONFLICT (complaint_id) DO UPDATE SET check_at = excluded.check_at;
END;
CREATE TRIGGER complaints_retention_closed AFTER UPDATE OF status ON complaints
WHEN NEW.status = 'closed' AND OLD.status IS NOT 'closed' BEGIN
    INSERT INTO retention_queue (complaint_id, check_at) VALUES (NEW.id, NEW.updated_at)
        ON CONFLICT (complaint_id) DO UPDATE SET check_at = excluded.check_at;
END;
CREATE TRIGGER complaints_retention_reopened AFTER UPDATE OF status ON complaints
WHEN OLD.status = 'closed' AND NEW.status IS NOT 'closed' BEGIN
    DELETE FROM retention_queue WHERE complaint_id = NEW.id;
END;

-- Files an erasure left to delete from files_dir (letters' copies, attachments, raw
-- emails), written in its transaction and removed once the file is gone, so a crash between
-- the commit and the deletion loses nothing: the next retention run deletes them.
CREATE TABLE erasure_files (
    sha256 TEXT PRIMARY KEY
);

-- Search: a deleted row's words leave the full-text index at once, not at a later merge.
INSERT INTO complaints_search (complaints_search, rank) VALUES ('secure-delete', 1);
