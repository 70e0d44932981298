-- Letters as sent: when a letter goes, a copy of exactly what went is kept (its subject, text,
-- HTML and the letter's words as one JSON document, and its PDF), each in files_dir named by
-- its SHA-256, and both hashes are recorded in the complaint's hash chain (a letter_sent
-- event). Pages, the API and case files serve the copy, whatever the templates say later.
-- The twin of this file is migrations/postgres/0011_letter_copies.sql. Forward-only, like every migration.
CREATE TABLE letter_copies (
    outbox_id    INTEGER PRIMARY KEY REFERENCES outbox (id),
    complaint_id INTEGER NOT NULL REFERENCES complaints (id),
    copy_sha256  TEXT    NOT NULL,
    pdf_sha256   TEXT    NOT NULL,
    pdf_size     INTEGER NOT NULL,
    recorded_at  INTEGER NOT NULL  -- microseconds, UTC
);
CREATE INDEX letter_copies_complaint ON letter_copies (complaint_id);
