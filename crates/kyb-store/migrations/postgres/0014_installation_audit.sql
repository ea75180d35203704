-- The installation's own audit chain, next to the per-platform ones: what happens to operator
-- accounts (created, disabled, enabled, role and platform changes, passwords, reset links)
-- belongs to no platform. Same columns and hash as audit_log, so one verifier checks both;
-- platform_id is always 'installation' here (no platform row, no foreign key).
-- Kept in step with ../sqlite/0014_installation_audit.sql.
CREATE TABLE installation_audit_log (
    seq           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
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
    details       JSONB NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    platform_seq  BIGINT NOT NULL UNIQUE,
    prev_hash     TEXT NOT NULL,
    hash          TEXT NOT NULL
);

CREATE TABLE installation_audit_heads (
    platform_id  TEXT PRIMARY KEY CHECK (platform_id = 'installation'),
    seq          BIGINT NOT NULL,
    hash         TEXT NOT NULL
);

-- The head exists from the start (no rows, the genesis hash), so that the first writers lock it
-- like any later ones instead of racing to create it.
INSERT INTO installation_audit_heads (platform_id, seq, hash)
VALUES ('installation', 0, '0000000000000000000000000000000000000000000000000000000000000000');
