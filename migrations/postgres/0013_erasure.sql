-- Retention and erasure. PostgreSQL; the SQLite twin is migrations/sqlite/0013_erasure.sql
-- (which says what each part is for). Forward-only, like every migration.

CREATE TABLE erased_events (
    complaint_id   BIGINT  NOT NULL REFERENCES complaints (id),
    sequence       BIGINT  NOT NULL,
    payload_sha256 TEXT    NOT NULL,
    kept_sha256    TEXT    NOT NULL,
    chained        BIGINT  NOT NULL,
    erased_at      BIGINT  NOT NULL,
    PRIMARY KEY (complaint_id, sequence)
);
CREATE FUNCTION erased_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'erased_events are append-only';
END;
$$;
CREATE TRIGGER erased_events_no_change BEFORE UPDATE OR DELETE ON erased_events
    FOR EACH ROW EXECUTE FUNCTION erased_events_append_only();

-- The one change an event may take: its payload replaced by what is left of it after an
-- erasure recorded in erased_events, whose digest of the kept payload it must match.
CREATE OR REPLACE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND NEW.complaint_id = OLD.complaint_id AND NEW.sequence = OLD.sequence
       AND NEW.kind = OLD.kind AND NEW.actor = OLD.actor
       AND NEW.occurred_at = OLD.occurred_at AND NEW.recorded_at = OLD.recorded_at
       AND NEW.due_at IS NOT DISTINCT FROM OLD.due_at
       AND NEW.prev_hash = OLD.prev_hash AND NEW.hash = OLD.hash
       AND NEW.via IS NOT DISTINCT FROM OLD.via
       AND EXISTS (SELECT 1 FROM erased_events e
                   WHERE e.complaint_id = OLD.complaint_id AND e.sequence = OLD.sequence
                     AND e.kept_sha256 = encode(sha256(convert_to(NEW.payload, 'UTF8')), 'hex'))
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'events are append-only';
END;
$$;

ALTER TABLE complaints ADD COLUMN erased_at BIGINT;

CREATE TABLE retention_queue (
    complaint_id BIGINT PRIMARY KEY REFERENCES complaints (id),
    check_at     BIGINT NOT NULL
);
CREATE INDEX retention_queue_due ON retention_queue (check_at);
INSERT INTO retention_queue (complaint_id, check_at)
    SELECT id, updated_at FROM complaints WHERE status = 'closed';
CREATE FUNCTION complaints_retention() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status = 'closed' AND (TG_OP = 'INSERT' OR OLD.status IS DISTINCT FROM 'closed') THEN
        INSERT INTO retention_queue (complaint_id, check_at) VALUES (NEW.id, NEW.updated_at)
            ON CONFLICT (complaint_id) DO UPDATE SET check_at = excluded.check_at;
    ELSIF TG_OP = 'UPDATE' AND OLD.status = 'closed' AND NEW.status IS DISTINCT FROM 'closed' THEN
        DELETE FROM retention_queue WHERE complaint_id = NEW.id;
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER complaints_retention AFTER INSERT OR UPDATE OF status ON complaints
    FOR EACH ROW EXECUTE FUNCTION complaints_retention();

CREATE TABLE erasure_files (
    sha256 TEXT PRIMARY KEY
);
