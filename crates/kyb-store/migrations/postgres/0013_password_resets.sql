-- One-time links an admin makes for an operator to set a new password. Only the SHA-256 of the
-- token is kept; a link is used once, before it expires, and a newer one ends older ones.
CREATE TABLE operator_resets (
    id_hash      TEXT PRIMARY KEY,
    operator_id  TEXT NOT NULL REFERENCES operators (id),
    created_by   TEXT NOT NULL REFERENCES operators (id),
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    used_at      TIMESTAMPTZ
);
CREATE INDEX operator_resets_operator ON operator_resets (operator_id);
