//! Automated checks: the durable jobs (claimed with a lease, so a crash resumes them), their
//! results, and the decision they lead to, written in one transaction. Compiled once per
//! database, like `repo.rs`.

use chrono::{DateTime, Utc};
use kyb_domain::{
    transition, Action, CheckId, CheckJobId, CustomerId, Mode, PlatformId, VerificationStatus,
};
use serde_json::json;

use super::repo::{insert_audit, insert_events, AuditEntry, Backend, Target, Tx};
use super::repo_hosted::customer_by_id;
use super::{lock_rows, skip_locked, Db};
use crate::model::*;
use crate::StoreError;

/// Queues a job for a customer, in the caller's transaction.
pub(super) async fn enqueue_job(
    tx: &mut Tx,
    customer: &Customer,
    kind: JobKind,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO check_jobs (id, platform_id, livemode, customer_id, kind, status, run_after, created_at) \
         VALUES ($1, $2, $3, $4, $5, 'pending', $6, $6)",
    )
    .bind(CheckJobId::generate().as_str())
    .bind(customer.platform_id.as_str())
    .bind(customer.mode.is_live())
    .bind(customer.id.as_str())
    .bind(match kind {
        JobKind::Submission => "submission",
        JobKind::Rescreen => "rescreen",
    })
    .bind(at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Queues a re-screening of every approved or in-review customer (all platforms), in the
/// transaction that imports a newer list (`list_id`, which makes the jobs' ids unique even for
/// two imports in the same instant). Returns how many.
pub(super) async fn enqueue_rescreens(
    tx: &mut Tx,
    list_id: &str,
    at: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let done = sqlx::query(
        "INSERT INTO check_jobs (id, platform_id, livemode, customer_id, kind, status, run_after, created_at) \
         SELECT 'job_rs' || c.id || '_' || $1, c.platform_id, c.livemode, c.id, 'rescreen', 'pending', $2, $2 \
         FROM business_customers c WHERE c.verification_status IN ('approved', 'in_review')",
    )
    .bind(list_id)
    .bind(at)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected())
}

/// A check job as the worker's statements read it.
#[derive(sqlx::FromRow)]
struct JobRow {
    id: String,
    kind: String,
    customer_id: String,
    platform_id: String,
    livemode: bool,
    attempts: i32,
    last_error: Option<String>,
}

/// Marks a job `failed` with its error, and says so in the audit trail, in the caller's
/// transaction.
async fn fail_job(
    tx: &mut Tx,
    job: &JobRow,
    error: &str,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE check_jobs SET status = 'failed', last_error = $1, finished_at = $2, \
         lease_owner = NULL, lease_expires_at = NULL WHERE id = $3",
    )
    .bind(error)
    .bind(at)
    .bind(&job.id)
    .execute(&mut **tx)
    .await?;
    let entries = AuditEntry::single(
        "checks.failed",
        Target::new("business_customer", &job.customer_id),
        json!({ "job_id": job.id, "job": job.kind, "attempts": job.attempts, "error": error }),
    );
    let platform = PlatformId::from_trusted(job.platform_id.clone());
    let ctx = AuditContext::system(at);
    insert_audit(
        tx,
        &platform,
        Some(Mode::from_live(job.livemode)),
        &ctx,
        entries,
    )
    .await
}

/// A case's failed jobs, oldest first, on any connection or transaction.
pub(super) async fn failed_jobs(
    conn: &mut <Db as sqlx::Database>::Connection,
    platform_id: &str,
    customer_id: &str,
) -> Result<Vec<FailedJob>, StoreError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        id: String,
        kind: String,
        attempts: i32,
        last_error: Option<String>,
        finished_at: Option<DateTime<Utc>>,
    }
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, kind, attempts, last_error, finished_at FROM check_jobs \
         WHERE platform_id = $1 AND customer_id = $2 AND status = 'failed' ORDER BY seq",
    )
    .bind(platform_id)
    .bind(customer_id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| FailedJob {
            id: CheckJobId::from_trusted(r.id),
            kind: JobKind::from_stored(&r.kind),
            attempts: r.attempts,
            error: r.last_error.unwrap_or_default(),
            failed_at: r.finished_at.unwrap_or_default(),
        })
        .collect())
}

/// Failed jobs as an audit row records them.
pub(super) fn failed_summary(failed: &[FailedJob]) -> serde_json::Value {
    json!(failed
        .iter()
        .map(|j| json!({
            "job_id": j.id, "job": j.kind.as_str(), "attempts": j.attempts,
            "error": j.error, "failed_at": j.failed_at,
        }))
        .collect::<Vec<_>>())
}

impl Backend {
    /// Leases up to `limit` due jobs to `owner`. A due job that already ran `max_attempts`
    /// times (its runner died each time and the lease ran out) is `failed` instead.
    pub async fn claim_check_jobs(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
        max_attempts: u32,
    ) -> Result<Vec<ClaimedJob>, StoreError> {
        let (mut tx, _guard) = self.begin_write().await?;
        let rows: Vec<JobRow> = sqlx::query_as(&format!(
            "SELECT j.id, j.kind, j.customer_id, j.platform_id, j.livemode, j.attempts, j.last_error \
             FROM check_jobs j WHERE j.status = 'pending' AND j.run_after <= $1 \
             AND (j.lease_expires_at IS NULL OR j.lease_expires_at <= $1) \
             ORDER BY j.run_after, j.seq LIMIT $2{}",
            skip_locked("j")
        ))
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await?;
        let mut claimed = Vec::with_capacity(rows.len());
        for r in rows {
            if u32::try_from(r.attempts).unwrap_or(0) >= max_attempts {
                let error = format!(
                    "the runner stopped during the run (its lease ran out) on the last of {} attempts{}",
                    r.attempts,
                    r.last_error
                        .as_deref()
                        .map(|e| format!("; an earlier run failed: {e}"))
                        .unwrap_or_default()
                );
                fail_job(&mut tx, &r, &error, now).await?;
                continue;
            }
            sqlx::query(
                "UPDATE check_jobs SET lease_owner = $1, lease_expires_at = $2, attempts = attempts + 1 \
                 WHERE id = $3",
            )
            .bind(owner)
            .bind(lease_until)
            .bind(&r.id)
            .execute(&mut *tx)
            .await?;
            let auto_approve: bool =
                sqlx::query_scalar("SELECT auto_approve FROM platforms WHERE id = $1")
                    .bind(&r.platform_id)
                    .fetch_one(&mut *tx)
                    .await?;
            claimed.push(ClaimedJob {
                id: CheckJobId::from_trusted(r.id),
                kind: JobKind::from_stored(&r.kind),
                customer_id: CustomerId::from_trusted(r.customer_id),
                platform_id: PlatformId::from_trusted(r.platform_id),
                mode: Mode::from_live(r.livemode),
                attempts: r.attempts + 1,
                auto_approve,
            });
        }
        tx.commit().await?;
        Ok(claimed)
    }

    /// What the checks of a case look at.
    pub async fn case_facts(
        &self,
        platform_id: &PlatformId,
        customer_id: &CustomerId,
        now: DateTime<Utc>,
    ) -> Result<CaseFacts, StoreError> {
        let customer = {
            let mut conn = self.pool.acquire().await?;
            customer_by_id(
                &mut conn,
                platform_id.as_str(),
                customer_id.as_str(),
                now,
                false,
            )
            .await?
        };
        let people = self.people_of(&customer).await?;
        let documents = self.documents_of(platform_id, customer_id).await?;
        #[derive(sqlx::FromRow)]
        struct Dup {
            id: String,
            kind: String,
            sha256: String,
            other_customer: Option<String>,
        }
        // One row per document and other customer of this platform, and one per document for
        // all the customers of other platforms (never named, so never told apart): the same
        // file uploaded several times on either side counts once.
        let mut dups: Vec<Dup> = sqlx::query_as(
            "SELECT DISTINCT d.id, d.kind, d.sha256, \
             CASE WHEN o.platform_id = $2 THEN o.customer_id END AS other_customer \
             FROM documents d JOIN documents o ON o.sha256 = d.sha256 AND o.customer_id <> d.customer_id \
             AND o.deleted_at IS NULL WHERE d.customer_id = $1 AND d.deleted_at IS NULL",
        )
        .bind(customer_id.as_str())
        .bind(platform_id.as_str())
        .fetch_all(&self.pool)
        .await?;
        // By document, the named cases first: the same order on both databases, whatever
        // each does with NULL.
        dups.sort_by(|a, b| {
            (&a.id, a.other_customer.is_none(), &a.other_customer).cmp(&(
                &b.id,
                b.other_customer.is_none(),
                &b.other_customer,
            ))
        });
        let duplicates = dups
            .into_iter()
            .map(|d| DuplicateDocument {
                document_id: d.id,
                kind: d.kind,
                sha256: d.sha256,
                other_customer: d.other_customer.map(CustomerId::from_trusted),
            })
            .collect();
        Ok(CaseFacts {
            customer,
            people,
            documents,
            duplicates,
        })
    }

    /// Records a job's results and its decision in one transaction. `false` when the lease was
    /// lost (another runner finished the job): nothing is written.
    pub async fn complete_check_job(
        &self,
        done: &JobCompletion,
        events: impl FnOnce(&Customer, VerificationStatus) -> Vec<NewEvent>,
    ) -> Result<bool, StoreError> {
        let (mut tx, _guard) = self.begin_write().await?;
        #[derive(sqlx::FromRow)]
        struct Job {
            customer_id: String,
            platform_id: String,
            kind: String,
        }
        let job: Option<Job> = sqlx::query_as(&format!(
            "SELECT j.customer_id, j.platform_id, j.kind FROM check_jobs j WHERE j.id = $1 \
             AND j.status = 'pending' AND j.lease_owner = $2{}",
            lock_rows("j")
        ))
        .bind(done.job_id.as_str())
        .bind(&done.lease_owner)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(job) = job else {
            return Ok(false);
        };
        let before =
            customer_by_id(&mut tx, &job.platform_id, &job.customer_id, done.at, true).await?;
        for r in &done.results {
            sqlx::query(
                "INSERT INTO check_results (id, job_id, customer_id, platform_id, kind, outcome, reasons, evidence, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(CheckId::generate().as_str())
            .bind(done.job_id.as_str())
            .bind(&job.customer_id)
            .bind(&job.platform_id)
            .bind(r.kind.as_str())
            .bind(r.outcome.as_str())
            .bind(serde_json::to_string(&r.reasons).expect("strings serialise"))
            .bind(r.evidence.to_string())
            .bind(done.at)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "UPDATE check_jobs SET status = 'done', finished_at = $1, lease_owner = NULL, \
             lease_expires_at = NULL WHERE id = $2",
        )
        .bind(done.at)
        .bind(done.job_id.as_str())
        .execute(&mut *tx)
        .await?;
        let ctx = AuditContext::system(done.at);
        let summary: Vec<_> = done
            .results
            .iter()
            .map(|r| json!({ "check": r.kind, "outcome": r.outcome, "reasons": r.reasons }))
            .collect();
        let mut entries = vec![AuditEntry {
            action: "checks.completed",
            target: Target::new("business_customer", &job.customer_id),
            details: json!({ "job_id": done.job_id, "job": job.kind, "results": summary }),
        }];
        if let Some(flag) = &done.flag {
            sqlx::query(
                "UPDATE business_customers SET review_flag = $1, updated_at = $2 WHERE id = $3",
            )
            .bind(flag)
            .bind(done.at)
            .bind(&job.customer_id)
            .execute(&mut *tx)
            .await?;
            entries.push(AuditEntry {
                action: "business_customer.flagged_for_review",
                target: Target::new("business_customer", &job.customer_id),
                details: json!({ "reason": flag }),
            });
        }
        if done.approve && before.verification_status == VerificationStatus::InReview {
            let to = transition(before.verification_status, Action::Approve)?;
            sqlx::query(
                "UPDATE business_customers SET verification_status = $1, updated_at = $2 WHERE id = $3",
            )
            .bind(to.as_str())
            .bind(done.at)
            .bind(&job.customer_id)
            .execute(&mut *tx)
            .await?;
            let after =
                customer_by_id(&mut tx, &job.platform_id, &job.customer_id, done.at, false).await?;
            let scope = Scope {
                platform_id: after.platform_id.clone(),
                mode: after.mode,
            };
            insert_events(
                &mut tx,
                &scope,
                &events(&after, before.verification_status),
                done.at,
            )
            .await?;
            entries.push(AuditEntry {
                action: "business_customer.approved",
                target: Target::new("business_customer", &job.customer_id),
                details: json!({
                    "previous_status": before.verification_status,
                    "status": to,
                    "reason": "auto_approve: every check passed and the platform approves clean cases automatically",
                }),
            });
        }
        let platform = PlatformId::from_trusted(job.platform_id.clone());
        insert_audit(&mut tx, &platform, Some(before.mode), &ctx, entries).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// A run of a job that failed: the job is due again at `retry`, or with `JobRetry::GiveUp`
    /// it is `failed` (with an audit row) for a person to look at. `JobRetry::NotCounted` (the
    /// database was unavailable, which is no fault of the job) gives the attempt back.
    pub async fn retry_check_job(
        &self,
        job_id: &CheckJobId,
        owner: &str,
        error: &str,
        retry: JobRetry,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let (mut tx, _guard) = self.begin_write().await?;
        let job: Option<JobRow> = sqlx::query_as(&format!(
            "SELECT j.id, j.kind, j.customer_id, j.platform_id, j.livemode, j.attempts, j.last_error \
             FROM check_jobs j WHERE j.id = $1 AND j.lease_owner = $2 AND j.status = 'pending'{}",
            lock_rows("j")
        ))
        .bind(job_id.as_str())
        .bind(owner)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(job) = job else {
            // The lease was lost meanwhile: whoever holds the job now decides.
            return Ok(());
        };
        let (at, given_back) = match retry {
            JobRetry::At(at) => (at, 0),
            JobRetry::NotCounted(at) => (at, 1),
            JobRetry::GiveUp => {
                fail_job(&mut tx, &job, error, now).await?;
                tx.commit().await?;
                return Ok(());
            }
        };
        sqlx::query(
            "UPDATE check_jobs SET lease_owner = NULL, lease_expires_at = NULL, last_error = $1, \
             run_after = $2, attempts = attempts - $3 WHERE id = $4",
        )
        .bind(error)
        .bind(at)
        .bind(given_back)
        .bind(job_id.as_str())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The failed check jobs of a case, oldest first.
    pub async fn failed_check_jobs(
        &self,
        platform_id: &PlatformId,
        customer_id: &CustomerId,
    ) -> Result<Vec<FailedJob>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        failed_jobs(&mut conn, platform_id.as_str(), customer_id.as_str()).await
    }

    /// Runs a case's failed check jobs again, at once, with their attempts counted from zero;
    /// the audit row keeps the errors they failed with. Refused when none failed.
    pub async fn rerun_failed_checks(
        &self,
        platform_id: &PlatformId,
        customer_id: &CustomerId,
        operator: &Operator,
        ctx: &AuditContext,
    ) -> Result<usize, StoreError> {
        let (mut tx, _guard) = self.begin_write().await?;
        let customer = customer_by_id(
            &mut tx,
            platform_id.as_str(),
            customer_id.as_str(),
            ctx.at,
            true,
        )
        .await?;
        let failed = failed_jobs(&mut tx, platform_id.as_str(), customer_id.as_str()).await?;
        if failed.is_empty() {
            return Err(StoreError::Refused {
                code: "no_failed_checks",
                message: "no check of this case has failed: there is nothing to run again".into(),
            });
        }
        sqlx::query(
            "UPDATE check_jobs SET status = 'pending', attempts = 0, run_after = $1, finished_at = NULL, \
             lease_owner = NULL, lease_expires_at = NULL \
             WHERE platform_id = $2 AND customer_id = $3 AND status = 'failed'",
        )
        .bind(ctx.at)
        .bind(platform_id.as_str())
        .bind(customer_id.as_str())
        .execute(&mut *tx)
        .await?;
        let entries = AuditEntry::single(
            "checks.rerun",
            Target::new("business_customer", customer_id.as_str()),
            json!({ "operator": operator.email, "jobs": failed_summary(&failed) }),
        );
        insert_audit(&mut tx, platform_id, Some(customer.mode), ctx, entries).await?;
        tx.commit().await?;
        Ok(failed.len())
    }

    /// A customer's check results, oldest first.
    pub async fn list_checks(
        &self,
        platform_id: &PlatformId,
        customer_id: &CustomerId,
    ) -> Result<Vec<CheckResult>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            id: String,
            job_id: String,
            kind: String,
            outcome: String,
            reasons: String,
            evidence: String,
            created_at: DateTime<Utc>,
        }
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, job_id, kind, outcome, reasons, evidence, created_at FROM check_results \
             WHERE platform_id = $1 AND customer_id = $2 ORDER BY seq",
        )
        .bind(platform_id.as_str())
        .bind(customer_id.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                let corrupt = || StoreError::Corrupt(format!("check result {} is not JSON", r.id));
                Ok(CheckResult {
                    reasons: serde_json::from_str(&r.reasons).map_err(|_| corrupt())?,
                    evidence: serde_json::from_str(&r.evidence).map_err(|_| corrupt())?,
                    id: r.id,
                    job_id: r.job_id,
                    kind: r.kind,
                    outcome: r.outcome,
                    created_at: r.created_at,
                })
            })
            .collect()
    }

    /// Jobs of a customer not done yet (for tests and operators).
    pub async fn pending_check_jobs(&self, customer_id: &CustomerId) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM check_jobs WHERE customer_id = $1 AND status = 'pending'",
        )
        .bind(customer_id.as_str())
        .fetch_one(&self.pool)
        .await?)
    }

    /// Sets whether a platform's clean cases are approved automatically.
    /// Changes a platform's policies: what `policy` holds, in one write and one audit row.
    pub async fn set_policy(
        &self,
        platform_id: &PlatformId,
        policy: &PlatformPolicy,
        ctx: &AuditContext,
    ) -> Result<(), StoreError> {
        let (mut tx, _guard) = self.begin_write().await?;
        let changed = sqlx::query(
            "UPDATE platforms SET auto_approve = COALESCE($1, auto_approve), \
             link_ttl_secs = CASE WHEN $2 THEN $3 ELSE link_ttl_secs END WHERE id = $4",
        )
        .bind(policy.auto_approve)
        .bind(policy.link_ttl_secs.is_some())
        .bind(policy.link_ttl_secs.flatten())
        .bind(platform_id.as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed == 0 {
            return Err(StoreError::NotFound);
        }
        let mut details = serde_json::Map::new();
        if let Some(on) = policy.auto_approve {
            details.insert("auto_approve".into(), json!(on));
        }
        if let Some(ttl) = policy.link_ttl_secs {
            details.insert("link_ttl_secs".into(), json!(ttl));
        }
        let entries = AuditEntry::single(
            "platform.policy_changed",
            Target::new("platform", platform_id.as_str()),
            serde_json::Value::Object(details),
        );
        insert_audit(&mut tx, platform_id, None, ctx, entries).await?;
        tx.commit().await?;
        Ok(())
    }
}
