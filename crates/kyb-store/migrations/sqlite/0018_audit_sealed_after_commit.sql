-- Audit rows are appended without a lock (issue 14). A request's transaction inserts its rows
-- with no place in the log (platform_seq NULL) and touches nothing shared; after commit the
-- sealer numbers them in the order it finds them and appends them to the tree, one sealer per
-- log at a time, holding the log's lease. The hash chain and its head end here: rows written
-- before keep their chain (prev_hash, hash), which the sealer verifies once (chain_verified)
-- before they become the tree's first leaves, in chain order.
-- Kept in step with ../postgres/0018_audit_sealed_after_commit.sql.
-- A log's origin (its name, and its key's) is fixed when the log is made: the key is derived
-- from the server secret and the origin, and must not change with the service's address.
ALTER TABLE audit_trees ADD COLUMN origin TEXT;
ALTER TABLE audit_trees ADD COLUMN lease_holder TEXT;
ALTER TABLE audit_trees ADD COLUMN lease_expires_at TEXT;
ALTER TABLE audit_trees ADD COLUMN chain_verified BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX audit_log_unsealed ON audit_log (platform_id, seq) WHERE platform_seq IS NULL;
-- The installation's log is sealed the same way: its new rows have no number or chain. SQLite
-- cannot drop a NOT NULL, so the table is made again (same columns, same order).
CREATE TABLE installation_audit_log_new (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    id            TEXT NOT NULL UNIQUE,
    platform_id   TEXT NOT NULL CHECK (platform_id = 'installation'),
    livemode      BOOLEAN,
    actor_type    TEXT NOT NULL,
    actor_id      TEXT,
    action        TEXT NOT NULL,
    target_type   TEXT NOT NULL,
    target_id     TEXT NOT NULL,
    request_id    TEXT,
    client_addr   TEXT,
    details       TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    platform_seq  INTEGER UNIQUE,
    prev_hash     TEXT,
    hash          TEXT
);
INSERT INTO installation_audit_log_new SELECT * FROM installation_audit_log;
DROP TABLE installation_audit_log;
ALTER TABLE installation_audit_log_new RENAME TO installation_audit_log;
CREATE INDEX installation_audit_log_unsealed ON installation_audit_log (platform_id, seq)
    WHERE platform_seq IS NULL;
