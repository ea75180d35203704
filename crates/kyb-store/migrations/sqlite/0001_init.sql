-- kyb schema, SQLite flavour. Kept column-for-column in step with ../postgres/0001_init.sql.
-- Times are UTC, written by sqlx as text that sorts in time order.

CREATE TABLE platforms (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    active      BOOLEAN NOT NULL DEFAULT TRUE,
    created_at  TEXT NOT NULL
);

CREATE TABLE api_keys (
    id             TEXT PRIMARY KEY,
    platform_id    TEXT NOT NULL REFERENCES platforms (id),
    livemode       BOOLEAN NOT NULL,
    -- The first characters of the secret, kept in clear to find the row; the rest only as a hash.
    lookup_prefix  TEXT NOT NULL UNIQUE,
    secret_hash    TEXT NOT NULL,
    description    TEXT,
    created_at     TEXT NOT NULL,
    revoked_at     TEXT
);
CREATE INDEX api_keys_platform ON api_keys (platform_id);

CREATE TABLE business_customers (
    seq                 INTEGER PRIMARY KEY AUTOINCREMENT,
    id                  TEXT NOT NULL UNIQUE,
    platform_id         TEXT NOT NULL REFERENCES platforms (id),
    livemode            BOOLEAN NOT NULL,
    business_name       TEXT NOT NULL,
    business_email      TEXT NOT NULL,
    email_key           TEXT NOT NULL,
    phone_number        TEXT NOT NULL,
    registered_address  TEXT NOT NULL,
    registered_country  TEXT NOT NULL,
    verification_status TEXT NOT NULL CHECK (verification_status IN ('pending', 'in_review', 'more_info', 'approved', 'rejected')),
    progress            TEXT NOT NULL DEFAULT 'not_started' CHECK (progress IN ('not_started', 'in_progress', 'submitted')),
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    CONSTRAINT business_customers_email_key UNIQUE (platform_id, livemode, email_key)
);
CREATE INDEX business_customers_list ON business_customers (platform_id, livemode, seq);
CREATE INDEX business_customers_status ON business_customers (platform_id, livemode, verification_status, seq);

CREATE TABLE kyb_links (
    id           TEXT PRIMARY KEY,
    customer_id  TEXT NOT NULL REFERENCES business_customers (id),
    platform_id  TEXT NOT NULL REFERENCES platforms (id),
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    opened_at    TEXT,
    used_at      TEXT,
    revoked_at   TEXT
);
CREATE INDEX kyb_links_customer ON kyb_links (customer_id, created_at);

CREATE TABLE idempotency_keys (
    platform_id      TEXT NOT NULL REFERENCES platforms (id),
    idempotency_key  TEXT NOT NULL,
    request_hash     TEXT NOT NULL,
    response_status  INTEGER NOT NULL,
    response_body    BLOB NOT NULL,
    created_at       TEXT NOT NULL,
    expires_at       TEXT NOT NULL,
    PRIMARY KEY (platform_id, idempotency_key)
);
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);

-- The outbox: every event is written in the transaction of the change it describes.
CREATE TABLE events (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           TEXT NOT NULL UNIQUE,
    platform_id  TEXT NOT NULL REFERENCES platforms (id),
    livemode     BOOLEAN NOT NULL,
    type         TEXT NOT NULL,
    customer_id  TEXT,
    data         TEXT NOT NULL,
    created_at   TEXT NOT NULL
);
CREATE INDEX events_platform ON events (platform_id, livemode, seq);

CREATE TABLE audit_log (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           TEXT NOT NULL UNIQUE,
    platform_id  TEXT NOT NULL REFERENCES platforms (id),
    livemode     BOOLEAN,
    actor_type   TEXT NOT NULL,
    actor_id     TEXT,
    action       TEXT NOT NULL,
    target_type  TEXT NOT NULL,
    target_id    TEXT NOT NULL,
    request_id   TEXT,
    client_addr  TEXT,
    details      TEXT NOT NULL,
    created_at   TEXT NOT NULL
);
CREATE INDEX audit_log_platform ON audit_log (platform_id, seq);
