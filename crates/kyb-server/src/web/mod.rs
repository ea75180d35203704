//! What the server-rendered pages share, the hosted flow's and the console's alike: rendering a
//! template, the security headers, cookies and CSRF tokens, the stylesheet, and sending a
//! stored document. Neither `hosted` nor `console` depends on the other: both use this.

pub mod cookies;
pub mod documents;

use askama::Template;
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Router;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::AppState;

/// The pages' policy, with what a page adds (one place, so that the variants keep in step).
macro_rules! page_csp {
    ($extra:literal) => {
        concat!(
            "default-src 'none'; style-src 'self'; img-src 'self'; ",
            $extra,
            "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        )
    };
}

/// No script, no inline style, no framing, forms post only to us.
pub const CSP: &str = page_csp!("");

/// `CSP`, and frames from our own origin: a page that shows documents in place (a PDF).
pub const CSP_WITH_DOCUMENT_FRAMES: &str = page_csp!("frame-src 'self'; ");

/// The security headers of every server-rendered page (hosted flow and console).
pub fn with_page_headers(pages: Router<AppState>) -> Router<AppState> {
    let header = |name: HeaderName, value: &'static str| {
        SetResponseHeaderLayer::overriding(name, HeaderValue::from_static(value))
    };
    pages
        // A handler may set a policy of its own (documents; a page that frames a PDF of ours).
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(header(header::REFERRER_POLICY, "no-referrer"))
        .layer(header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
}

/// The same headers on one response, for pages served outside a router with those layers
/// (the app's fallback).
pub fn set_page_headers(r: &mut Response) {
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
}

/// Sends a rendered template with a status. A template that fails to render is a bug: 500.
pub fn page(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed to render");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

/// Whether an error is the database being unavailable for now (503, not 500).
pub fn unavailable(err: &anyhow::Error) -> bool {
    err.downcast_ref::<kyb_store::StoreError>()
        .is_some_and(kyb_store::StoreError::is_unavailable)
}

/// The one stylesheet of every page.
pub async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/app.css"),
    )
        .into_response()
}
