-- A check job that failed every run it was allowed is `failed`, kept with its last error for a
-- person to see and re-run. Kept in step with ../sqlite/0010_check_failures.sql.
ALTER TABLE check_jobs DROP CONSTRAINT check_jobs_status_check;
ALTER TABLE check_jobs ADD CONSTRAINT check_jobs_status_check
    CHECK (status IN ('pending', 'done', 'failed'));
CREATE INDEX check_jobs_failed ON check_jobs (customer_id) WHERE status = 'failed';
