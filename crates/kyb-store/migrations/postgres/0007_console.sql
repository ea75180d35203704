-- The review console: operator accounts and their sessions, and every decision on a case.
-- Kept in step with ../sqlite/0007_console.sql.

CREATE TABLE operators (
    id             TEXT PRIMARY KEY,
    email          TEXT NOT NULL UNIQUE,
    role           TEXT NOT NULL CHECK (role IN ('reviewer', 'admin')),
    -- argon2id, PHC string.
    password_hash  TEXT NOT NULL,
    failed_logins  INTEGER NOT NULL DEFAULT 0,
    locked_until   TIMESTAMPTZ,
    created_at     TIMESTAMPTZ NOT NULL,
    disabled_at    TIMESTAMPTZ
);

-- Only the SHA-256 of the session cookie is stored.
CREATE TABLE console_sessions (
    id_hash       TEXT PRIMARY KEY,
    operator_id   TEXT NOT NULL REFERENCES operators (id),
    csrf_token    TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    last_seen_at  TIMESTAMPTZ NOT NULL,
    expires_at    TIMESTAMPTZ NOT NULL,
    ended_at      TIMESTAMPTZ
);

CREATE TABLE case_decisions (
    seq          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id           TEXT NOT NULL UNIQUE,
    customer_id  TEXT NOT NULL REFERENCES business_customers (id),
    platform_id  TEXT NOT NULL REFERENCES platforms (id),
    operator_id  TEXT NOT NULL REFERENCES operators (id),
    action       TEXT NOT NULL CHECK (action IN ('approve', 'first_approval', 'reject', 'request_info')),
    reason_code  TEXT,
    note         TEXT,
    -- JSON array of the requirement keys asked for again (request_info).
    items        TEXT,
    message      TEXT,
    created_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX case_decisions_customer ON case_decisions (customer_id, seq);

-- What the platform may see of a decision: the rejection reason codes, and while more
-- information is needed, what was asked ({"items": [...], "message": "..."}).
ALTER TABLE business_customers ADD COLUMN rejection_reasons TEXT;
ALTER TABLE business_customers ADD COLUMN info_request TEXT;
