-- Imported sanctions lists, one version per import, kept whole. Screening uses the newest
-- version of each source. Kept in step with ../sqlite/0005_sanctions.sql.

CREATE TABLE sanctions_lists (
    seq            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id             TEXT NOT NULL UNIQUE,
    source         TEXT NOT NULL,
    -- The date the list was published (YYYY-MM-DD).
    list_date      TEXT NOT NULL,
    -- SHA-256 of the imported file: the same file is imported once.
    sha256         TEXT NOT NULL,
    entry_count    INTEGER NOT NULL,
    alias_count    INTEGER NOT NULL,
    imported_at    TIMESTAMPTZ NOT NULL,
    CONSTRAINT sanctions_lists_file UNIQUE (source, sha256)
);
CREATE INDEX sanctions_lists_current ON sanctions_lists (source, list_date, seq);

CREATE TABLE sanctions_entries (
    list_id   TEXT NOT NULL REFERENCES sanctions_lists (id),
    ent_num   BIGINT NOT NULL,
    name      TEXT NOT NULL,
    kind      TEXT NOT NULL,
    -- JSON: the programs, the aliases ([{kind, name}]).
    programs  TEXT NOT NULL,
    aliases   TEXT NOT NULL,
    title     TEXT,
    remarks   TEXT,
    PRIMARY KEY (list_id, ent_num)
);
