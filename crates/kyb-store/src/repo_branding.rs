//! A platform's brand on the hosted pages: read for every page, changed from the command line
//! (each change an audit row in the platform's chain).

use kyb_domain::branding::Branding;
use kyb_domain::PlatformId;
use serde_json::json;

use super::repo::{insert_audit, AuditEntry, Backend, Target};
use crate::model::*;
use crate::StoreError;

/// A platform's stored brand (`platforms.branding`, JSON or NULL).
pub(super) fn parse(raw: Option<String>) -> Result<Branding, StoreError> {
    match raw {
        None => Ok(Branding::default()),
        Some(text) => serde_json::from_str(&text)
            .map_err(|e| StoreError::Corrupt(format!("a platform's branding: {e}"))),
    }
}

impl Backend {
    /// A platform's brand (all absent when it has none).
    pub async fn platform_branding(
        &self,
        platform_id: &PlatformId,
    ) -> Result<Branding, StoreError> {
        let raw: Option<Option<String>> =
            sqlx::query_scalar("SELECT branding FROM platforms WHERE id = $1")
                .bind(platform_id.as_str())
                .fetch_optional(&self.pool)
                .await?;
        parse(raw.ok_or(StoreError::NotFound)?)
    }

    /// Changes the values `update` holds (an empty string clears one) and keeps the others;
    /// the result is checked as a whole (`branding_invalid` names the field and the rule).
    pub async fn update_platform_branding(
        &self,
        platform_id: &PlatformId,
        update: Branding,
        ctx: &AuditContext,
    ) -> Result<Branding, StoreError> {
        let (mut tx, _guard) = self.begin_write().await?;
        let raw: Option<Option<String>> = sqlx::query_scalar(&format!(
            "SELECT branding FROM platforms WHERE id = $1{}",
            super::lock_rows("platforms")
        ))
        .bind(platform_id.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        let before = parse(raw.ok_or(StoreError::NotFound)?)?;
        let after = before
            .clone()
            .merged(update)
            .checked()
            .map_err(|e| StoreError::refused("branding_invalid", &e.to_string()))?;
        sqlx::query("UPDATE platforms SET branding = $1 WHERE id = $2")
            .bind(serde_json::to_string(&after).expect("serialises"))
            .bind(platform_id.as_str())
            .execute(&mut *tx)
            .await?;
        let entries = AuditEntry::single(
            "platform.branding_changed",
            Target::new("platform", platform_id.as_str()),
            json!({ "branding": after, "previous": before }),
        );
        insert_audit(&mut tx, platform_id, None, ctx, entries).await?;
        tx.commit().await?;
        Ok(after)
    }
}
