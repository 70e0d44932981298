-- PostgreSQL only: SQLite's full-text search is planned by the store itself (it counts the
-- matches, src/store/read.rs), so it has no twin. Forward-only, like every migration.
-- Search: the planner chooses between the full-text index (few matches, sorted) and walking
-- the queue (many matches) by how common it thinks each word is. With the default statistics
-- every word outside the 1,000 most common looked like 0.3% of a million complaints, so a
-- search for an account number walked the whole queue (2.2 s). With 10,000 common words kept,
-- a rare word is seen to be rare (1.2 ms), and a common surname still walks (4.6 ms).
ALTER TABLE complaints ALTER COLUMN search_words SET STATISTICS 1000;
ANALYZE complaints;
