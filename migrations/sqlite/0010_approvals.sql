-- Compensation awaiting approval appears in the approver's queue, and a withdrawn offer's letter
-- does not go out. SQLite; the PostgreSQL twin is migrations/postgres/0010_approvals.sql.
-- Forward-only, like every migration.

-- The largest open compensation offer still awaiting approval (pence), NULL when none: the
-- projection keeps it (`redress_core::Complaint::awaiting_approval`).
ALTER TABLE complaints ADD COLUMN awaiting_approval INTEGER;
UPDATE complaints SET awaiting_approval = (
    SELECT MAX(CAST(json_extract(o.value, '$.amount_pence') AS INTEGER))
      FROM json_each(complaints.state, '$.compensation') AS o
     WHERE json_extract(o.value, '$.approved') = 0
       AND json_extract(o.value, '$.accepted') = 0
       AND COALESCE(json_extract(o.value, '$.withdrawn'), 0) = 0
) WHERE status <> 'closed' AND state LIKE '%"approved":false%';
CREATE INDEX complaints_awaiting_approval ON complaints (COALESCE(queue_at, 9223372036854775807), reference) WHERE awaiting_approval IS NOT NULL;

-- A letter that must not go out after all (a compensation offer withdrawn before it was sent
-- or printed): when, and why. A cancelled row is never claimed, listed to print or counted due.
ALTER TABLE outbox ADD COLUMN cancelled_at INTEGER;   -- microseconds, UTC
ALTER TABLE outbox ADD COLUMN cancel_reason TEXT;
