-- Sanctions screening over several lists, and reviewers' verdicts on hits.
-- Kept in step with ../postgres/0008_screening.sql.

-- Entries of every source (OFAC SDN, OFAC consolidated, UN) in one shape: the list's own id
-- for the entry (OFAC's ent_num, the UN's reference number) and the whole entry as JSON (names,
-- aliases with their quality, programs, dates of birth, nationalities, countries, IMO numbers).
-- Versions imported before this table existed stay in sanctions_entries and are read there.
CREATE TABLE sanctions_list_entries (
    list_id   TEXT NOT NULL REFERENCES sanctions_lists (id),
    position  INTEGER NOT NULL,
    entry_id  TEXT NOT NULL,
    data      TEXT NOT NULL,
    PRIMARY KEY (list_id, entry_id)
);

-- A reviewer's verdict on one sanctions hit of a customer: the hit is a true match, or a
-- false positive. A false positive needs two admins: the first verdict waits ('pending') for a
-- second admin, who makes it 'effective'. A later verdict on the same entry supersedes the
-- earlier ones. The fingerprint is the entry's (names, dates of birth, countries) when judged:
-- a false positive holds only while the entry stays the same.
CREATE TABLE hit_verdicts (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    id             TEXT NOT NULL UNIQUE,
    platform_id    TEXT NOT NULL REFERENCES platforms (id),
    customer_id    TEXT NOT NULL REFERENCES business_customers (id),
    list_source    TEXT NOT NULL,
    entry_id       TEXT NOT NULL,
    fingerprint    TEXT NOT NULL,
    verdict        TEXT NOT NULL CHECK (verdict IN ('true_match', 'false_positive')),
    status         TEXT NOT NULL CHECK (status IN ('pending', 'effective', 'superseded')),
    reason         TEXT NOT NULL,
    operator_id    TEXT NOT NULL REFERENCES operators (id),
    confirmed_by   TEXT REFERENCES operators (id),
    created_at     TEXT NOT NULL,
    confirmed_at   TEXT
);
CREATE INDEX hit_verdicts_customer ON hit_verdicts (customer_id, seq);
