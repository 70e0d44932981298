-- The complaint reports' facts: each event a report counts, as the core's `report::fact`
-- defines it, written with the event in the same statement batch (src/store/rows.rs), so that a
-- report over a million complaints reads an index instead of folding their events. Nothing
-- personal: kinds, instants, stages, category, channel, amounts, on time or not. SQLite; the
-- PostgreSQL twin is migrations/postgres/0014_report_facts.sql. Forward-only, like every migration.
CREATE TABLE report_facts (
    complaint_id INTEGER NOT NULL REFERENCES complaints (id),
    sequence     INTEGER NOT NULL,
    kind         TEXT    NOT NULL,
    at           INTEGER NOT NULL,  -- microseconds, UTC (for received: when first received)
    stage        INTEGER NOT NULL,
    category     TEXT,
    channel      TEXT    NOT NULL,
    vulnerable   INTEGER NOT NULL,
    amount_pence INTEGER,
    measure      INTEGER,           -- minutes (acknowledged) or London days (see report.rs)
    on_time      INTEGER,
    due          TEXT,              -- a London date
    detail       TEXT,
    -- Kept in the order reports read: each kind's facts by instant, every column beside them.
    PRIMARY KEY (kind, at, complaint_id, sequence)
) WITHOUT ROWID;
CREATE INDEX report_facts_complaint ON report_facts (complaint_id, kind);
-- Complaints open now, by stage and age, from the index alone.
CREATE INDEX complaints_open_age ON complaints (status, stage, first_received_at);

-- Complaints recorded before this migration get their facts from their events once, on the
-- first start after it (`Store::backfill_report_facts`); a database with no complaints yet
-- has nothing to rebuild.
CREATE TABLE report_facts_backfilled (done_at BIGINT NOT NULL);
INSERT INTO report_facts_backfilled (done_at) SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM complaints);
