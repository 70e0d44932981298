-- Redress schema, PostgreSQL. Forward-only; the SQLite twin is migrations/sqlite/0001_initial.sql.
-- Instants are BIGINT microseconds since the Unix epoch (UTC) in both backends, so comparisons
-- and ordering are identical everywhere; London dates are computed by the core, never here.

-- The projection: one row per complaint. `state` is the core's Complaint as JSON, the fold of
-- its events (a cache that `redress audit verify` checks against the events); the other columns
-- are copies for queues and filters.
CREATE TABLE complaints (
    id                BIGSERIAL PRIMARY KEY,
    reference         TEXT    NOT NULL UNIQUE,
    stage             BIGINT  NOT NULL CHECK (stage BETWEEN 1 AND 5),
    status            TEXT    NOT NULL,
    department        TEXT    NOT NULL,
    customer_account  TEXT    NOT NULL,
    customer_name     TEXT    NOT NULL,
    customer_postcode TEXT,
    category          TEXT,
    channel           TEXT    NOT NULL,
    first_received_at BIGINT NOT NULL,
    -- The soonest unfired deadline; NULL when no clock is running. Queues sort on it.
    next_due_at       BIGINT,
    -- The hash of the last event, the start of the next link in the chain.
    last_hash         TEXT    NOT NULL,
    -- Something the provider owed is past its time and still not done.
    overdue           BIGINT NOT NULL DEFAULT 0,
    adr_eligible      BIGINT NOT NULL DEFAULT 0,
    version           BIGINT NOT NULL,
    state             TEXT    NOT NULL,
    search_text       TEXT    NOT NULL,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);
CREATE INDEX complaints_queue ON complaints (stage, next_due_at, reference);
CREATE INDEX complaints_next_due ON complaints (next_due_at, reference);

-- The record: append-only. Each row's hash covers the previous row's hash of the same
-- complaint, so any edit or deletion breaks the chain (checked by `redress audit verify`).
CREATE TABLE events (
    complaint_id BIGINT NOT NULL REFERENCES complaints (id),
    sequence     BIGINT NOT NULL,
    kind         TEXT    NOT NULL,
    payload      TEXT    NOT NULL,
    actor        TEXT    NOT NULL,
    occurred_at  BIGINT NOT NULL,
    recorded_at  BIGINT NOT NULL,
    -- For deadline events: the instant the deadline was due (beside occurred_at, when it fired).
    due_at       BIGINT,
    prev_hash    TEXT    NOT NULL,
    hash         TEXT    NOT NULL,
    PRIMARY KEY (complaint_id, sequence)
);
-- Append-only is enforced by the database, not only by the code.
CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events are append-only';
END;
$$;
CREATE TRIGGER events_no_update BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_append_only();

-- The clocks, as rows for the scheduler: "due and not yet fired", ordered by due time.
-- (complaint, kind, request) is unique for a complaint's whole life: each fires at most once.
CREATE TABLE deadlines (
    complaint_id BIGINT NOT NULL REFERENCES complaints (id),
    kind         TEXT    NOT NULL,
    request      BIGINT NOT NULL DEFAULT 0,
    due_at       BIGINT NOT NULL,
    due_by       TEXT    NOT NULL,
    fired_at     BIGINT,
    PRIMARY KEY (complaint_id, kind, request)
);
CREATE INDEX deadlines_unfired ON deadlines (due_at) WHERE fired_at IS NULL;

-- Letters and emails to send, written in the same transaction as the event that caused them.
CREATE TABLE outbox (
    id              BIGSERIAL PRIMARY KEY,
    complaint_id    BIGINT NOT NULL REFERENCES complaints (id),
    event_sequence  BIGINT NOT NULL,
    kind            TEXT    NOT NULL,
    channel         TEXT    NOT NULL,
    payload         TEXT    NOT NULL,
    created_at      BIGINT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    sent_at         BIGINT,
    last_error      TEXT,
    UNIQUE (complaint_id, event_sequence, kind)
);
CREATE INDEX outbox_pending ON outbox (next_attempt_at) WHERE sent_at IS NULL;

-- References are CMP-YYYY-NNNNNN with a sequence per year of first receipt.
CREATE TABLE reference_sequences (
    year BIGINT PRIMARY KEY,
    last BIGINT NOT NULL
);

-- API bearer tokens. Only a SHA-256 of the token is kept (tokens are 256-bit random, so a
-- slow hash adds nothing); the token itself is shown once, when created.
CREATE TABLE api_tokens (
    id          BIGSERIAL PRIMARY KEY,
    token_hash  TEXT    NOT NULL UNIQUE,
    role        TEXT    NOT NULL,
    department  TEXT,
    staff       TEXT,
    label       TEXT,
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);

-- A retried request with the same Idempotency-Key (per token) gets the first answer back.
CREATE TABLE idempotency_keys (
    scope        TEXT    NOT NULL,
    key          TEXT    NOT NULL,
    request_hash TEXT    NOT NULL,
    status       BIGINT NOT NULL,
    body         TEXT    NOT NULL,
    location     TEXT,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (scope, key)
);
