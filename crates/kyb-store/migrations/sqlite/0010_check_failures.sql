-- A check job that failed every run it was allowed is `failed`, kept with its last error for a
-- person to see and re-run. Kept in step with ../postgres/0010_check_failures.sql.
--
-- SQLite cannot change a CHECK constraint in place: the table is rebuilt with its rows. Check
-- results refer to their job, and dropping a table that rows refer to breaks the foreign key
-- even when the rows come back under the same name; so the results are set aside in a plain
-- copy, and both tables are rebuilt, all in the migration's one transaction.
CREATE TABLE check_results_kept AS SELECT * FROM check_results;
DROP TABLE check_results;

CREATE TABLE check_jobs_new (
    seq               INTEGER PRIMARY KEY AUTOINCREMENT,
    id                TEXT NOT NULL UNIQUE,
    platform_id       TEXT NOT NULL REFERENCES platforms (id),
    livemode          BOOLEAN NOT NULL,
    customer_id       TEXT NOT NULL REFERENCES business_customers (id),
    kind              TEXT NOT NULL CHECK (kind IN ('submission', 'rescreen')),
    status            TEXT NOT NULL CHECK (status IN ('pending', 'done', 'failed')),
    attempts          INTEGER NOT NULL DEFAULT 0,
    run_after         TEXT NOT NULL,
    lease_owner       TEXT,
    lease_expires_at  TEXT,
    last_error        TEXT,
    created_at        TEXT NOT NULL,
    finished_at       TEXT
);
INSERT INTO check_jobs_new (seq, id, platform_id, livemode, customer_id, kind, status, attempts,
    run_after, lease_owner, lease_expires_at, last_error, created_at, finished_at)
SELECT seq, id, platform_id, livemode, customer_id, kind, status, attempts,
    run_after, lease_owner, lease_expires_at, last_error, created_at, finished_at
FROM check_jobs;
DROP TABLE check_jobs;
ALTER TABLE check_jobs_new RENAME TO check_jobs;
CREATE INDEX check_jobs_due ON check_jobs (run_after) WHERE status = 'pending';
CREATE INDEX check_jobs_customer ON check_jobs (customer_id, seq);
CREATE INDEX check_jobs_failed ON check_jobs (customer_id) WHERE status = 'failed';

CREATE TABLE check_results (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           TEXT NOT NULL UNIQUE,
    job_id       TEXT NOT NULL REFERENCES check_jobs (id),
    customer_id  TEXT NOT NULL REFERENCES business_customers (id),
    platform_id  TEXT NOT NULL REFERENCES platforms (id),
    kind         TEXT NOT NULL CHECK (kind IN ('sanctions', 'registry', 'documents')),
    outcome      TEXT NOT NULL CHECK (outcome IN ('pass', 'warn', 'fail')),
    -- JSON: the reason codes, and the evidence behind them.
    reasons      TEXT NOT NULL,
    evidence     TEXT NOT NULL,
    created_at   TEXT NOT NULL
);
INSERT INTO check_results (seq, id, job_id, customer_id, platform_id, kind, outcome, reasons,
    evidence, created_at)
SELECT seq, id, job_id, customer_id, platform_id, kind, outcome, reasons, evidence, created_at
FROM check_results_kept;
DROP TABLE check_results_kept;
CREATE INDEX check_results_customer ON check_results (customer_id, seq);
