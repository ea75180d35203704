-- The audit log becomes a hash chain per platform: each row carries its number in the platform's
-- chain, the previous row's hash and its own (SHA-256 over a canonical form of the row).
-- audit_heads holds each chain's last number and hash, so deleting the newest rows shows too.
-- Kept in step with ../sqlite/0003_audit_chain.sql.
ALTER TABLE audit_log ADD COLUMN platform_seq BIGINT;
ALTER TABLE audit_log ADD COLUMN prev_hash TEXT;
ALTER TABLE audit_log ADD COLUMN hash TEXT;
CREATE UNIQUE INDEX audit_log_chain ON audit_log (platform_id, platform_seq);

CREATE TABLE audit_heads (
    platform_id  TEXT PRIMARY KEY REFERENCES platforms (id),
    seq          BIGINT NOT NULL,
    hash         TEXT NOT NULL
);
