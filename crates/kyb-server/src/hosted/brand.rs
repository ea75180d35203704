//! The platform's brand on the hosted pages: the name customers see, an accent colour (a small
//! stylesheet of its own, so that the page's policy still allows only our stylesheets), and
//! links to help, the privacy policy and the terms; the return address after submitting.
//! Whatever the platform did not set falls back to kyb's own look and the platform's name.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use kyb_domain::branding::Branding;
use kyb_domain::PlatformId;

use crate::AppState;

/// What a page shows of the platform. Empty strings are values the platform did not set.
#[derive(Debug, Clone, Default)]
pub struct Brand {
    pub name: String,
    /// For the stylesheet's address; empty when the page belongs to no known platform.
    pub platform_id: String,
    pub accent: bool,
    /// The logo's SHA-256 (its address changes with it); empty without one.
    pub logo: String,
    pub support_email: String,
    pub support_url: String,
    pub privacy_url: String,
    pub terms_url: String,
    pub return_url: String,
}

impl Brand {
    /// Only a name: for pages that belong to no known platform, or when the brand cannot be
    /// read.
    pub fn named(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            ..Self::default()
        }
    }

    /// The brand of a platform as it set it (read with the link or the session).
    pub fn new(platform_id: &PlatformId, platform_name: &str, b: &Branding) -> Self {
        let or_empty = |v: &Option<String>| v.clone().unwrap_or_default();
        Self {
            name: b
                .display_name
                .clone()
                .unwrap_or_else(|| platform_name.to_owned()),
            platform_id: platform_id.to_string(),
            accent: b.accent_color.is_some(),
            logo: or_empty(&b.logo_sha256),
            support_email: or_empty(&b.support_email),
            support_url: or_empty(&b.support_url),
            privacy_url: or_empty(&b.privacy_url),
            terms_url: or_empty(&b.terms_url),
            return_url: or_empty(&b.return_url),
        }
    }

    /// Whether the page has a footer of links.
    pub fn has_links(&self) -> bool {
        !(self.support_email.is_empty()
            && self.support_url.is_empty()
            && self.privacy_url.is_empty()
            && self.terms_url.is_empty())
    }
}

/// `GET /kyb/brand/{platform_id}/style.css`: the platform's accent colour on the header and the
/// main buttons (the colour was checked for 4.5:1 with white text). Empty for a platform
/// without one, or none.
pub async fn stylesheet(State(state): State<AppState>, Path(raw): Path<String>) -> Response {
    let accent = match PlatformId::parse(&raw) {
        Ok(id) => state
            .store
            .platform_branding(&id)
            .await
            .ok()
            .and_then(|b| b.accent_color),
        Err(_) => None,
    };
    // The colour is `#rrggbb`, checked when it was set; nothing else reaches the stylesheet.
    let css = accent
        .filter(|c| kyb_domain::branding::contrast_with_white(c).is_some())
        .map(|c| {
            format!(
                "header.platform {{ background: {c}; }}\nbutton:not(.secondary):not(.danger), .button {{ background: {c}; }}\n"
            )
        })
        .unwrap_or_default();
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        css,
    )
        .into_response()
}

/// `GET /kyb/brand/{platform_id}/logo`: the platform's logo, a PNG or JPEG by its content (as
/// checked when it was set), sent with its own type, never sniffed, and a policy that lets it
/// do nothing but be an image. 404 without one.
pub async fn logo(State(state): State<AppState>, Path(raw): Path<String>) -> Response {
    let found = match PlatformId::parse(&raw) {
        Ok(id) => state.store.platform_logo(&id).await,
        Err(_) => Ok(None),
    };
    match found {
        Ok(Some(logo)) => (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, logo.content_type),
                (
                    header::CONTENT_SECURITY_POLICY,
                    "default-src 'none'; sandbox".to_owned(),
                ),
                (header::CACHE_CONTROL, "public, max-age=300".to_owned()),
            ],
            logo.bytes,
        )
            .into_response(),
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => {
            tracing::error!(error = %e, "a platform's logo could not be read");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}
