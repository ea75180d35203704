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

    /// The brand of a platform. A failure to read it is logged and the page goes on with the
    /// platform's name: a brand is never worth an error page.
    pub async fn of(state: &AppState, platform_id: &PlatformId, platform_name: &str) -> Self {
        match state.store.platform_branding(platform_id).await {
            Ok(b) => Self::from_branding(platform_id, platform_name, b),
            Err(e) => {
                tracing::warn!(error = %e, platform = %platform_id, "a platform's brand could not be read");
                Self::named(platform_name)
            }
        }
    }

    fn from_branding(platform_id: &PlatformId, platform_name: &str, b: Branding) -> Self {
        Self {
            name: b.display_name.unwrap_or_else(|| platform_name.to_owned()),
            platform_id: platform_id.to_string(),
            accent: b.accent_color.is_some(),
            support_email: b.support_email.unwrap_or_default(),
            support_url: b.support_url.unwrap_or_default(),
            privacy_url: b.privacy_url.unwrap_or_default(),
            terms_url: b.terms_url.unwrap_or_default(),
            return_url: b.return_url.unwrap_or_default(),
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
