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

impl Backend {
    /// The platform's logo, if it has one.
    pub async fn platform_logo(
        &self,
        platform_id: &PlatformId,
    ) -> Result<Option<Logo>, StoreError> {
        let row: Option<(String, Vec<u8>, String)> = sqlx::query_as(
            "SELECT content_type, bytes, sha256 FROM platform_logos WHERE platform_id = $1",
        )
        .bind(platform_id.as_str())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(content_type, bytes, sha256)| Logo {
            content_type,
            bytes,
            sha256,
        }))
    }

    /// Sets the platform's logo (`None` removes it): checked by its content (PNG or JPEG, at
    /// most 256 KiB; `branding_invalid` otherwise), its hash recorded in the brand, an audit row
    /// with the hash and size; one transaction.
    pub async fn set_platform_logo(
        &self,
        platform_id: &PlatformId,
        logo: Option<&[u8]>,
        ctx: &AuditContext,
    ) -> Result<Branding, StoreError> {
        use sha2::Digest;
        let checked = logo
            .map(|bytes| {
                kyb_domain::branding::logo_type(bytes)
                    .map(|t| (t, bytes, hex::encode(sha2::Sha256::digest(bytes))))
                    .map_err(|e| StoreError::refused("branding_invalid", &e.to_string()))
            })
            .transpose()?;
        let (mut tx, _guard) = self.begin_write().await?;
        let raw: Option<Option<String>> = sqlx::query_scalar(&format!(
            "SELECT branding FROM platforms WHERE id = $1{}",
            super::lock_rows("platforms")
        ))
        .bind(platform_id.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        let before = parse(raw.ok_or(StoreError::NotFound)?)?;
        sqlx::query("DELETE FROM platform_logos WHERE platform_id = $1")
            .bind(platform_id.as_str())
            .execute(&mut *tx)
            .await?;
        let mut after = before.clone();
        after.logo_sha256 = None;
        let mut detail = json!({ "logo": null, "previous_sha256": before.logo_sha256 });
        if let Some((content_type, bytes, sha256)) = &checked {
            sqlx::query(
                "INSERT INTO platform_logos (platform_id, content_type, bytes, sha256) VALUES ($1, $2, $3, $4)",
            )
            .bind(platform_id.as_str())
            .bind(*content_type)
            .bind(*bytes)
            .bind(sha256)
            .execute(&mut *tx)
            .await?;
            after.logo_sha256 = Some(sha256.clone());
            detail["logo"] = json!({
                "content_type": content_type,
                "size_bytes": bytes.len(),
                "sha256": sha256,
            });
        }
        sqlx::query("UPDATE platforms SET branding = $1 WHERE id = $2")
            .bind(serde_json::to_string(&after).expect("serialises"))
            .bind(platform_id.as_str())
            .execute(&mut *tx)
            .await?;
        let entries = AuditEntry::single(
            "platform.logo_changed",
            Target::new("platform", platform_id.as_str()),
            detail,
        );
        insert_audit(&mut tx, platform_id, None, ctx, entries).await?;
        tx.commit().await?;
        Ok(after)
    }
}
