//! A platform's brand on the hosted pages: read for every page, changed from the command line
//! or by the platform through `/v2/platform/branding` (an idempotent write). Each change is an
//! audit row in the platform's chain, written in the change's transaction.

use kyb_domain::branding::Branding;
use kyb_domain::PlatformId;
use serde_json::{json, Value};

use super::repo::{finish_idempotent, insert_audit, AuditEntry, Backend, Target, Tx};
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

/// A logo checked by its content: (media type, bytes, SHA-256).
type CheckedLogo<'a> = (&'static str, &'a [u8], String);

fn check_logo(bytes: &[u8]) -> Result<CheckedLogo<'_>, StoreError> {
    use sha2::Digest;
    kyb_domain::branding::logo_type(bytes)
        .map(|t| (t, bytes, hex::encode(sha2::Sha256::digest(bytes))))
        .map_err(|e| StoreError::refused("branding_invalid", &e.to_string()))
}

/// Changes the brand inside `tx`: the values `update` holds (an empty string clears one), or
/// the logo. Returns the brand after, and the audit row's action and details.
async fn change(
    tx: &mut Tx,
    platform_id: &PlatformId,
    change: BrandChange<'_>,
) -> Result<(Branding, &'static str, Value), StoreError> {
    let raw: Option<Option<String>> = sqlx::query_scalar(&format!(
        "SELECT branding FROM platforms WHERE id = $1{}",
        super::lock_rows("platforms")
    ))
    .bind(platform_id.as_str())
    .fetch_optional(&mut **tx)
    .await?;
    let before = parse(raw.ok_or(StoreError::NotFound)?)?;
    let (after, action, details) = match change {
        BrandChange::Values(update) => {
            let after = before
                .clone()
                .merged(update)
                .checked()
                .map_err(|e| StoreError::refused("branding_invalid", &e.to_string()))?;
            let details = json!({ "branding": after, "previous": before });
            (after, "platform.branding_changed", details)
        }
        BrandChange::Logo(logo) => {
            sqlx::query("DELETE FROM platform_logos WHERE platform_id = $1")
                .bind(platform_id.as_str())
                .execute(&mut **tx)
                .await?;
            let mut after = before.clone();
            after.logo_sha256 = None;
            let mut details = json!({ "logo": null, "previous_sha256": before.logo_sha256 });
            if let Some((content_type, bytes, sha256)) = logo {
                sqlx::query(
                    "INSERT INTO platform_logos (platform_id, content_type, bytes, sha256) \
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(platform_id.as_str())
                .bind(content_type)
                .bind(bytes)
                .bind(&sha256)
                .execute(&mut **tx)
                .await?;
                details["logo"] = json!({
                    "content_type": content_type,
                    "size_bytes": bytes.len(),
                    "sha256": sha256,
                });
                after.logo_sha256 = Some(sha256);
            }
            (after, "platform.logo_changed", details)
        }
    };
    sqlx::query("UPDATE platforms SET branding = $1 WHERE id = $2")
        .bind(serde_json::to_string(&after).expect("serialises"))
        .bind(platform_id.as_str())
        .execute(&mut **tx)
        .await?;
    Ok((after, action, details))
}

/// One change of a brand.
enum BrandChange<'a> {
    Values(Branding),
    /// The new logo, checked; `None` removes it.
    Logo(Option<CheckedLogo<'a>>),
}

impl<'a> BrandChange<'a> {
    fn of(update: BrandingUpdate<'a>) -> Result<Self, StoreError> {
        Ok(match update {
            BrandingUpdate::Values(b) => Self::Values(b),
            BrandingUpdate::Logo(logo) => Self::Logo(logo.map(check_logo).transpose()?),
        })
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

    /// Changes the brand from the command line (`branding_invalid` names the field and the
    /// rule; nothing changes then).
    pub async fn change_platform_branding(
        &self,
        platform_id: &PlatformId,
        update: BrandingUpdate<'_>,
        ctx: &AuditContext,
    ) -> Result<Branding, StoreError> {
        let update = BrandChange::of(update)?;
        let (mut tx, _guard) = self.begin_write().await?;
        let (after, action, details) = change(&mut tx, platform_id, update).await?;
        let target = Target::new("platform", platform_id.as_str());
        let entries = AuditEntry::single(action, target, details);
        insert_audit(&mut tx, platform_id, None, ctx, entries).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Changes the brand for the platform itself (the API): the change, its audit row and
    /// the idempotency record in one transaction.
    pub async fn change_platform_branding_idempotent(
        &self,
        scope: &Scope,
        update: BrandingUpdate<'_>,
        idem: &IdempotencyRequest,
        ctx: &AuditContext,
        finish: impl FnOnce(&Branding) -> StoredResponse,
    ) -> Result<Idempotent<StoredResponse>, StoreError> {
        let update = BrandChange::of(update)?;
        self.idempotent(scope, idem, ctx.at, |mut tx| async move {
            let outcome = async {
                let (after, action, details) = change(&mut tx, &scope.platform_id, update).await?;
                let target = Target::new("platform", scope.platform_id.as_str());
                let entries = AuditEntry::single(action, target, details);
                finish_idempotent(&mut tx, scope, idem, finish(&after), ctx, entries).await
            }
            .await;
            (tx, outcome)
        })
        .await
    }
}
