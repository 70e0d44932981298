-- People: staff accounts and sessions (staff and customers), sign-in throttling, customers'
-- one-time sign-in links and uploaded files. PostgreSQL; the SQLite twin is
-- migrations/sqlite/0002_people.sql.

-- Staff accounts. Passwords are argon2id hashes (PHC strings); never stored or logged in clear.
CREATE TABLE users (
    id            BIGSERIAL PRIMARY KEY,
    email         TEXT    NOT NULL UNIQUE,
    name          TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    role          TEXT    NOT NULL,
    department    TEXT,
    created_at    BIGINT NOT NULL,
    disabled_at   BIGINT
);

-- Signed-in sessions. Only a SHA-256 of the cookie value is kept. A staff session names its
-- user; a customer session carries its scope (which complaints it may see) as JSON.
CREATE TABLE sessions (
    id_hash        TEXT    PRIMARY KEY,
    user_id        BIGINT REFERENCES users (id),
    customer_scope TEXT,
    csrf_token     TEXT    NOT NULL,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL
);
CREATE INDEX sessions_expiry ON sessions (expires_at);

-- Failed sign-ins, for throttling (by account and by address), pruned as they age.
CREATE TABLE sign_in_failures (
    key TEXT    NOT NULL,
    at  BIGINT NOT NULL
);
CREATE INDEX sign_in_failures_key ON sign_in_failures (key, at);

-- One-time sign-in links for customers (the link is emailed; only its hash is kept).
CREATE TABLE customer_links (
    token_hash TEXT    PRIMARY KEY,
    email      TEXT    NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);

-- Files customers and staff attach, stored outside the database by content hash.
CREATE TABLE attachments (
    id           BIGSERIAL PRIMARY KEY,
    complaint_id BIGINT NOT NULL REFERENCES complaints (id),
    sha256       TEXT    NOT NULL,
    filename     TEXT    NOT NULL,
    content_type TEXT    NOT NULL,
    size_bytes   BIGINT NOT NULL,
    uploaded_at  BIGINT NOT NULL,
    uploaded_by  TEXT    NOT NULL
);
CREATE INDEX attachments_complaint ON attachments (complaint_id);

-- Customers find their complaints by email address (one-time links).
ALTER TABLE complaints ADD COLUMN customer_email TEXT;
CREATE INDEX complaints_customer_email ON complaints (customer_email);
CREATE INDEX complaints_customer_account ON complaints (customer_account);
