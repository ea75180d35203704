-- Fixes and bookkeeping for 0.9. Kept in step with ../postgres/0009_hardening.sql.

-- Data rewrites done in code after the schema migrations (e.g. removing KYB link tokens kept
-- at rest by earlier versions), each recorded once.
CREATE TABLE data_migrations (
    name        TEXT PRIMARY KEY,
    applied_at  TEXT NOT NULL
);

-- 0004 and 0005 declared two columns as `INTEGERNOT NULL`, which SQLite reads as a type named
-- INTEGERNOT and no constraint: nullable, one of them part of a primary key. SQLite cannot
-- change a column's constraints in place, so both tables are rebuilt with their rows.
CREATE TABLE webhook_attempts_fixed (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    id               TEXT NOT NULL UNIQUE,
    delivery_id      TEXT NOT NULL REFERENCES webhook_deliveries (id),
    endpoint_id      TEXT NOT NULL REFERENCES webhook_endpoints (id),
    attempt_number   INTEGER NOT NULL,
    started_at       TEXT NOT NULL,
    duration_ms      INTEGER NOT NULL,
    status_code      INTEGER,
    error            TEXT,
    response_excerpt TEXT,
    outcome          TEXT NOT NULL CHECK (outcome IN ('succeeded', 'retrying', 'failed', 'endpoint_disabled')),
    next_attempt_at  TEXT
);
INSERT INTO webhook_attempts_fixed (seq, id, delivery_id, endpoint_id, attempt_number, started_at,
    duration_ms, status_code, error, response_excerpt, outcome, next_attempt_at)
SELECT seq, id, delivery_id, endpoint_id, attempt_number, started_at, COALESCE(duration_ms, 0),
    status_code, error, response_excerpt, outcome, next_attempt_at
FROM webhook_attempts;
DROP TABLE webhook_attempts;
ALTER TABLE webhook_attempts_fixed RENAME TO webhook_attempts;
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, seq);

CREATE TABLE sanctions_entries_fixed (
    list_id   TEXT NOT NULL REFERENCES sanctions_lists (id),
    ent_num   INTEGER NOT NULL,
    name      TEXT NOT NULL,
    kind      TEXT NOT NULL,
    programs  TEXT NOT NULL,
    aliases   TEXT NOT NULL,
    title     TEXT,
    remarks   TEXT,
    PRIMARY KEY (list_id, ent_num)
);
INSERT INTO sanctions_entries_fixed (list_id, ent_num, name, kind, programs, aliases, title, remarks)
SELECT list_id, ent_num, name, kind, programs, aliases, title, remarks
FROM sanctions_entries WHERE ent_num IS NOT NULL;
DROP TABLE sanctions_entries;
ALTER TABLE sanctions_entries_fixed RENAME TO sanctions_entries;
