-- People: staff accounts and sessions (staff and customers), sign-in throttling, customers'
-- one-time sign-in links and uploaded files. SQLite; the PostgreSQL twin is
-- migrations/postgres/0002_people.sql.

-- Staff accounts. Passwords are argon2id hashes (PHC strings); never stored or logged in clear.
CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    email         TEXT    NOT NULL UNIQUE,
    name          TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    role          TEXT    NOT NULL,
    department    TEXT,
    created_at    INTEGER NOT NULL,
    disabled_at   INTEGER
);

-- Signed-in sessions. Only a SHA-256 of the cookie value is kept. A staff session names its
-- user; a customer session carries its scope (which complaints it may see) as JSON.
CREATE TABLE sessions (
    id_hash        TEXT    PRIMARY KEY,
    user_id        INTEGER REFERENCES users (id),
    customer_scope TEXT,
    csrf_token     TEXT    NOT NULL,
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL
);
CREATE INDEX sessions_expiry ON sessions (expires_at);

-- Failed sign-ins, for throttling (by account and by address), pruned as they age.
CREATE TABLE sign_in_failures (
    key TEXT    NOT NULL,
    at  INTEGER NOT NULL
);
CREATE INDEX sign_in_failures_key ON sign_in_failures (key, at);

-- One-time sign-in links for customers (the link is emailed; only its hash is kept).
CREATE TABLE customer_links (
    token_hash TEXT    PRIMARY KEY,
    email      TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);

-- Files customers and staff attach, stored outside the database by content hash.
CREATE TABLE attachments (
    id           INTEGER PRIMARY KEY,
    complaint_id INTEGER NOT NULL REFERENCES complaints (id),
    sha256       TEXT    NOT NULL,
    filename     TEXT    NOT NULL,
    content_type TEXT    NOT NULL,
    size_bytes   INTEGER NOT NULL,
    uploaded_at  INTEGER NOT NULL,
    uploaded_by  TEXT    NOT NULL
);
CREATE INDEX attachments_complaint ON attachments (complaint_id);

-- Customers find their complaints by email address (one-time links).
ALTER TABLE complaints ADD COLUMN customer_email TEXT;
CREATE INDEX complaints_customer_email ON complaints (customer_email);
CREATE INDEX complaints_customer_account ON complaints (customer_account);
