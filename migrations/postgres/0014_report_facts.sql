-- The complaint reports' facts: each event a report counts, as the core's `report::fact`
-- defines it, written with the event in the same statement batch (src/store/rows.rs), so that a
-- report over a million complaints reads an index instead of folding their events. Nothing
-- personal: kinds, instants, stages, category, channel, amounts, on time or not. PostgreSQL; the
-- SQLite twin is migrations/sqlite/0014_report_facts.sql. Forward-only, like every migration.
CREATE TABLE report_facts (
    complaint_id BIGINT  NOT NULL REFERENCES complaints (id),
    sequence     BIGINT  NOT NULL,
    kind         TEXT    NOT NULL,
    at           BIGINT  NOT NULL,  -- microseconds, UTC (for received: when first received)
    stage        BIGINT  NOT NULL,
    category     TEXT,
    channel      TEXT    NOT NULL,
    vulnerable   BIGINT  NOT NULL,
    amount_pence BIGINT ,
    measure      BIGINT ,           -- minutes (acknowledged) or London days (see report.rs)
    on_time      BIGINT ,
    due          TEXT,              -- a London date
    detail       TEXT,
    PRIMARY KEY (complaint_id, sequence)
);
-- Each kind's facts by instant, with every column a report reads (index-only scans).
CREATE INDEX report_facts_kind_at ON report_facts (kind, at)
    INCLUDE (stage, category, channel, vulnerable, amount_pence, measure, on_time, detail);
CREATE INDEX report_facts_complaint ON report_facts (complaint_id, kind);
CREATE INDEX complaints_open_age ON complaints (status, stage, first_received_at);

-- Complaints recorded before this migration get their facts from their events once, on the
-- first start after it (`Store::backfill_report_facts`); a database with no complaints yet
-- has nothing to rebuild.
CREATE TABLE report_facts_backfilled (done_at BIGINT NOT NULL);
INSERT INTO report_facts_backfilled (done_at) SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM complaints);
