//! API key authentication: `ngnc-sec-key: sk_…` (the vendor's header) or `Authorization: Bearer sk_…`.
//! Missing or unknown key → 401; revoked key or inactive platform → 403.

use axum::extract::FromRequestParts;
use axum::http::{header, request::Parts};
use kyb_domain::{ApiKeySecret, KeyId, Mode};
use kyb_store::{secrets, Scope};

use crate::error::ApiError;
use crate::AppState;

/// The platform and mode a request acts for, and the key that proved it.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub scope: Scope,
    pub key_id: KeyId,
}

impl Authenticated {
    pub fn mode(&self) -> Mode {
        self.scope.mode
    }
}

fn presented_key(parts: &Parts) -> Option<&str> {
    if let Some(v) = parts.headers.get("ngnc-sec-key") {
        return Some(v.to_str().unwrap_or("").trim());
    }
    let auth = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = auth.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Some(presented) = presented_key(parts) else {
            return Err(ApiError::unauthenticated(
                "api_key_missing",
                "no API key: send your secret key in the ngnc-sec-key header (or Authorization: Bearer)",
            ));
        };
        let invalid = || ApiError::unauthenticated("api_key_invalid", "the API key is not valid");
        let secret = ApiKeySecret::parse(presented).ok_or_else(invalid)?;
        let found = state
            .store
            .find_key_for_auth(secret.lookup_prefix())
            .await?;
        let Some(found) =
            found.filter(|f| secrets::verify_secret(secret.expose_secret(), &f.secret_hash))
        else {
            return Err(invalid());
        };
        if found.key.revoked_at.is_some() {
            return Err(ApiError::forbidden(
                "api_key_revoked",
                "this API key has been revoked; use another key of the platform",
            ));
        }
        if !found.platform_active {
            return Err(ApiError::forbidden(
                "platform_inactive",
                "the platform of this API key is not active",
            ));
        }
        Ok(Authenticated {
            scope: Scope {
                platform_id: found.key.platform_id,
                mode: found.key.mode,
            },
            key_id: found.key.id,
        })
    }
}
