-- Tamper evidence that does not rest on the database alone. SQLite; the PostgreSQL twin is
-- migrations/postgres/0006_ledger.sql. Forward-only, like every migration.
--
-- Events were already hash-chained per complaint, but the hash is unkeyed: whoever can write
-- to the database can change an event and recompute every hash after it. This adds:
--   1. a trigger that refuses an event that does not extend its complaint's chain;
--   2. the ledger: blocks sealing every complaint's head, each block's hash covering the block
--      before it, signed with a key kept outside the database when one is given
--      (src/store/ledger.rs; `redress audit anchor`, `redress audit verify`);
--   3. a queue of complaints whose chain grew since they were last sealed, so that the sealer
--      never has to scan every complaint.

-- 1. An inserted event must extend its complaint's chain: its sequence one above the last
-- event's, its prev_hash that event's hash (the genesis hash, 64 zeros, for event 1).
-- The trigger runs row by row, and each row's sees the rows the same INSERT wrote before it,
-- so a new complaint's events (1, 2, 3 in one multi-row statement, in order) pass.
-- The hash itself is not recomputed here: SQLite has no SHA-256, and whoever can drop this
-- trigger can compute SHA-256 as well; the sealed ledger is what catches a recomputed chain.
CREATE TRIGGER events_extend_chain BEFORE INSERT ON events
WHEN NEW.prev_hash IS NOT (
        CASE WHEN NEW.sequence = 1
             THEN '0000000000000000000000000000000000000000000000000000000000000000'
             ELSE (SELECT hash FROM events
                   WHERE complaint_id = NEW.complaint_id AND sequence = NEW.sequence - 1)
        END)
  OR EXISTS (SELECT 1 FROM events
             WHERE complaint_id = NEW.complaint_id AND sequence >= NEW.sequence)
BEGIN
    SELECT RAISE(ABORT, 'an event must extend its complaint''s chain: sequence one above the last event''s, prev_hash the last event''s hash');
END;

-- 2. The ledger. A block seals, for each complaint whose chain grew since it was last sealed,
-- its reference, its number of events (version) and the hash of its last event (head).
-- Blocks, not one store-wide chain written by every transaction: writers would all queue on
-- its newest row. Entries are keyed by reference rather than by the complaints table's id, so
-- that they stand on their own: a complaint deleted outright is still named by its entries.
CREATE TABLE ledger_blocks (
    block     INTEGER PRIMARY KEY,  -- 1, 2, 3 ... without gaps
    prev_hash TEXT    NOT NULL,     -- the previous block's hash (64 zeros for block 1)
    hash      TEXT    NOT NULL,     -- SHA-256 over this row's fields and its entries
    events    INTEGER NOT NULL,     -- events sealed by this block and every block before it
    sealed_at INTEGER NOT NULL,     -- microseconds since the epoch, UTC
    key_id    TEXT,                 -- the signing key's id, when signed
    signature TEXT,                 -- Ed25519 over the hash, base64, when signed
    CHECK ((key_id IS NULL) = (signature IS NULL))
);
CREATE TABLE ledger_entries (
    block     INTEGER NOT NULL REFERENCES ledger_blocks (block),
    reference TEXT    NOT NULL,
    version   INTEGER NOT NULL,
    head      TEXT    NOT NULL,
    PRIMARY KEY (reference, version)
) WITHOUT ROWID;
CREATE INDEX ledger_entries_block ON ledger_entries (block);

-- Append-only, like events.
CREATE TRIGGER ledger_blocks_no_update BEFORE UPDATE ON ledger_blocks
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TRIGGER ledger_blocks_no_delete BEFORE DELETE ON ledger_blocks
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TRIGGER ledger_entries_no_update BEFORE UPDATE ON ledger_entries
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TRIGGER ledger_entries_no_delete BEFORE DELETE ON ledger_entries
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;

-- A block must extend the ledger: numbered one above the newest, linking to its hash.
CREATE TRIGGER ledger_blocks_extend BEFORE INSERT ON ledger_blocks
WHEN NEW.prev_hash IS NOT (
        CASE WHEN NEW.block = 1
             THEN '0000000000000000000000000000000000000000000000000000000000000000'
             ELSE (SELECT hash FROM ledger_blocks WHERE block = NEW.block - 1)
        END)
  OR EXISTS (SELECT 1 FROM ledger_blocks WHERE block >= NEW.block)
BEGIN
    SELECT RAISE(ABORT, 'a block must extend the ledger: numbered one above the newest block, prev_hash its hash');
END;

-- An entry belongs to the newest block, seals a later version of its complaint than any
-- entry before it, and seals the hash that complaint's event at that version really has.
CREATE TRIGGER ledger_entries_extend BEFORE INSERT ON ledger_entries
WHEN NEW.block IS NOT (SELECT MAX(block) FROM ledger_blocks)
  OR EXISTS (SELECT 1 FROM ledger_entries
             WHERE reference = NEW.reference AND version >= NEW.version)
  OR NEW.head IS NOT (SELECT e.hash FROM events e JOIN complaints c ON c.id = e.complaint_id
                      WHERE c.reference = NEW.reference AND e.sequence = NEW.version)
BEGIN
    SELECT RAISE(ABORT, 'a ledger entry must seal, in the newest block, a later version of its complaint and the hash its event has');
END;

-- 3. Complaints whose chain grew since the sealer last took them: a row per change (the
-- complaint, its version after the change), inserted by the transaction that appends the
-- events, removed by the sealer once sealed. A row per change rather than one per complaint:
-- writers only ever insert, so they never wait on a row the sealer is removing. Not trusted:
-- `verify` checks the events against the ledger, whatever this table says.
CREATE TABLE ledger_pending (
    complaint_id INTEGER NOT NULL REFERENCES complaints (id),
    version      INTEGER NOT NULL,
    PRIMARY KEY (complaint_id, version)
) WITHOUT ROWID;
-- Everything recorded before this migration is sealed by the first seal.
INSERT INTO ledger_pending (complaint_id, version)
SELECT id, version FROM complaints WHERE version > 0;
