-- Reads that do not scan. SQLite; the PostgreSQL twin is migrations/postgres/0007_reads.sql.
-- Forward-only, like every migration.
--
-- Every queue is ordered by (queue key, reference), the queue key being queue_at with "no
-- clock running" last. Each filter a queue offers has an index in that order, so a page (and
-- the page after it, by keyset) is a walk of at most `limit` index entries. The expression is
-- spelled exactly as src/store/read.rs spells it: SQLite uses an expression index only for
-- the same expression.
DROP INDEX complaints_queue;
DROP INDEX complaints_queue_at;
CREATE INDEX complaints_by_queue ON complaints (COALESCE(queue_at, 9223372036854775807), reference);
CREATE INDEX complaints_stage_queue ON complaints (stage, COALESCE(queue_at, 9223372036854775807), reference);
CREATE INDEX complaints_department_queue ON complaints (department, COALESCE(queue_at, 9223372036854775807), reference);
CREATE INDEX complaints_status_queue ON complaints (status, COALESCE(queue_at, 9223372036854775807), reference);
CREATE INDEX complaints_overdue_queue ON complaints (overdue, COALESCE(queue_at, 9223372036854775807), reference);
CREATE INDEX complaints_stage_overdue_queue ON complaints (stage, overdue, COALESCE(queue_at, 9223372036854775807), reference);
CREATE INDEX complaints_department_overdue_queue ON complaints (department, overdue, COALESCE(queue_at, 9223372036854775807), reference);
CREATE INDEX complaints_customer_email_queue ON complaints (customer_email, COALESCE(queue_at, 9223372036854775807), reference);
DROP INDEX complaints_customer_email;

-- Who holds each complaint (the staff identifier the core records, lower case), for "my
-- cases" and the unassigned view, each in queue order.
ALTER TABLE complaints ADD COLUMN handler TEXT;
UPDATE complaints SET handler = NULLIF(lower(trim(json_extract(state, '$.handler'))), '');
CREATE INDEX complaints_handler_queue ON complaints (handler, COALESCE(queue_at, 9223372036854775807), reference);
CREATE INDEX complaints_unassigned_queue ON complaints (COALESCE(queue_at, 9223372036854775807), reference)
    WHERE handler IS NULL AND status NOT IN ('resolved', 'closed');
CREATE INDEX complaints_department_unassigned_queue ON complaints (department, COALESCE(queue_at, 9223372036854775807), reference)
    WHERE handler IS NULL AND status NOT IN ('resolved', 'closed');

-- Search: full text over what search_text holds (reference, account, name, postcode, email,
-- telephone, the complaint's own words), kept by the triggers below in the same transaction
-- as the row. External content: the words are stored once, in complaints.search_text.
CREATE VIRTUAL TABLE complaints_search USING fts5(
    search_text,
    content = 'complaints',
    content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '2 4'
);
INSERT INTO complaints_search (complaints_search) VALUES ('rebuild');
-- A search's matches in queue order, and every column a list filters on, without reading the
-- complaints' wide rows (src/store/read.rs sorts a search's matches here when they are few).
CREATE INDEX complaints_search_keys ON complaints (id, COALESCE(queue_at, 9223372036854775807), reference,
    stage, status, department, overdue, customer_email, handler);
CREATE TRIGGER complaints_search_insert AFTER INSERT ON complaints BEGIN
    INSERT INTO complaints_search (rowid, search_text) VALUES (NEW.id, NEW.search_text);
END;
CREATE TRIGGER complaints_search_update AFTER UPDATE OF search_text ON complaints
WHEN OLD.search_text IS NOT NEW.search_text BEGIN
    INSERT INTO complaints_search (complaints_search, rowid, search_text) VALUES ('delete', OLD.id, OLD.search_text);
    INSERT INTO complaints_search (rowid, search_text) VALUES (NEW.id, NEW.search_text);
END;
CREATE TRIGGER complaints_search_delete AFTER DELETE ON complaints BEGIN
    INSERT INTO complaints_search (complaints_search, rowid, search_text) VALUES ('delete', OLD.id, OLD.search_text);
END;

-- Counts for the dashboard and /metrics, never counted by scanning. Every change to a
-- complaint's stage, status or flags appends its -1 and +1 to complaint_count_changes in the
-- same transaction (the triggers below: no writer can forget); the scheduler folds the changes
-- into complaint_counts now and then. A count is complaint_counts plus the changes not yet
-- folded, so it is exact at every moment. `redress audit verify` checks it against the rows.
CREATE TABLE complaint_counts (
    stage        INTEGER NOT NULL,
    status       TEXT    NOT NULL,
    overdue      INTEGER NOT NULL,
    adr_eligible INTEGER NOT NULL,
    n            INTEGER NOT NULL,
    PRIMARY KEY (stage, status, overdue, adr_eligible)
);
CREATE TABLE complaint_count_changes (
    id           INTEGER PRIMARY KEY,
    stage        INTEGER NOT NULL,
    status       TEXT    NOT NULL,
    overdue      INTEGER NOT NULL,
    adr_eligible INTEGER NOT NULL,
    delta        INTEGER NOT NULL
);
INSERT INTO complaint_counts (stage, status, overdue, adr_eligible, n)
SELECT stage, status, overdue, adr_eligible, COUNT(*) FROM complaints GROUP BY stage, status, overdue, adr_eligible;
CREATE TRIGGER complaints_counted_insert AFTER INSERT ON complaints BEGIN
    INSERT INTO complaint_count_changes (stage, status, overdue, adr_eligible, delta)
    VALUES (NEW.stage, NEW.status, NEW.overdue, NEW.adr_eligible, 1);
END;
CREATE TRIGGER complaints_counted_update AFTER UPDATE OF stage, status, overdue, adr_eligible ON complaints
WHEN OLD.stage IS NOT NEW.stage OR OLD.status IS NOT NEW.status
  OR OLD.overdue IS NOT NEW.overdue OR OLD.adr_eligible IS NOT NEW.adr_eligible BEGIN
    INSERT INTO complaint_count_changes (stage, status, overdue, adr_eligible, delta)
    VALUES (OLD.stage, OLD.status, OLD.overdue, OLD.adr_eligible, -1),
           (NEW.stage, NEW.status, NEW.overdue, NEW.adr_eligible, 1);
END;
CREATE TRIGGER complaints_counted_delete AFTER DELETE ON complaints BEGIN
    INSERT INTO complaint_count_changes (stage, status, overdue, adr_eligible, delta)
    VALUES (OLD.stage, OLD.status, OLD.overdue, OLD.adr_eligible, -1);
END;

-- The dashboard's "due this week": running clocks by their London last day.
CREATE INDEX deadlines_running_by_day ON deadlines (due_by, complaint_id) WHERE fired_at IS NULL AND kind <> 'adr';
-- The print queue's fingerprint: the last letter printed.
CREATE INDEX outbox_post_printed ON outbox (printed_at) WHERE channel = 'post';
