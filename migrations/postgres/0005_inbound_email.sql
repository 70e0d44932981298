-- Email in: messages that could not be filed (quarantine) and every message already processed,
-- so that one delivered twice (an MTA retry, a poller restart, the same message by two routes)
-- is filed once. PostgreSQL; the SQLite twin is migrations/sqlite/0005_inbound_email.sql.
-- Forward-only, like every migration.

-- Messages Redress could not file: unreadable, too large, no usable sender, an automatic
-- message naming no complaint, or refused by the complaint it names. Nothing is lost: the raw
-- message is kept whole outside the database as files_dir/<sha256>. Listed for staff at
-- GET /api/v1/inbound/quarantine.
CREATE TABLE inbound_quarantine (
    id          BIGSERIAL PRIMARY KEY,
    received_at BIGINT  NOT NULL,  -- microseconds since the epoch, UTC
    source      TEXT    NOT NULL,  -- pipe (redress ingest-mail) | http | imap
    reason      TEXT    NOT NULL,  -- a sentence for staff
    sha256      TEXT    NOT NULL,  -- the raw message, files_dir/<sha256>
    size_bytes  BIGINT  NOT NULL,
    message_id  TEXT,
    sender      TEXT,
    subject     TEXT
);

-- Every message processed, by its key: `message-id:<Message-ID>`, or `sha256:<hex>` of the raw
-- message when it has no Message-ID. Written in the same transaction as the message's last
-- effect (its attachments, or its quarantine row).
CREATE TABLE inbound_messages (
    message_key   TEXT    PRIMARY KEY,
    outcome       TEXT    NOT NULL,  -- added_to_complaint | new_complaint | quarantined
    reference     TEXT,              -- the complaint it was filed to
    reason        TEXT,              -- why it was quarantined
    quarantine_id BIGINT  REFERENCES inbound_quarantine (id),
    processed_at  BIGINT  NOT NULL
);
