-- Compensation awaiting approval appears in the approver's queue, and a withdrawn offer's letter
-- does not go out. PostgreSQL; the SQLite twin is migrations/sqlite/0010_approvals.sql.
-- Forward-only, like every migration.

-- The largest open compensation offer still awaiting approval (pence), NULL when none: the
-- projection keeps it (`redress_core::Complaint::awaiting_approval`).
ALTER TABLE complaints ADD COLUMN awaiting_approval BIGINT;
UPDATE complaints SET awaiting_approval = (
    SELECT MAX((o.value ->> 'amount_pence')::BIGINT)
      FROM jsonb_array_elements(complaints.state::jsonb -> 'compensation') AS o
     WHERE (o.value ->> 'approved') = 'false'
       AND (o.value ->> 'accepted') = 'false'
       AND COALESCE(o.value ->> 'withdrawn', 'false') = 'false'
) WHERE status <> 'closed' AND state LIKE '%"approved":false%';
CREATE INDEX complaints_awaiting_approval ON complaints ((COALESCE(queue_at, 9223372036854775807)), reference) WHERE awaiting_approval IS NOT NULL;

-- A letter that must not go out after all (a compensation offer withdrawn before it was sent
-- or printed): when, and why. A cancelled row is never claimed, listed to print or counted due.
ALTER TABLE outbox ADD COLUMN cancelled_at BIGINT;   -- microseconds, UTC
ALTER TABLE outbox ADD COLUMN cancel_reason TEXT;
