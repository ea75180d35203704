//! Cookies and the random tokens in them: session ids and CSRF tokens (256 bits, base64url),
//! compared in constant time.

use axum::http::{header, HeaderMap, HeaderValue};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;

use crate::AppState;

/// A fresh 256-bit random token, base64url.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Constant-time equality for CSRF tokens.
pub fn same_token(a: &str, b: &str) -> bool {
    kyb_store::secrets::same_secret(a, b)
}

/// The value of the cookie `name` the request sent.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// How a cookie is scoped.
pub struct CookieScope {
    /// The path prefix it is sent for (`/kyb`, `/console`).
    pub path: &'static str,
    /// `Strict` or `Lax`.
    pub same_site: &'static str,
}

/// A `Set-Cookie` value: always HttpOnly, Secure behind an https `public_url`; `max_age`
/// `Some(0)` clears it, `None` makes it last the browser session.
pub fn set_cookie(
    state: &AppState,
    scope: &CookieScope,
    name: &str,
    value: &str,
    max_age: Option<i64>,
) -> HeaderValue {
    let secure = if state.public_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    let age = max_age
        .map(|s| format!("; Max-Age={s}"))
        .unwrap_or_default();
    HeaderValue::from_str(&format!(
        "{name}={value}; Path={}; HttpOnly; SameSite={}{secure}{age}",
        scope.path, scope.same_site
    ))
    .expect("cookie values are base64url")
}
