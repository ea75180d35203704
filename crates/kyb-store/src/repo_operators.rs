//! Operators' passwords: a change by the operator (the other sessions end), and one-time reset
//! links an admin makes (only the token's SHA-256 is kept; used once, before it expires; a newer
//! link ends older ones; using it ends every session of the account).

use chrono::{DateTime, Utc};

use super::repo::Backend;
use super::repo_console::OperatorRow;
use crate::model::*;
use crate::StoreError;

impl Backend {
    /// Sets an operator's password (an argon2 hash) and ends their sessions but `keep` (the
    /// session that changed it), so that a stolen session does not outlive the change.
    pub async fn set_operator_password(
        &self,
        operator_id: &str,
        password_hash: &str,
        keep: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let (mut tx, _guard) = self.begin_write().await?;
        let n = sqlx::query(
            "UPDATE operators SET password_hash = $1, failed_logins = 0, locked_until = NULL \
             WHERE id = $2",
        )
        .bind(password_hash)
        .bind(operator_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        sqlx::query(
            "UPDATE console_sessions SET ended_at = $1 WHERE operator_id = $2 AND ended_at IS NULL \
             AND id_hash <> $3",
        )
        .bind(at)
        .bind(operator_id)
        .bind(keep.unwrap_or(""))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records a reset link for a reviewer (by id), made by an admin; older unused links of
    /// that reviewer end now. Whoever holds a link holds the account, so there are none for
    /// admins (`admin_reset`): one admin could otherwise take over another's account and be
    /// both admins a sanctions case needs. An admin's password is set from the command line.
    pub async fn create_password_reset(
        &self,
        operator_id: &str,
        created_by: &str,
        id_hash: &str,
        at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<Operator, StoreError> {
        let (mut tx, _guard) = self.begin_write().await?;
        let row: Option<OperatorRow> = sqlx::query_as(
            "SELECT id, email, role, created_at FROM operators WHERE id = $1 AND disabled_at IS NULL",
        )
        .bind(operator_id)
        .fetch_optional(&mut *tx)
        .await?;
        let operator: Operator = row.ok_or(StoreError::NotFound)?.try_into()?;
        if operator.role == OperatorRole::Admin {
            return Err(StoreError::refused(
                "admin_reset",
                "an admin's password is reset on the command line, not by a link",
            ));
        }
        sqlx::query(
            "UPDATE operator_resets SET expires_at = $1 WHERE operator_id = $2 AND used_at IS NULL \
             AND expires_at > $1",
        )
        .bind(at)
        .bind(operator_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO operator_resets (id_hash, operator_id, created_by, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id_hash)
        .bind(operator_id)
        .bind(created_by)
        .bind(at)
        .bind(expires_at)
        .execute(&mut *tx)
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
        let row: Option<OperatorRow> = sqlx::query_as(
            "SELECT o.id, o.email, o.role, o.created_at FROM operator_resets r \
             JOIN operators o ON o.id = r.operator_id \
             WHERE r.id_hash = $1 AND r.used_at IS NULL AND r.expires_at > $2 \
             AND o.disabled_at IS NULL",
        )
        .bind(id_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        row.map(TryInto::try_into).transpose()
    }

    /// Uses a reset link: the new password, the link used, every session of the account ended.
    /// `None` when the link cannot be used (unknown, used, expired, or its account disabled).
    pub async fn redeem_password_reset(
        &self,
        id_hash: &str,
        password_hash: &str,
        at: DateTime<Utc>,
    ) -> Result<Option<Operator>, StoreError> {
        let (mut tx, _guard) = self.begin_write().await?;
        let row: Option<OperatorRow> = sqlx::query_as(
            "SELECT o.id, o.email, o.role, o.created_at FROM operator_resets r \
             JOIN operators o ON o.id = r.operator_id \
             WHERE r.id_hash = $1 AND r.used_at IS NULL AND r.expires_at > $2 \
             AND o.disabled_at IS NULL",
        )
        .bind(id_hash)
        .bind(at)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let operator: Operator = row.try_into()?;
        sqlx::query("UPDATE operator_resets SET used_at = $1 WHERE id_hash = $2")
            .bind(at)
            .bind(id_hash)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE operators SET password_hash = $1, failed_logins = 0, locked_until = NULL \
             WHERE id = $2",
        )
        .bind(password_hash)
        .bind(&operator.id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE console_sessions SET ended_at = $1 WHERE operator_id = $2 AND ended_at IS NULL",
        )
        .bind(at)
        .bind(&operator.id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some(operator))
    }
}
