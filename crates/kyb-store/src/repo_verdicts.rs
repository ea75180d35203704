//! Reviewers' verdicts on sanctions hits: a true match, or a false positive that two admins
//! agree on. A verdict names the customer and the list entry, and the entry's fingerprint
//! (names, dates of birth, countries) when judged: a false positive holds while the entry stays
//! the same, so a re-screening after a list update does not raise it again. Every verdict is
//! an audit row. Compiled once per database, like `repo.rs`.

use chrono::{DateTime, Utc};
use kyb_domain::{CustomerId, PlatformId, VerdictId};
use serde_json::json;

use super::repo::{insert_audit, AuditEntry, Backend, Target, Tx};
use super::repo_hosted::customer_by_id;
use crate::model::*;
use crate::StoreError;

/// A hit of the customer's latest sanctions check: list, entry id, fingerprint.
pub(super) struct LatestHit {
    pub list: String,
    pub entry_id: String,
    pub fingerprint: String,
}

/// The hits of a customer's latest sanctions check.
pub(super) async fn latest_hits(
    tx: &mut Tx,
    customer_id: &str,
) -> Result<Vec<LatestHit>, StoreError> {
    let evidence: Option<String> = sqlx::query_scalar(
        "SELECT evidence FROM check_results WHERE customer_id = $1 AND kind = 'sanctions' \
         ORDER BY seq DESC LIMIT 1",
    )
    .bind(customer_id)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(evidence) = evidence else {
        return Ok(Vec::new());
    };
    let v: serde_json::Value = serde_json::from_str(&evidence).map_err(|_| {
        StoreError::Corrupt(format!("the sanctions check of {customer_id} is not JSON"))
    })?;
    Ok(v["hits"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|h| {
            let (list, entry_id) = kyb_screening::hit_entry(h)?;
            Some(LatestHit {
                list,
                entry_id,
                fingerprint: h["fingerprint"].as_str().unwrap_or_default().to_owned(),
            })
        })
        .collect())
}

#[derive(sqlx::FromRow)]
struct VerdictRow {
    id: String,
    list_source: String,
    entry_id: String,
    fingerprint: String,
    verdict: String,
    status: String,
    reason: String,
    operator_email: String,
    confirmed_by_email: Option<String>,
    created_at: DateTime<Utc>,
    confirmed_at: Option<DateTime<Utc>>,
}

const VERDICT_COLUMNS: &str =
    "v.id, v.list_source, v.entry_id, v.fingerprint, v.verdict, v.status, v.reason, \
     o.email AS operator_email, c.email AS confirmed_by_email, v.created_at, v.confirmed_at \
     FROM hit_verdicts v JOIN operators o ON o.id = v.operator_id \
     LEFT JOIN operators c ON c.id = v.confirmed_by";

impl TryFrom<VerdictRow> for HitVerdict {
    type Error = StoreError;

    fn try_from(r: VerdictRow) -> Result<Self, StoreError> {
        Ok(HitVerdict {
            verdict: Verdict::parse(&r.verdict).ok_or_else(|| {
                StoreError::Corrupt(format!("verdict {} is {:?}", r.id, r.verdict))
            })?,
            id: VerdictId::from_trusted(r.id),
            list: r.list_source,
            entry_id: r.entry_id,
            fingerprint: r.fingerprint,
            status: r.status,
            reason: r.reason,
            operator_email: r.operator_email,
            confirmed_by_email: r.confirmed_by_email,
            created_at: r.created_at,
            confirmed_at: r.confirmed_at,
        })
    }
}

/// The verdicts of a customer that are not superseded, oldest first.
pub(super) async fn current_verdicts(
    tx: &mut Tx,
    customer_id: &str,
) -> Result<Vec<HitVerdict>, StoreError> {
    let rows: Vec<VerdictRow> = sqlx::query_as(&format!(
        "SELECT {VERDICT_COLUMNS} WHERE v.customer_id = $1 AND v.status <> 'superseded' ORDER BY v.seq"
    ))
    .bind(customer_id)
    .fetch_all(&mut **tx)
    .await?;
    rows.into_iter().map(HitVerdict::try_from).collect()
}

/// What approving a case must respect of its sanctions hits: any hit confirmed as a true match
/// forbids it; hits not cleared as false positives (for the entry as it is now) need two admins.
pub(super) enum HitsStanding {
    Clear,
    Uncleared,
    ConfirmedMatch,
}

pub(super) async fn hits_standing(
    tx: &mut Tx,
    customer_id: &str,
) -> Result<HitsStanding, StoreError> {
    let hits = latest_hits(tx, customer_id).await?;
    let verdicts = current_verdicts(tx, customer_id).await?;
    let effective = |h: &LatestHit, v: Verdict| {
        verdicts
            .iter()
            .any(|x| x.holds(v, &h.list, &h.entry_id, &h.fingerprint))
    };
    if hits.iter().any(|h| effective(h, Verdict::TrueMatch)) {
        return Ok(HitsStanding::ConfirmedMatch);
    }
    Ok(
        if hits.iter().all(|h| effective(h, Verdict::FalsePositive)) {
            HitsStanding::Clear
        } else {
            HitsStanding::Uncleared
        },
    )
}

/// Every verdict on the entry for the customer but `keep` is superseded.
async fn supersede(
    tx: &mut Tx,
    customer_id: &CustomerId,
    list: &str,
    entry_id: &str,
    keep: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE hit_verdicts SET status = 'superseded' WHERE customer_id = $1 AND list_source = $2 \
         AND entry_id = $3 AND status <> 'superseded' AND id <> $4",
    )
    .bind(customer_id.as_str())
    .bind(list)
    .bind(entry_id)
    .bind(keep)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Backend {
    /// The verdicts on a customer's hits that are not superseded, oldest first.
    pub async fn hit_verdicts(
        &self,
        platform_id: &PlatformId,
        customer_id: &CustomerId,
    ) -> Result<Vec<HitVerdict>, StoreError> {
        let rows: Vec<VerdictRow> = sqlx::query_as(&format!(
            "SELECT {VERDICT_COLUMNS} WHERE v.platform_id = $1 AND v.customer_id = $2 \
             AND v.status <> 'superseded' ORDER BY v.seq"
        ))
        .bind(platform_id.as_str())
        .bind(customer_id.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(HitVerdict::try_from).collect()
    }

    /// Records a reviewer's verdict on one hit of the customer's latest sanctions check. A true
    /// match holds at once. A false positive is for admins, and needs two: the first is recorded
    /// as pending, a different admin's makes it effective. The verdict and its audit row are
    /// one transaction.
    #[allow(clippy::too_many_arguments)]
    pub async fn record_verdict(
        &self,
        platform_id: &PlatformId,
        customer_id: &CustomerId,
        operator: &Operator,
        list: &str,
        entry_id: &str,
        verdict: Verdict,
        reason: &str,
        ctx: &AuditContext,
    ) -> Result<VerdictOutcome, StoreError> {
        let (mut tx, _guard) = self.begin_write().await?;
        let customer = customer_by_id(
            &mut tx,
            platform_id.as_str(),
            customer_id.as_str(),
            ctx.at,
            true,
        )
        .await?;
        let hits = latest_hits(&mut tx, customer_id.as_str()).await?;
        let Some(hit) = hits
            .iter()
            .find(|h| h.list == list && h.entry_id == entry_id)
        else {
            return Err(StoreError::Refused {
                code: "not_a_hit",
                message: "that entry is not a hit of this case's latest sanctions check".into(),
            });
        };
        if verdict == Verdict::FalsePositive && operator.role != OperatorRole::Admin {
            return Err(StoreError::Refused {
                code: "admins_only_clear",
                message: "only admins may clear a hit as a false positive, and two of them must"
                    .into(),
            });
        }
        let current = current_verdicts(&mut tx, customer_id.as_str()).await?;
        let same_entry = |v: &&HitVerdict| v.list == list && v.entry_id == entry_id;
        let pending_by_other = current.iter().filter(same_entry).find(|v| {
            v.status == "pending"
                && v.verdict == Verdict::FalsePositive
                && v.fingerprint == hit.fingerprint
        });
        let outcome = match (verdict, pending_by_other) {
            (Verdict::FalsePositive, Some(first)) => {
                if first.operator_email == operator.email {
                    return Err(StoreError::Refused {
                        code: "second_admin_needed_clear",
                        message: "you already cleared this hit: a second admin must clear it too"
                            .into(),
                    });
                }
                sqlx::query(
                    "UPDATE hit_verdicts SET status = 'effective', confirmed_by = $1, confirmed_at = $2 WHERE id = $3",
                )
                .bind(&operator.id)
                .bind(ctx.at)
                .bind(first.id.as_str())
                .execute(&mut *tx)
                .await?;
                supersede(&mut tx, customer_id, list, entry_id, first.id.as_str()).await?;
                VerdictOutcome::Effective
            }
            _ => {
                let id = VerdictId::generate();
                let status = match verdict {
                    Verdict::TrueMatch => "effective",
                    Verdict::FalsePositive => "pending",
                };
                if verdict == Verdict::TrueMatch {
                    supersede(&mut tx, customer_id, list, entry_id, "").await?;
                }
                sqlx::query(
                    "INSERT INTO hit_verdicts (id, platform_id, customer_id, list_source, entry_id, fingerprint, \
                     verdict, status, reason, operator_id, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                )
                .bind(id.as_str())
                .bind(platform_id.as_str())
                .bind(customer_id.as_str())
                .bind(list)
                .bind(entry_id)
                .bind(&hit.fingerprint)
                .bind(verdict.as_str())
                .bind(status)
                .bind(reason)
                .bind(&operator.id)
                .bind(ctx.at)
                .execute(&mut *tx)
                .await?;
                if verdict == Verdict::TrueMatch {
                    VerdictOutcome::Effective
                } else {
                    VerdictOutcome::AwaitingSecondAdmin
                }
            }
        };
        let entries = AuditEntry::single(
            "sanctions_hit.verdict",
            Target::new("business_customer", customer_id.as_str()),
            json!({
                "list": list,
                "entry_id": entry_id,
                "fingerprint": hit.fingerprint,
                "verdict": verdict,
                "reason": crate::audit::text_digest(reason),
                "operator": operator.email,
                "effective": outcome == VerdictOutcome::Effective,
            }),
        );
        insert_audit(&mut tx, platform_id, Some(customer.mode), ctx, entries).await?;
        tx.commit().await?;
        Ok(outcome)
    }
}
