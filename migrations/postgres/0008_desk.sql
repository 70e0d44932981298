-- The staff pages deal with quarantined email (/staff/quarantine) and the print queue
-- (/staff/print-queue), and every decision is kept. PostgreSQL; the SQLite twin is
-- migrations/sqlite/0008_desk.sql. Forward-only, like every migration.

-- What staff did with a quarantined message: filed it into a complaint, started a complaint
-- from it, or discarded it with a reason. The message itself stays in files_dir/<sha256>.
ALTER TABLE inbound_quarantine ADD COLUMN resolved_at BIGINT;        -- microseconds, UTC
ALTER TABLE inbound_quarantine ADD COLUMN resolution TEXT;           -- filed | new_complaint | discarded
ALTER TABLE inbound_quarantine ADD COLUMN resolved_by TEXT;          -- the staff member's email
ALTER TABLE inbound_quarantine ADD COLUMN resolved_reference TEXT;   -- the complaint it went to
ALTER TABLE inbound_quarantine ADD COLUMN resolution_note TEXT;      -- why it was discarded

CREATE INDEX inbound_quarantine_waiting ON inbound_quarantine (id) WHERE resolved_at IS NULL;
CREATE INDEX inbound_quarantine_dealt ON inbound_quarantine (resolved_at, id) WHERE resolved_at IS NOT NULL;

-- Every time a post letter was marked printed or sent back to be printed again.
CREATE TABLE print_log (
    id        BIGSERIAL PRIMARY KEY,
    outbox_id BIGINT  NOT NULL REFERENCES outbox (id),
    action    TEXT    NOT NULL,  -- printed | reprint
    at        BIGINT  NOT NULL,  -- microseconds, UTC
    by_staff  TEXT    NOT NULL,  -- the staff member's email (or the token's role)
    reason    TEXT               -- why it is printed again
);
CREATE INDEX print_log_letter ON print_log (outbox_id, id);

-- Letters printed, newest first, for the print queue page's "printed recently".
CREATE INDEX outbox_printed ON outbox (printed_at, id) WHERE channel = 'post' AND printed_at IS NOT NULL;

