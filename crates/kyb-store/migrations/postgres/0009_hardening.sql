-- Fixes and bookkeeping for 0.9. Kept in step with ../sqlite/0009_hardening.sql (which also
-- rebuilds two SQLite tables whose NOT NULL was lost to a typo; PostgreSQL had them right).

-- Data rewrites done in code after the schema migrations (e.g. removing KYB link tokens kept
-- at rest by earlier versions), each recorded once.
CREATE TABLE data_migrations (
    name        TEXT PRIMARY KEY,
    applied_at  TIMESTAMPTZ NOT NULL
);
