-- Case work in the console: who works on a case, and the operators' internal notes (never
-- shown to the platform or the customer; the audit row keeps only their SHA-256).
-- Kept in step with ../sqlite/0011_case_work.sql.

ALTER TABLE business_customers ADD COLUMN assignee_id TEXT REFERENCES operators (id);
ALTER TABLE business_customers ADD COLUMN assigned_at TIMESTAMPTZ;
CREATE INDEX business_customers_assignee ON business_customers (assignee_id);

CREATE TABLE case_notes (
    seq          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id           TEXT NOT NULL UNIQUE,
    customer_id  TEXT NOT NULL REFERENCES business_customers (id),
    platform_id  TEXT NOT NULL REFERENCES platforms (id),
    operator_id  TEXT NOT NULL REFERENCES operators (id),
    body         TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX case_notes_customer ON case_notes (customer_id, seq);
