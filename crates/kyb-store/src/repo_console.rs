//! The review console's data: sign-in and console sessions, the review queue, and decisions — each written with its status
//! change, webhook events and audit row in one transaction. Compiled once per database.

use chrono::{DateTime, Duration, Utc};
use kyb_domain::{transition, Action, CustomerId, PlatformId, VerificationStatus};
use serde_json::json;

use super::repo::{insert_audit, insert_events, replace_link, AuditEntry, Backend, Target, Tx};
use super::repo_casework::insert_note;
use super::repo_checks::{failed_jobs, failed_summary};
use super::repo_hosted::customer_by_id;
use super::repo_operators::OperatorRow;
use super::repo_verdicts::{hits_standing, HitsStanding};
use crate::model::*;
use crate::StoreError;

impl Backend {
    pub async fn operator_for_login(
        &self,
        email: &str,
    ) -> Result<Option<OperatorLogin>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            op: OperatorRow,
            password_hash: String,
            locked_until: Option<DateTime<Utc>>,
            disabled_at: Option<DateTime<Utc>>,
        }
        let row: Option<Row> = sqlx::query_as(
            "SELECT id, email, role, created_at, password_hash, locked_until, disabled_at FROM operators \
             WHERE email = $1",
        )
        .bind(email)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(OperatorLogin {
                operator: r.op.try_into()?,
                password_hash: r.password_hash,
                locked_until: r.locked_until,
                disabled: r.disabled_at.is_some(),
            })
        })
        .transpose()
    }

    /// A successful login: the failure count starts again, and a session begins.
    pub async fn start_console_session(
        &self,
        operator_id: &str,
        id_hash: &str,
        csrf_token: &str,
        at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let (mut tx, _guard) = self.begin_write().await?;
        sqlx::query("UPDATE operators SET failed_logins = 0, locked_until = NULL WHERE id = $1")
            .bind(operator_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO console_sessions (id_hash, operator_id, csrf_token, created_at, last_seen_at, expires_at) \
             VALUES ($1, $2, $3, $4, $4, $5)",
        )
        .bind(id_hash)
        .bind(operator_id)
        .bind(csrf_token)
        .bind(at)
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A live session (not ended, not expired, used within `idle`), touched now.
    pub async fn find_console_session(
        &self,
        id_hash: &str,
        now: DateTime<Utc>,
        idle: Duration,
    ) -> Result<Option<ConsoleSession>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            op: OperatorRow,
            csrf_token: String,
        }
        let row: Option<Row> = sqlx::query_as(
            "SELECT o.id, o.email, o.role, o.created_at, s.csrf_token FROM console_sessions s \
             JOIN operators o ON o.id = s.operator_id WHERE s.id_hash = $1 AND s.ended_at IS NULL \
             AND s.expires_at > $2 AND s.last_seen_at > $3 AND o.disabled_at IS NULL",
        )
        .bind(id_hash)
        .bind(now)
        .bind(now - idle)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        sqlx::query("UPDATE console_sessions SET last_seen_at = $1 WHERE id_hash = $2")
            .bind(now)
            .bind(id_hash)
            .execute(&self.pool)
            .await?;
        Ok(Some(ConsoleSession {
            operator: row.op.try_into()?,
            csrf_token: row.csrf_token,
        }))
    }

    pub async fn end_console_session(
        &self,
        id_hash: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE console_sessions SET ended_at = $1 WHERE id_hash = $2 AND ended_at IS NULL",
        )
        .bind(at)
        .bind(id_hash)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The platform of a customer, for the console (which sees every platform).
    pub async fn customer_platform(
        &self,
        customer_id: &CustomerId,
    ) -> Result<Option<(PlatformId, String)>, StoreError> {
        let row: Option<(String, String)> = sqlx::query_as(
            "SELECT c.platform_id, p.name FROM business_customers c JOIN platforms p ON p.id = c.platform_id \
             WHERE c.id = $1",
        )
        .bind(customer_id.as_str())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(id, name)| (PlatformId::from_trusted(id), name)))
    }

    pub async fn decisions(
        &self,
        platform_id: &PlatformId,
        customer_id: &CustomerId,
    ) -> Result<Vec<DecisionRecord>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            email: String,
            action: String,
            reason_code: Option<String>,
            note: Option<String>,
            message: Option<String>,
            created_at: DateTime<Utc>,
        }
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT o.email, d.action, d.reason_code, d.note, d.message, d.created_at FROM case_decisions d \
             JOIN operators o ON o.id = d.operator_id WHERE d.platform_id = $1 AND d.customer_id = $2 \
             ORDER BY d.seq",
        )
        .bind(platform_id.as_str())
        .bind(customer_id.as_str())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| DecisionRecord {
                operator_email: r.email,
                action: r.action,
                reason_code: r.reason_code,
                note: r.note,
                message: r.message,
                created_at: r.created_at,
            })
            .collect())
    }

    /// A reviewer looked at a flagged case (a new sanctions hit after approval) and keeps it as
    /// it is: the flag is cleared, and the audit row says who and why.
    pub async fn clear_review_flag(
        &self,
        platform_id: &PlatformId,
        customer_id: &CustomerId,
        operator: &Operator,
        note: &str,
        ctx: &AuditContext,
    ) -> Result<(), StoreError> {
        let (mut tx, _guard) = self.begin_write().await?;
        let before = customer_by_id(
            &mut tx,
            platform_id.as_str(),
            customer_id.as_str(),
            ctx.at,
            true,
        )
        .await?;
        let Some(flag) = before.review.review_flag.clone() else {
            return Err(StoreError::Refused {
                code: "not_flagged",
                message: "this case is not flagged".into(),
            });
        };
        sqlx::query(
            "UPDATE business_customers SET review_flag = NULL, updated_at = $1 WHERE id = $2",
        )
        .bind(ctx.at)
        .bind(customer_id.as_str())
        .execute(&mut *tx)
        .await?;
        let entries = AuditEntry::single(
            "business_customer.flag_cleared",
            Target::new("business_customer", customer_id.as_str()),
            json!({
                "flag": flag,
                "operator": operator.email,
                "note": crate::audit::text_digest(note),
                "status": before.verification_status,
            }),
        );
        insert_note(
            &mut tx,
            &before,
            operator,
            &format!("Cleared the flag {flag}: {note}"),
            ctx.at,
        )
        .await?;
        insert_audit(&mut tx, platform_id, Some(before.mode), ctx, entries).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Where an approval of the case stands for `operator`, by the rule `decide` applies
    /// (`approval_rule`): the refusal it would meet, if any, and the admins' approvals so far.
    /// Reads only.
    pub async fn approval_standing(
        &self,
        platform_id: &PlatformId,
        customer_id: &CustomerId,
        operator: &Operator,
        now: DateTime<Utc>,
    ) -> Result<ApprovalStanding, StoreError> {
        let mut tx = self.pool.begin().await?;
        let customer = customer_by_id(
            &mut tx,
            platform_id.as_str(),
            customer_id.as_str(),
            now,
            false,
        )
        .await?;
        let failed = failed_jobs(&mut tx, platform_id.as_str(), customer_id.as_str()).await?;
        let facts = approval_facts(&mut tx, &customer, !failed.is_empty()).await?;
        tx.rollback().await?;
        let refusal = match approval_rule(&facts, operator) {
            Ok(_) => None,
            Err(StoreError::Refused { code, .. }) => Some(code),
            Err(e) => return Err(e),
        };
        Ok(ApprovalStanding {
            refusal,
            two_admins: matches!(facts.hits, HitsStanding::Uncleared),
            approvals: facts.first_approvals.len(),
        })
    }

    /// A reviewer's decision, with its status change, events and audit row in one transaction.
    /// Approving a case whose latest sanctions check hit needs two different admins: the first
    /// approval is recorded and the case waits for the second.
    pub async fn decide(
        &self,
        platform_id: &PlatformId,
        customer_id: &CustomerId,
        operator: &Operator,
        action: DecisionAction,
        ctx: &AuditContext,
        events: impl FnOnce(&Customer, VerificationStatus, bool) -> Vec<NewEvent>,
    ) -> Result<DecisionOutcome, StoreError> {
        let (mut tx, _guard) = self.begin_write().await?;
        let decider = Decider::Operator(operator);
        let outcome = decide_in(
            &mut tx,
            platform_id,
            customer_id,
            decider,
            action,
            ctx,
            events,
        )
        .await?;
        tx.commit().await?;
        Ok(outcome)
    }
}

/// A decision in the caller's transaction (`Backend::decide`; a test-mode simulation).
pub(super) async fn decide_in(
    tx: &mut Tx,
    platform_id: &PlatformId,
    customer_id: &CustomerId,
    decider: Decider<'_>,
    action: DecisionAction,
    ctx: &AuditContext,
    events: impl FnOnce(&Customer, VerificationStatus, bool) -> Vec<NewEvent>,
) -> Result<DecisionOutcome, StoreError> {
    let before =
        customer_by_id(tx, platform_id.as_str(), customer_id.as_str(), ctx.at, true).await?;
    let (verb, kind) = match &action {
        DecisionAction::Approve => (Action::Approve, "approve"),
        DecisionAction::Reject { .. } => (Action::Reject, "reject"),
        DecisionAction::RequestInfo { .. } => (Action::RequestInfo, "request_info"),
    };
    let to = transition(before.verification_status, verb)?;
    let mut recorded = kind;
    // Checks that failed every run do not stop a decision: an admin may take it with the
    // failure on record (in the decision's audit row); a reviewer may not approve.
    let failed = failed_jobs(tx, platform_id.as_str(), customer_id.as_str()).await?;
    let failed_on_record = (!failed.is_empty()).then(|| failed_summary(&failed));
    // What the sanctions hits stood at, for a simulation's audit row.
    let mut hits_of_record = None;
    match decider {
        Decider::Operator(operator) => {
            if let DecisionAction::Approve = action {
                let facts = approval_facts(tx, &before, !failed.is_empty()).await?;
                recorded = approval_rule(&facts, operator)?;
            }
        }
        Decider::Simulation => {
            let facts = approval_facts(tx, &before, !failed.is_empty()).await?;
            simulated_decision(&facts, matches!(action, DecisionAction::Approve))?;
            hits_of_record = Some(match facts.hits {
                HitsStanding::Clear => "clear",
                HitsStanding::Uncleared => "uncleared",
                HitsStanding::ConfirmedMatch => "confirmed_match",
            });
        }
    }
    let (reason_code, note, items, message) = match &action {
        DecisionAction::Reject { reason_code, note } => {
            (Some(reason_code.clone()), Some(note.clone()), None, None)
        }
        DecisionAction::RequestInfo { info, .. } => (
            None,
            None,
            Some(serde_json::to_string(&info.items).expect("strings serialise")),
            Some(info.message.clone()),
        ),
        DecisionAction::Approve => (None, None, None, None),
    };
    // The console's record of who decided; a simulation has no operator (its audit row says
    // it was one).
    if let Decider::Operator(operator) = decider {
        sqlx::query(
            "INSERT INTO case_decisions (id, customer_id, platform_id, operator_id, action, reason_code, note, items, message, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(format!("dec_{}", &kyb_domain::AuditId::generate().as_str()[4..]))
        .bind(customer_id.as_str())
        .bind(platform_id.as_str())
        .bind(&operator.id)
        .bind(recorded)
        .bind(reason_code.as_deref())
        .bind(note.as_deref())
        .bind(items.as_deref())
        .bind(message.as_deref())
        .bind(ctx.at)
        .execute(&mut **tx)
        .await?;
    }
    let target = Target::new("business_customer", customer_id.as_str());
    if recorded == "first_approval" {
        let entries = AuditEntry::single(
            "business_customer.first_approval",
            target,
            json!({
                "operator": decider.name(),
                "needs": "a second admin's approval (sanctions hit)",
                "failed_checks": failed_on_record,
            }),
        );
        insert_audit(tx, platform_id, Some(before.mode), ctx, entries).await?;
        return Ok(DecisionOutcome::AwaitingSecondApproval);
    }
    let scope = Scope {
        platform_id: platform_id.clone(),
        mode: before.mode,
    };
    let (rejection, info) = match &action {
        DecisionAction::Reject { reason_code, .. } => {
            (Some(json!([reason_code]).to_string()), None)
        }
        DecisionAction::RequestInfo { info, link } => {
            let link = follow_up_link(tx, platform_id, customer_id, link, ctx.at).await?;
            replace_link(tx, &scope, customer_id, &link, ctx.at).await?;
            // What each item holds now, so that a change since can be told.
            let mut info = info.clone();
            info.baseline = info
                .items
                .iter()
                .map(|i| (i.clone(), before.facts.fingerprint(i)))
                .collect();
            info.confirmed.clear();
            (
                None,
                Some(serde_json::to_string(&info).expect("serialises")),
            )
        }
        DecisionAction::Approve => (None, None),
    };
    sqlx::query(
        "UPDATE business_customers SET verification_status = $1, rejection_reasons = $2, info_request = $3, \
         review_flag = NULL, progress = CASE WHEN $1 = 'more_info' THEN 'in_progress' ELSE progress END, \
         updated_at = $4 WHERE id = $5",
    )
    .bind(to.as_str())
    .bind(rejection.as_deref())
    .bind(info.as_deref())
    .bind(ctx.at)
    .bind(customer_id.as_str())
    .execute(&mut **tx)
    .await?;
    let after = customer_by_id(
        tx,
        platform_id.as_str(),
        customer_id.as_str(),
        ctx.at,
        false,
    )
    .await?;
    let new_link = matches!(action, DecisionAction::RequestInfo { .. });
    insert_events(
        tx,
        &scope,
        &events(&after, before.verification_status, new_link),
        ctx.at,
    )
    .await?;
    let action_name = match to {
        VerificationStatus::Approved => "business_customer.approved",
        VerificationStatus::Rejected => "business_customer.rejected",
        _ => "business_customer.info_requested",
    };
    let mut details = json!({
        "previous_status": before.verification_status,
        "status": to,
        "operator": decider.name(),
        "reason_code": reason_code,
        "note": note.as_deref().filter(|n| !n.is_empty()).map(crate::audit::text_digest),
        "items": items.as_deref().map(|i| serde_json::from_str::<serde_json::Value>(i).unwrap_or_default()),
        "message": message,
        "failed_checks": failed_on_record,
    });
    if let Decider::Simulation = decider {
        details["simulated"] = json!(true);
        details["sanctions_hits"] = json!(hits_of_record);
    }
    insert_audit(
        tx,
        platform_id,
        Some(before.mode),
        ctx,
        AuditEntry::single(action_name, target, details),
    )
    .await?;
    Ok(DecisionOutcome::Done(to))
}

/// The link a request for more information sends: the platform's own link lifetime when it has
/// one (else the one given, the service's), and the return URL of the customer's newest link
/// when the request gives none.
async fn follow_up_link(
    tx: &mut Tx,
    platform_id: &PlatformId,
    customer_id: &CustomerId,
    link: &NewLink,
    now: DateTime<Utc>,
) -> Result<NewLink, StoreError> {
    let mut link = link.clone();
    let ttl: Option<i64> = sqlx::query_scalar("SELECT link_ttl_secs FROM platforms WHERE id = $1")
        .bind(platform_id.as_str())
        .fetch_one(&mut **tx)
        .await?;
    if let Some(secs) = ttl {
        link.expires_at = now + Duration::seconds(secs);
        link.expires_at = link.expires_at
            - Duration::nanoseconds(i64::from(link.expires_at.timestamp_subsec_nanos()));
    }
    if link.return_url.is_none() {
        link.return_url = sqlx::query_scalar(
            "SELECT return_url FROM kyb_links WHERE customer_id = $1 \
             ORDER BY created_at DESC, CASE WHEN return_url IS NULL THEN 1 ELSE 0 END LIMIT 1",
        )
        .bind(customer_id.as_str())
        .fetch_optional(&mut **tx)
        .await?
        .flatten();
    }
    Ok(link)
}

/// What approving a case depends on, read in the caller's transaction.
struct ApprovalFacts {
    failed_checks: bool,
    checks_running: bool,
    hits: HitsStanding,
    /// The admins (each once) who gave a first approval since the last submission (read when
    /// the hits need two admins).
    first_approvals: Vec<String>,
}

async fn approval_facts(
    tx: &mut Tx,
    customer: &Customer,
    failed_checks: bool,
) -> Result<ApprovalFacts, StoreError> {
    let pending: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM check_jobs WHERE customer_id = $1 AND status = 'pending'",
    )
    .bind(customer.id.as_str())
    .fetch_one(&mut **tx)
    .await?;
    let hits = hits_standing(tx, customer.id.as_str()).await?;
    let first_approvals = match hits {
        HitsStanding::Uncleared => first_approvals(tx, customer).await?,
        _ => Vec::new(),
    };
    Ok(ApprovalFacts {
        failed_checks,
        checks_running: pending > 0,
        hits,
        first_approvals,
    })
}

/// Whether `operator` may approve the case now, and as what: `"approve"`, or `"first_approval"`
/// (a case with uncleared sanctions hits needs two admins); otherwise the refusal. The one rule
/// for the decision and for the case page, which offers only what would be accepted.
fn approval_rule(f: &ApprovalFacts, operator: &Operator) -> Result<&'static str, StoreError> {
    let admin = operator.role == OperatorRole::Admin;
    if f.failed_checks && !admin {
        return Err(StoreError::refused(
            "checks_failed",
            "an automated check of this case failed: run it again, or ask an admin to decide with the failure on record",
        ));
    }
    if f.checks_running {
        return Err(StoreError::refused(
            "checks_running",
            "the automated checks of this case have not finished: approve once their results are in",
        ));
    }
    // Hits not cleared by two admins need two admins to approve; a confirmed match cannot be
    // approved at all.
    match f.hits {
        HitsStanding::ConfirmedMatch => Err(StoreError::refused(
            "confirmed_match",
            "a sanctions hit of this case is confirmed as a true match: reject the case",
        )),
        HitsStanding::Uncleared if !admin => Err(StoreError::refused(
            "admins_only",
            "this case has a sanctions hit: only admins may approve it, and two of them must",
        )),
        HitsStanding::Uncleared => {
            let by_another = f.first_approvals.iter().any(|o| *o != operator.id);
            if by_another {
                Ok("approve")
            } else if f.first_approvals.contains(&operator.id) {
                Err(StoreError::refused(
                    "second_admin_needed",
                    "you already approved this case: a second admin must approve it",
                ))
            } else {
                Ok("first_approval")
            }
        }
        HitsStanding::Clear => Ok("approve"),
    }
}

/// A test-mode simulation decides once the checks have finished, and approves as an admin
/// would: failed checks and uncleared hits stand on record in the audit row; a confirmed match
/// still cannot be approved.
fn simulated_decision(f: &ApprovalFacts, approve: bool) -> Result<(), StoreError> {
    if f.checks_running {
        return Err(StoreError::refused(
            "checks_running",
            "the automated checks of this customer have not finished: simulate the decision again in a moment",
        ));
    }
    if approve && matches!(f.hits, HitsStanding::ConfirmedMatch) {
        return Err(StoreError::refused(
            "confirmed_match",
            "a sanctions hit of this customer is confirmed as a true match: it can only be rejected",
        ));
    }
    Ok(())
}

/// The operators who gave a first approval since the case was last submitted.
async fn first_approvals(tx: &mut Tx, customer: &Customer) -> Result<Vec<String>, StoreError> {
    let since: Option<DateTime<Utc>> =
        sqlx::query_scalar("SELECT submitted_at FROM business_customers WHERE id = $1")
            .bind(customer.id.as_str())
            .fetch_one(&mut **tx)
            .await?;
    Ok(sqlx::query_scalar(
        "SELECT DISTINCT operator_id FROM case_decisions WHERE customer_id = $1 AND action = 'first_approval' \
         AND created_at >= $2",
    )
    .bind(customer.id.as_str())
    .bind(since.unwrap_or(customer.created_at))
    .fetch_all(&mut **tx)
    .await?)
}
