-- Automated checks: durable jobs (one per submission, and one per customer to re-screen when a
-- newer sanctions list arrives), their results, and the platform's decision policy.
-- Kept in step with ../sqlite/0006_checks.sql.

-- Whether a case whose checks all pass is approved without a reviewer (default: no).
ALTER TABLE platforms ADD COLUMN auto_approve BOOLEAN NOT NULL DEFAULT FALSE;

-- Why a reviewer must look at a case again (a new sanctions hit on an approved customer).
ALTER TABLE business_customers ADD COLUMN review_flag TEXT;

CREATE TABLE check_jobs (
    seq               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id                TEXT NOT NULL UNIQUE,
    platform_id       TEXT NOT NULL REFERENCES platforms (id),
    livemode          BOOLEAN NOT NULL,
    customer_id       TEXT NOT NULL REFERENCES business_customers (id),
    kind              TEXT NOT NULL CHECK (kind IN ('submission', 'rescreen')),
    status            TEXT NOT NULL CHECK (status IN ('pending', 'done')),
    attempts          INTEGER NOT NULL DEFAULT 0,
    run_after         TIMESTAMPTZ NOT NULL,
    lease_owner       TEXT,
    lease_expires_at  TIMESTAMPTZ,
    last_error        TEXT,
    created_at        TIMESTAMPTZ NOT NULL,
    finished_at       TIMESTAMPTZ
);
CREATE INDEX check_jobs_due ON check_jobs (run_after) WHERE status = 'pending';
CREATE INDEX check_jobs_customer ON check_jobs (customer_id, seq);

CREATE TABLE check_results (
    seq          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id           TEXT NOT NULL UNIQUE,
    job_id       TEXT NOT NULL REFERENCES check_jobs (id),
    customer_id  TEXT NOT NULL REFERENCES business_customers (id),
    platform_id  TEXT NOT NULL REFERENCES platforms (id),
    kind         TEXT NOT NULL CHECK (kind IN ('sanctions', 'registry', 'documents')),
    outcome      TEXT NOT NULL CHECK (outcome IN ('pass', 'warn', 'fail')),
    -- JSON: the reason codes, and the evidence behind them.
    reasons      TEXT NOT NULL,
    evidence     TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX check_results_customer ON check_results (customer_id, seq);
