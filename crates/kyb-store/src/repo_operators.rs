//! Operator accounts, which belong to no platform: creating, disabling and enabling them, their
//! role and the platforms they may see, passwords (a change by the operator ends their other
//! sessions) and one-time reset links an admin makes (only the token's SHA-256 is kept; used
//! once, before it expires; a newer link ends older ones; using it ends every session of the
//! account). Every change writes a row to the installation's audit chain in its transaction.

use chrono::{DateTime, Utc};
use kyb_domain::PlatformId;
use serde_json::json;

use super::repo::{insert_installation_audit, AuditEntry, Backend, Target, Tx};
use crate::model::*;
use crate::{unique_violation, StoreError};

#[derive(sqlx::FromRow)]
pub(super) struct OperatorRow {
    id: String,
    email: String,
    role: String,
    created_at: DateTime<Utc>,
}

impl TryFrom<OperatorRow> for Operator {
    type Error = StoreError;

    fn try_from(r: OperatorRow) -> Result<Self, StoreError> {
        Ok(Operator {
            role: OperatorRole::parse(&r.role).ok_or_else(|| {
                StoreError::Corrupt(format!("operator {} has role {:?}", r.id, r.role))
            })?,
            id: r.id,
            email: r.email,
            created_at: r.created_at,
        })
    }
}

/// Writes one row about an operator account to the installation's audit chain.
async fn audit_account(
    tx: &mut Tx,
    ctx: &AuditContext,
    action: &'static str,
    operator: &Operator,
    mut details: serde_json::Value,
) -> Result<(), StoreError> {
    details["email"] = json!(operator.email);
    let entries = AuditEntry::single(action, Target::new("operator", &operator.id), details);
    insert_installation_audit(tx, ctx, entries).await
}

/// The account of an e-mail address, locked for the rest of the transaction on PostgreSQL.
async fn account_by_email(tx: &mut Tx, email: &str) -> Result<Operator, StoreError> {
    let row: Option<OperatorRow> = sqlx::query_as(&format!(
        "SELECT id, email, role, created_at FROM operators WHERE email = $1{}",
        super::lock_rows("operators")
    ))
    .bind(email)
    .fetch_optional(&mut **tx)
    .await?;
    row.ok_or(StoreError::NotFound)?.try_into()
}

/// The platforms an operator may see (empty: every platform), on any connection.
async fn platforms_of(
    conn: &mut <super::Db as sqlx::Database>::Connection,
    operator_id: &str,
) -> Result<Vec<PlatformId>, StoreError> {
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT platform_id FROM operator_platforms WHERE operator_id = $1 ORDER BY platform_id",
    )
    .bind(operator_id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(ids.into_iter().map(PlatformId::from_trusted).collect())
}

/// A new password (an argon2 hash), which also lifts a sign-in lock.
async fn write_password(
    tx: &mut Tx,
    operator_id: &str,
    password_hash: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE operators SET password_hash = $1, failed_logins = 0, locked_until = NULL \
         WHERE id = $2",
    )
    .bind(password_hash)
    .bind(operator_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Ends every console session of an operator but `keep` (by id hash).
async fn end_sessions(
    tx: &mut Tx,
    operator_id: &str,
    keep: Option<&str>,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE console_sessions SET ended_at = $1 WHERE operator_id = $2 AND ended_at IS NULL \
         AND id_hash <> $3",
    )
    .bind(at)
    .bind(operator_id)
    .bind(keep.unwrap_or(""))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Ends the reset links of an operator that could still be used.
async fn end_reset_links(
    tx: &mut Tx,
    operator_id: &str,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE operator_resets SET expires_at = $1 WHERE operator_id = $2 AND used_at IS NULL \
         AND expires_at > $1",
    )
    .bind(at)
    .bind(operator_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Backend {
    /// Creates an account, limited to `platforms` (empty: every platform) in the same
    /// transaction: an account meant to be limited never exists unlimited.
    pub async fn create_operator(
        &self,
        email: &str,
        role: OperatorRole,
        password_hash: &str,
        platforms: &[PlatformId],
        ctx: &AuditContext,
    ) -> Result<Operator, StoreError> {
        let operator = Operator {
            id: format!("op_{}", &kyb_domain::AuditId::generate().as_str()[4..]),
            email: email.to_owned(),
            role,
            created_at: ctx.at,
        };
        let (mut tx, _guard) = self.begin_write().await?;
        let inserted = sqlx::query(
            "INSERT INTO operators (id, email, role, password_hash, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&operator.id)
        .bind(email)
        .bind(role.as_str())
        .bind(password_hash)
        .bind(ctx.at)
        .execute(&mut *tx)
        .await;
        if let Err(e) = inserted {
            if unique_violation(&e, "operators_email_key", "operators.email") {
                return Err(StoreError::Conflict(format!(
                    "an operator with e-mail {email} already exists"
                )));
            }
            return Err(e.into());
        }
        write_scope(&mut tx, &operator.id, platforms).await?;
        let details = json!({"role": role.as_str(), "platforms": platforms});
        audit_account(&mut tx, ctx, "operator.created", &operator, details).await?;
        tx.commit().await?;
        Ok(operator)
    }

    /// Every operator, with whether the account is disabled.
    pub async fn list_operators(&self) -> Result<Vec<(Operator, bool)>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            op: OperatorRow,
            disabled_at: Option<DateTime<Utc>>,
        }
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, email, role, created_at, disabled_at FROM operators ORDER BY created_at, email",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| Ok((r.op.try_into()?, r.disabled_at.is_some())))
            .collect()
    }

    /// Disables an account (ending its sessions and reset links at once) or enables it again.
    pub async fn set_operator_disabled(
        &self,
        email: &str,
        disabled: bool,
        ctx: &AuditContext,
    ) -> Result<Operator, StoreError> {
        let (mut tx, _guard) = self.begin_write().await?;
        let operator = account_by_email(&mut tx, email).await?;
        sqlx::query("UPDATE operators SET disabled_at = $1, failed_logins = 0, locked_until = NULL WHERE id = $2")
            .bind(disabled.then_some(ctx.at))
            .bind(&operator.id)
            .execute(&mut *tx)
            .await?;
        if disabled {
            end_sessions(&mut tx, &operator.id, None, ctx.at).await?;
            end_reset_links(&mut tx, &operator.id, ctx.at).await?;
        }
        let action = if disabled {
            "operator.disabled"
        } else {
            "operator.enabled"
        };
        audit_account(&mut tx, ctx, action, &operator, json!({})).await?;
        tx.commit().await?;
        Ok(operator)
    }

    /// Every operator's platforms (operator id, platform id), for listing accounts: operators
    /// with none see every platform.
    pub async fn all_operator_platforms(&self) -> Result<Vec<(String, PlatformId)>, StoreError> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT operator_id, platform_id FROM operator_platforms ORDER BY operator_id, platform_id",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(o, p)| (o, PlatformId::from_trusted(p)))
            .collect())
    }

    /// The platforms an operator may see; empty: every platform.
    pub async fn operator_platforms(
        &self,
        operator_id: &str,
    ) -> Result<Vec<PlatformId>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        platforms_of(&mut conn, operator_id).await
    }

    /// Limits an operator to these platforms (empty: every platform). Their sessions end, so
    /// that the new limit holds from the next sign-in on, and no page shown before outlives it.
    pub async fn set_operator_platforms(
        &self,
        email: &str,
        platforms: &[PlatformId],
        ctx: &AuditContext,
    ) -> Result<Operator, StoreError> {
        let (mut tx, _guard) = self.begin_write().await?;
        let operator = account_by_email(&mut tx, email).await?;
        let previous = platforms_of(&mut tx, &operator.id).await?;
        write_scope(&mut tx, &operator.id, platforms).await?;
        end_sessions(&mut tx, &operator.id, None, ctx.at).await?;
        let details = json!({"platforms": platforms, "previous": previous});
        audit_account(
            &mut tx,
            ctx,
            "operator.platforms_changed",
            &operator,
            details,
        )
        .await?;
        tx.commit().await?;
        Ok(operator)
    }

    /// Gives an operator another role. Their sessions end (the role is read at sign-in), and
    /// reset links made while they were a reviewer end too: no link may hold an admin account.
    pub async fn set_operator_role(
        &self,
        email: &str,
        role: OperatorRole,
        ctx: &AuditContext,
    ) -> Result<Operator, StoreError> {
        let (mut tx, _guard) = self.begin_write().await?;
        let mut operator = account_by_email(&mut tx, email).await?;
        let previous = operator.role;
        if previous == role {
            return Ok(operator);
        }
        sqlx::query("UPDATE operators SET role = $1 WHERE id = $2")
            .bind(role.as_str())
            .bind(&operator.id)
            .execute(&mut *tx)
            .await?;
        end_sessions(&mut tx, &operator.id, None, ctx.at).await?;
        end_reset_links(&mut tx, &operator.id, ctx.at).await?;
        operator.role = role;
        let details = json!({"role": role.as_str(), "previous": previous.as_str()});
        audit_account(&mut tx, ctx, "operator.role_changed", &operator, details).await?;
        tx.commit().await?;
        Ok(operator)
    }

    /// Sets an operator's password (an argon2 hash) and ends their sessions but `keep` (the
    /// session that changed it), so that a stolen session does not outlive the change.
    pub async fn set_operator_password(
        &self,
        operator_id: &str,
        password_hash: &str,
        keep: Option<&str>,
        ctx: &AuditContext,
    ) -> Result<(), StoreError> {
        let (mut tx, _guard) = self.begin_write().await?;
        let operator = account_by_id(&mut tx, operator_id, false).await?;
        write_password(&mut tx, operator_id, password_hash).await?;
        end_sessions(&mut tx, operator_id, keep, ctx.at).await?;
        end_reset_links(&mut tx, operator_id, ctx.at).await?;
        audit_account(
            &mut tx,
            ctx,
            "operator.password_changed",
            &operator,
            json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records a reset link for a reviewer (by id), made by an admin (the context's actor);
    /// older unused links of that reviewer end now. Whoever holds a link holds the account, so
    /// there are none for admins (`admin_reset`): one admin could otherwise take over another's
    /// account and be both admins a sanctions case needs. An admin's password is set from the
    /// command line.
    pub async fn create_password_reset(
        &self,
        operator_id: &str,
        id_hash: &str,
        expires_at: DateTime<Utc>,
        ctx: &AuditContext,
    ) -> Result<Operator, StoreError> {
        let created_by = ctx.actor_id.as_deref().ok_or_else(|| {
            StoreError::Corrupt("a reset link is made by a signed-in operator".into())
        })?;
        let (mut tx, _guard) = self.begin_write().await?;
        let operator = account_by_id(&mut tx, operator_id, true).await?;
        if operator.role == OperatorRole::Admin {
            return Err(StoreError::refused(
                "admin_reset",
                "an admin's password is reset on the command line, not by a link",
            ));
        }
        end_reset_links(&mut tx, operator_id, ctx.at).await?;
        sqlx::query(
            "INSERT INTO operator_resets (id_hash, operator_id, created_by, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id_hash)
        .bind(operator_id)
        .bind(created_by)
        .bind(ctx.at)
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
        let details = json!({"expires_at": expires_at});
        audit_account(
            &mut tx,
            ctx,
            "operator.reset_link_created",
            &operator,
            details,
        )
        .await?;
        tx.commit().await?;
        Ok(operator)
    }

    /// The operator a reset link is for, while it can be used.
    pub async fn find_password_reset(
        &self,
        id_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Operator>, StoreError> {
        let row: Option<OperatorRow> = sqlx::query_as(USABLE_RESET)
            .bind(id_hash)
            .bind(now)
            .fetch_optional(&self.pool)
            .await?;
        row.map(TryInto::try_into).transpose()
    }

    /// Uses a reset link: the new password, the link used, every session of the account ended.
    /// `None` when the link cannot be used (unknown, used, expired, its account disabled or now
    /// an admin's). The audit row's actor is whoever held the link: the account itself.
    pub async fn redeem_password_reset(
        &self,
        id_hash: &str,
        password_hash: &str,
        ctx: &AuditContext,
    ) -> Result<Option<Operator>, StoreError> {
        let (mut tx, _guard) = self.begin_write().await?;
        let row: Option<OperatorRow> = sqlx::query_as(USABLE_RESET)
            .bind(id_hash)
            .bind(ctx.at)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let operator: Operator = row.try_into()?;
        sqlx::query("UPDATE operator_resets SET used_at = $1 WHERE id_hash = $2")
            .bind(ctx.at)
            .bind(id_hash)
            .execute(&mut *tx)
            .await?;
        write_password(&mut tx, &operator.id, password_hash).await?;
        end_sessions(&mut tx, &operator.id, None, ctx.at).await?;
        let ctx = AuditContext {
            actor_id: Some(operator.id.clone()),
            ..ctx.clone()
        };
        audit_account(
            &mut tx,
            &ctx,
            "operator.password_reset",
            &operator,
            json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(Some(operator))
    }
}

/// The account a reset link (`$1`, its hash) is for while it can be used at `$2`: unused, not
/// expired, the account enabled and a reviewer's.
const USABLE_RESET: &str = "SELECT o.id, o.email, o.role, o.created_at FROM operator_resets r \
     JOIN operators o ON o.id = r.operator_id \
     WHERE r.id_hash = $1 AND r.used_at IS NULL AND r.expires_at > $2 \
     AND o.disabled_at IS NULL AND o.role = 'reviewer'";

/// An account by id (only an enabled one with `enabled_only`).
async fn account_by_id(
    tx: &mut Tx,
    operator_id: &str,
    enabled_only: bool,
) -> Result<Operator, StoreError> {
    let row: Option<OperatorRow> = sqlx::query_as(
        "SELECT id, email, role, created_at FROM operators WHERE id = $1 \
         AND ($2 = FALSE OR disabled_at IS NULL)",
    )
    .bind(operator_id)
    .bind(enabled_only)
    .fetch_optional(&mut **tx)
    .await?;
    row.ok_or(StoreError::NotFound)?.try_into()
}

/// Replaces an operator's platforms (empty: every platform), refusing a platform that does not
/// exist.
async fn write_scope(
    tx: &mut Tx,
    operator_id: &str,
    platforms: &[PlatformId],
) -> Result<(), StoreError> {
    for p in platforms {
        let known: Option<String> = sqlx::query_scalar("SELECT id FROM platforms WHERE id = $1")
            .bind(p.as_str())
            .fetch_optional(&mut **tx)
            .await?;
        if known.is_none() {
            return Err(StoreError::Conflict(format!("there is no platform {p}")));
        }
    }
    sqlx::query("DELETE FROM operator_platforms WHERE operator_id = $1")
        .bind(operator_id)
        .execute(&mut **tx)
        .await?;
    for p in platforms {
        sqlx::query("INSERT INTO operator_platforms (operator_id, platform_id) VALUES ($1, $2)")
            .bind(operator_id)
            .bind(p.as_str())
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}
