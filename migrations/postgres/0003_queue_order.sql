-- Queues put first what needs doing first: the soonest running clock, or, when something is
-- already overdue and still not done, the instant it fell due. (next_due_at stays the
-- scheduler's column: it only ever holds clocks that have not fired.)
ALTER TABLE complaints ADD COLUMN queue_at BIGINT;
UPDATE complaints SET queue_at = next_due_at;
CREATE INDEX complaints_queue_at ON complaints (queue_at, reference);
