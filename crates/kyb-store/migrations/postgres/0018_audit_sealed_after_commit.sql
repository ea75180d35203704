-- Audit rows are appended without a lock (issue 14). A request's transaction inserts its rows
-- with no place in the log (platform_seq NULL) and touches nothing shared; after commit the
-- sealer numbers them in the order it finds them and appends them to the tree, one sealer per
-- log at a time, holding the log's lease. The hash chain and its head end here: rows written
-- before keep their chain (prev_hash, hash), which the sealer verifies once (chain_verified)
-- before they become the tree's first leaves, in chain order.
-- Kept in step with ../sqlite/0018_audit_sealed_after_commit.sql.
-- A log's origin (its name, and its key's) is fixed when the log is made: the key is derived
-- from the server secret and the origin, and must not change with the service's address.
ALTER TABLE audit_trees ADD COLUMN origin TEXT;
ALTER TABLE audit_trees ADD COLUMN lease_holder TEXT;
ALTER TABLE audit_trees ADD COLUMN lease_expires_at TIMESTAMPTZ;
ALTER TABLE audit_trees ADD COLUMN chain_verified BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX audit_log_unsealed ON audit_log (platform_id, seq) WHERE platform_seq IS NULL;
-- The installation's log is sealed the same way: its new rows have no number or chain.
ALTER TABLE installation_audit_log ALTER COLUMN platform_seq DROP NOT NULL;
ALTER TABLE installation_audit_log ALTER COLUMN prev_hash DROP NOT NULL;
ALTER TABLE installation_audit_log ALTER COLUMN hash DROP NOT NULL;
CREATE INDEX installation_audit_log_unsealed ON installation_audit_log (platform_id, seq)
    WHERE platform_seq IS NULL;
