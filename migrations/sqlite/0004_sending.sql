-- Sending the outbox: letters and emails go out by email (SMTP or the file transport) or by
-- post (a print queue). SQLite; the PostgreSQL twin is migrations/postgres/0004_sending.sql.
-- Forward-only, like every migration.
--
-- The lease: a node that claims a letter adds one to `attempts` and moves `next_attempt_at` a
-- lease ahead, in the same commit; if the node dies the letter comes due again when the lease
-- runs out and another node (or the restarted one) sends it. `sent_at` is set once, after the
-- email was accepted or the PDF was in the print queue.

-- The node holding (or last holding) a letter's lease, for people looking into a stuck letter.
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;

-- Whether the letter was produced in large print (the customer's accessibility needs ask for
-- it), and, for post, the PDF's file name in the print queue folder.
ALTER TABLE outbox ADD COLUMN large_print INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN print_file TEXT;

-- Post: `sent_at` says Redress put the letter in the print queue; `printed_at` and
-- `printed_by` say a member of staff printed and posted it.
ALTER TABLE outbox ADD COLUMN printed_at INTEGER;
ALTER TABLE outbox ADD COLUMN printed_by TEXT;

-- The print queue: post letters in the folder and not yet printed, oldest first.
CREATE INDEX outbox_print_queue ON outbox (sent_at, id) WHERE channel = 'post' AND printed_at IS NULL;
