-- The hosted KYB flow: what the customer fills in, their sessions and their documents.
-- Kept column-for-column in step with ../postgres/0002_hosted_flow.sql.

-- Business details as the customer gave them (prefilled from creation). Empty means not given.
CREATE TABLE business_profiles (
    customer_id            TEXT PRIMARY KEY REFERENCES business_customers (id),
    legal_name             TEXT NOT NULL DEFAULT '',
    trading_name           TEXT NOT NULL DEFAULT '',
    entity_type            TEXT NOT NULL DEFAULT '',
    registration_number    TEXT NOT NULL DEFAULT '',
    date_of_incorporation  TEXT NOT NULL DEFAULT '',
    tax_id                 TEXT NOT NULL DEFAULT '',
    website                TEXT NOT NULL DEFAULT '',
    business_description   TEXT NOT NULL DEFAULT '',
    operating_address      TEXT NOT NULL DEFAULT '',
    updated_at             TEXT NOT NULL
);

-- Directors, control persons and beneficial owners. Ownership in basis points (2500 = 25 %).
CREATE TABLE people (
    id                 TEXT PRIMARY KEY,
    customer_id        TEXT NOT NULL REFERENCES business_customers (id),
    full_name          TEXT NOT NULL,
    date_of_birth      TEXT NOT NULL,
    nationality        TEXT NOT NULL,
    role               TEXT NOT NULL CHECK (role IN ('director', 'officer', 'shareholder', 'other')),
    is_control_person  BOOLEAN NOT NULL,
    ownership_bp       INTEGER NOT NULL CHECK (ownership_bp BETWEEN 0 AND 10000),
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL
);
CREATE INDEX people_customer ON people (customer_id, created_at);

CREATE TABLE documents (
    id             TEXT PRIMARY KEY,
    customer_id    TEXT NOT NULL REFERENCES business_customers (id),
    platform_id    TEXT NOT NULL REFERENCES platforms (id),
    kind           TEXT NOT NULL,
    original_name  TEXT NOT NULL,
    content_type   TEXT NOT NULL,
    size_bytes     INTEGER NOT NULL,
    sha256         TEXT NOT NULL,
    storage_key    TEXT NOT NULL UNIQUE,
    uploaded_at    TEXT NOT NULL,
    deleted_at     TEXT
);
CREATE INDEX documents_customer ON documents (customer_id, uploaded_at);
CREATE INDEX documents_sha256 ON documents (sha256);

-- A customer's browser session, started by consuming a link. Only the cookie's hash is stored.
CREATE TABLE kyb_sessions (
    id_hash       TEXT PRIMARY KEY,
    customer_id   TEXT NOT NULL REFERENCES business_customers (id),
    platform_id   TEXT NOT NULL REFERENCES platforms (id),
    link_id       TEXT NOT NULL REFERENCES kyb_links (id),
    csrf_token    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    last_seen_at  TEXT NOT NULL,
    expires_at    TEXT NOT NULL,
    ended_at      TEXT
);
CREATE INDEX kyb_sessions_customer ON kyb_sessions (customer_id);

ALTER TABLE business_customers ADD COLUMN submitted_at TEXT;
ALTER TABLE business_customers ADD COLUMN attested_by TEXT;
