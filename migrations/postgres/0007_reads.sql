-- Reads that do not scan. PostgreSQL; the SQLite twin is migrations/sqlite/0007_reads.sql.
-- Forward-only, like every migration.
--
-- Every queue is ordered by (queue key, reference), the queue key being queue_at with "no
-- clock running" last. Each filter a queue offers has an index in that order, so a page (and
-- the page after it, by keyset) is a walk of at most `limit` index entries. The expression is
-- spelled exactly as src/store/read.rs spells it, so the planner matches it to the index.
DROP INDEX complaints_queue;
DROP INDEX complaints_queue_at;
CREATE INDEX complaints_by_queue ON complaints ((COALESCE(queue_at, 9223372036854775807)), reference);
CREATE INDEX complaints_stage_queue ON complaints (stage, (COALESCE(queue_at, 9223372036854775807)), reference);
CREATE INDEX complaints_department_queue ON complaints (department, (COALESCE(queue_at, 9223372036854775807)), reference);
CREATE INDEX complaints_status_queue ON complaints (status, (COALESCE(queue_at, 9223372036854775807)), reference);
CREATE INDEX complaints_overdue_queue ON complaints (overdue, (COALESCE(queue_at, 9223372036854775807)), reference);
CREATE INDEX complaints_stage_overdue_queue ON complaints (stage, overdue, (COALESCE(queue_at, 9223372036854775807)), reference);
CREATE INDEX complaints_department_overdue_queue ON complaints (department, overdue, (COALESCE(queue_at, 9223372036854775807)), reference);
CREATE INDEX complaints_customer_email_queue ON complaints (customer_email, (COALESCE(queue_at, 9223372036854775807)), reference);
DROP INDEX complaints_customer_email;

-- Who holds each complaint (the staff identifier the core records, lower case), for "my
-- cases" and the unassigned view, each in queue order.
ALTER TABLE complaints ADD COLUMN handler TEXT;
UPDATE complaints SET handler = NULLIF(lower(trim((state::jsonb)->>'handler')), '');
CREATE INDEX complaints_handler_queue ON complaints (handler, (COALESCE(queue_at, 9223372036854775807)), reference);
CREATE INDEX complaints_unassigned_queue ON complaints ((COALESCE(queue_at, 9223372036854775807)), reference)
    WHERE handler IS NULL AND status NOT IN ('resolved', 'closed');
CREATE INDEX complaints_department_unassigned_queue ON complaints (department, (COALESCE(queue_at, 9223372036854775807)), reference)
    WHERE handler IS NULL AND status NOT IN ('resolved', 'closed');

-- Search: full text over what search_text holds (reference, account, name, postcode, email,
-- telephone, the complaint's own words). The words are split at anything that is not a
-- letter or digit, as SQLite's unicode61 tokenizer splits them, so both backends find the
-- same complaints; 'simple' keeps every word as it is (no stemming, no stop words).
-- The words are kept in a column of their own, so that checking one complaint against a
-- search (walking a queue for a common word) costs no more than reading it.
ALTER TABLE complaints ADD COLUMN search_words tsvector
    GENERATED ALWAYS AS (to_tsvector('simple', regexp_replace(search_text, '[^[:alnum:]]+', ' ', 'g'))) STORED;
CREATE INDEX complaints_search ON complaints USING gin (search_words);

-- Counts for the dashboard and /metrics, never counted by scanning. Every change to a
-- complaint's stage, status or flags appends its -1 and +1 to complaint_count_changes in the
-- same transaction (the triggers below: no writer can forget, and appending takes no lock
-- another writer waits for); the scheduler folds the changes into complaint_counts now and
-- then. A count is complaint_counts plus the changes not yet folded, so it is exact at every
-- moment. `redress audit verify` checks it against the rows.
CREATE TABLE complaint_counts (
    stage        BIGINT NOT NULL,
    status       TEXT   NOT NULL,
    overdue      BIGINT NOT NULL,
    adr_eligible BIGINT NOT NULL,
    n            BIGINT NOT NULL,
    PRIMARY KEY (stage, status, overdue, adr_eligible)
);
CREATE TABLE complaint_count_changes (
    id           BIGSERIAL PRIMARY KEY,
    stage        BIGINT NOT NULL,
    status       TEXT   NOT NULL,
    overdue      BIGINT NOT NULL,
    adr_eligible BIGINT NOT NULL,
    delta        BIGINT NOT NULL
);
INSERT INTO complaint_counts (stage, status, overdue, adr_eligible, n)
SELECT stage, status, overdue, adr_eligible, COUNT(*) FROM complaints GROUP BY stage, status, overdue, adr_eligible;

CREATE FUNCTION complaints_counted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO complaint_count_changes (stage, status, overdue, adr_eligible, delta)
        VALUES (NEW.stage, NEW.status, NEW.overdue, NEW.adr_eligible, 1);
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' THEN
        INSERT INTO complaint_count_changes (stage, status, overdue, adr_eligible, delta)
        VALUES (OLD.stage, OLD.status, OLD.overdue, OLD.adr_eligible, -1);
        RETURN NULL;
    END IF;
    IF (OLD.stage, OLD.status, OLD.overdue, OLD.adr_eligible)
       IS DISTINCT FROM (NEW.stage, NEW.status, NEW.overdue, NEW.adr_eligible) THEN
        INSERT INTO complaint_count_changes (stage, status, overdue, adr_eligible, delta)
        VALUES (OLD.stage, OLD.status, OLD.overdue, OLD.adr_eligible, -1),
               (NEW.stage, NEW.status, NEW.overdue, NEW.adr_eligible, 1);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER complaints_counted AFTER INSERT OR DELETE OR UPDATE OF stage, status, overdue, adr_eligible
    ON complaints FOR EACH ROW EXECUTE FUNCTION complaints_counted();

-- The dashboard's "due this week": running clocks by their London last day.
CREATE INDEX deadlines_running_by_day ON deadlines (due_by, complaint_id) WHERE fired_at IS NULL AND kind <> 'adr';
-- The print queue's fingerprint: the last letter printed.
CREATE INDEX outbox_post_printed ON outbox (printed_at) WHERE channel = 'post';

-- The planner's statistics for the new column and indexes, so that searches are planned for
-- their words from the first one on.
ANALYZE complaints;
