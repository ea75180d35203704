//! Case work in the console: who works on a case (claim, release, assign) and the operators'
//! internal notes. Every change is an audit row in the customer's platform chain; of a note the
//! row keeps only its digest (`audit::text_digest`), since the platform reads its audit rows.

use chrono::{DateTime, Utc};
use kyb_domain::{CustomerId, PlatformId};
use serde_json::json;

use super::repo::{insert_audit, AuditEntry, Backend, Target};
use super::repo_hosted::customer_by_id;
use crate::model::*;
use crate::StoreError;

/// Who works on the case, read on any connection or in a transaction.
async fn assignee_of(
    conn: &mut <super::Db as sqlx::Database>::Connection,
    platform_id: &PlatformId,
    customer_id: &CustomerId,
) -> Result<Option<Assignee>, StoreError> {
    let row: Option<(String, String, DateTime<Utc>)> = sqlx::query_as(
        "SELECT o.id, o.email, c.assigned_at FROM business_customers c \
         JOIN operators o ON o.id = c.assignee_id WHERE c.platform_id = $1 AND c.id = $2",
    )
    .bind(platform_id.as_str())
    .bind(customer_id.as_str())
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(|(operator_id, email, assigned_at)| Assignee {
        operator_id,
        email,
        assigned_at,
    }))
}

impl Backend {
    /// Who works on the case, if anyone.
    pub async fn assignee(
        &self,
        platform_id: &PlatformId,
        customer_id: &CustomerId,
    ) -> Result<Option<Assignee>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        assignee_of(&mut conn, platform_id, customer_id).await
    }

    /// Changes who works on a case, with its audit row. A reviewer may take a case nobody has
    /// and give back their own; an admin may also take a case from someone, give it back for
    /// them, or give it to any active operator.
    pub async fn assign_case(
        &self,
        platform_id: &PlatformId,
        customer_id: &CustomerId,
        actor: &Operator,
        change: &Assign,
        ctx: &AuditContext,
    ) -> Result<Option<Assignee>, StoreError> {
        let (mut tx, _guard) = self.begin_write().await?;
        let customer = customer_by_id(
            &mut tx,
            platform_id.as_str(),
            customer_id.as_str(),
            ctx.at,
            true,
        )
        .await?;
        let current = assignee_of(&mut tx, platform_id, customer_id).await?;
        let admin = actor.role == OperatorRole::Admin;
        let held_by_other = current.as_ref().is_some_and(|a| a.operator_id != actor.id);
        let taken = || {
            StoreError::refused(
                "assigned_to_other",
                "this case is assigned to another operator: an admin can reassign it",
            )
        };
        let to: Option<(String, String)> = match change {
            Assign::Claim if held_by_other && !admin => return Err(taken()),
            Assign::Claim => Some((actor.id.clone(), actor.email.clone())),
            Assign::Release if current.is_none() => {
                return Err(StoreError::refused(
                    "not_assigned",
                    "nobody works on this case",
                ))
            }
            Assign::Release if held_by_other && !admin => return Err(taken()),
            Assign::Release => None,
            Assign::To(_) if !admin => {
                return Err(StoreError::refused(
                    "admins_only_assign",
                    "only admins may give a case to another operator",
                ))
            }
            Assign::To(operator_id) => {
                // Only to someone who may see the case: an account limited to other
                // platforms could not open it.
                let found: Option<(String, String)> = sqlx::query_as(
                    "SELECT id, email FROM operators o WHERE id = $1 AND disabled_at IS NULL \
                     AND (NOT EXISTS (SELECT 1 FROM operator_platforms s WHERE s.operator_id = o.id) \
                          OR EXISTS (SELECT 1 FROM operator_platforms s WHERE s.operator_id = o.id \
                                     AND s.platform_id = $2))",
                )
                .bind(operator_id)
                .bind(platform_id.as_str())
                .fetch_optional(&mut *tx)
                .await?;
                Some(found.ok_or_else(|| {
                    StoreError::refused(
                        "no_such_operator",
                        "there is no active operator of that name who may see this platform's cases",
                    )
                })?)
            }
        };
        if current.as_ref().map(|c| &c.operator_id) == to.as_ref().map(|t| &t.0) {
            tx.commit().await?;
            return Ok(current);
        }
        sqlx::query(
            "UPDATE business_customers SET assignee_id = $1, assigned_at = $2 WHERE id = $3",
        )
        .bind(to.as_ref().map(|t| t.0.as_str()))
        .bind(to.as_ref().map(|_| ctx.at))
        .bind(customer_id.as_str())
        .execute(&mut *tx)
        .await?;
        let entries = AuditEntry::single(
            "business_customer.assigned",
            Target::new("business_customer", customer_id.as_str()),
            json!({
                "operator": actor.email,
                "assignee": to.as_ref().map(|t| t.1.as_str()),
                "previous_assignee": current.as_ref().map(|c| c.email.as_str()),
            }),
        );
        insert_audit(&mut tx, platform_id, Some(customer.mode), ctx, entries).await?;
        tx.commit().await?;
        Ok(to.map(|(operator_id, email)| Assignee {
            operator_id,
            email,
            assigned_at: ctx.at,
        }))
    }

    /// Adds an internal note to a case, with an audit row that keeps its digest.
    pub async fn add_case_note(
        &self,
        platform_id: &PlatformId,
        customer_id: &CustomerId,
        operator: &Operator,
        body: &str,
        ctx: &AuditContext,
    ) -> Result<CaseNote, StoreError> {
        let (mut tx, _guard) = self.begin_write().await?;
        let customer = customer_by_id(
            &mut tx,
            platform_id.as_str(),
            customer_id.as_str(),
            ctx.at,
            true,
        )
        .await?;
        let note = insert_note(&mut tx, &customer, operator, body, ctx.at).await?;
        let entries = AuditEntry::single(
            "business_customer.note_added",
            Target::new("business_customer", customer_id.as_str()),
            json!({
                "operator": operator.email,
                "note_id": note.id,
                "note": crate::audit::text_digest(body),
            }),
        );
        insert_audit(&mut tx, platform_id, Some(customer.mode), ctx, entries).await?;
        tx.commit().await?;
        Ok(note)
    }

    /// Everything the audit log holds about a case, oldest first: its own rows and those of
    /// its links, documents and people.
    pub async fn case_timeline(
        &self,
        platform_id: &PlatformId,
        customer_id: &CustomerId,
    ) -> Result<Vec<TimelineEntry>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            actor_type: String,
            actor_id: Option<String>,
            action: String,
            target_type: String,
            details: sqlx::types::Json<serde_json::Value>,
            created_at: DateTime<Utc>,
        }
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT a.actor_type, a.actor_id, a.action, a.target_type, a.details, a.created_at \
                 FROM audit_log a WHERE a.platform_id = $1 AND (a.target_id = $2 \
                 OR a.target_id IN (SELECT id FROM kyb_links WHERE customer_id = $2) \
                 OR a.target_id IN (SELECT id FROM documents WHERE customer_id = $2) \
                 OR a.target_id IN (SELECT id FROM people WHERE customer_id = $2)) \
                 ORDER BY a.seq",
        )
        .bind(platform_id.as_str())
        .bind(customer_id.as_str())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| TimelineEntry {
                actor_type: r.actor_type,
                actor_id: r.actor_id,
                action: r.action,
                target_type: r.target_type,
                details: r.details.0,
                at: r.created_at,
            })
            .collect())
    }

    /// A case's notes, oldest first.
    pub async fn case_notes(
        &self,
        platform_id: &PlatformId,
        customer_id: &CustomerId,
    ) -> Result<Vec<CaseNote>, StoreError> {
        let rows: Vec<(String, String, String, DateTime<Utc>)> = sqlx::query_as(
            "SELECT n.id, o.email, n.body, n.created_at FROM case_notes n \
             JOIN operators o ON o.id = n.operator_id \
             WHERE n.platform_id = $1 AND n.customer_id = $2 ORDER BY n.seq",
        )
        .bind(platform_id.as_str())
        .bind(customer_id.as_str())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, operator_email, body, created_at)| CaseNote {
                id,
                operator_email,
                body,
                created_at,
            })
            .collect())
    }
}

/// Writes a note in the caller's transaction (a note of its own, or the reason an action
/// needed, such as clearing a flag).
pub(super) async fn insert_note(
    conn: &mut <super::Db as sqlx::Database>::Connection,
    customer: &Customer,
    operator: &Operator,
    body: &str,
    at: DateTime<Utc>,
) -> Result<CaseNote, StoreError> {
    let id = format!("note_{}", &kyb_domain::AuditId::generate().as_str()[4..]);
    sqlx::query(
        "INSERT INTO case_notes (id, customer_id, platform_id, operator_id, body, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&id)
    .bind(customer.id.as_str())
    .bind(customer.platform_id.as_str())
    .bind(&operator.id)
    .bind(body)
    .bind(at)
    .execute(&mut *conn)
    .await?;
    Ok(CaseNote {
        id,
        operator_email: operator.email.clone(),
        body: body.to_owned(),
        created_at: at,
    })
}
