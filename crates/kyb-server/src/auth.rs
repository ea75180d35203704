//! API key authentication: `ngnc-sec-key: sk_…` (the vendor's header) or `Authorization: Bearer sk_…`.
//! Missing or unknown key → 401; revoked key or inactive platform → 403.
//!
//! Rate limits: each key may make `api_rate_limit` requests per second (bursts of twice that);
//! beyond, 429 `rate_limit_error` with `Retry-After`. An address presenting keys that do not
//! exist is limited too (`api_unknown_keys_per_minute`, 30 by default), so keys cannot be
//! guessed at database speed.

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::{header, request::Parts, StatusCode};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use kyb_domain::{ApiKeySecret, KeyId, Mode};
use kyb_store::{secrets, Scope};
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;

use crate::error::{ApiError, ErrorType};
use crate::AppState;

/// Keys kept per limiter table before idle ones are forgotten.
const MAX_TRACKED: usize = 10_000;

/// The request rates of `/v2`.
pub struct ApiLimits {
    per_key: Option<DefaultKeyedRateLimiter<KeyId>>,
    bad_keys: DefaultKeyedRateLimiter<IpAddr>,
}

impl ApiLimits {
    /// `per_second` requests per key and second, in bursts of twice that (0: unlimited), and
    /// `bad_per_minute` unknown keys per client address.
    pub fn new(per_second: u32, bad_per_minute: u32) -> Self {
        let per_key = NonZeroU32::new(per_second).map(|rate| {
            let burst = rate.saturating_mul(NonZeroU32::new(2).expect("2 is not zero"));
            RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst))
        });
        Self {
            per_key,
            bad_keys: RateLimiter::keyed(Quota::per_minute(
                NonZeroU32::new(bad_per_minute).unwrap_or(NonZeroU32::MIN),
            )),
        }
    }

    fn check_key(&self, key: &KeyId) -> Result<(), ApiError> {
        let Some(limiter) = &self.per_key else {
            return Ok(());
        };
        if limiter.len() > MAX_TRACKED {
            limiter.retain_recent();
        }
        limiter.check_key(key).map_err(|wait| {
            rate_limited(
                wait,
                "this API key made more requests than its rate limit allows; retry after the Retry-After delay",
            )
        })
    }

    fn check_bad_key(&self, ip: Option<IpAddr>) -> Result<(), ApiError> {
        let Some(ip) = ip else { return Ok(()) };
        if self.bad_keys.len() > MAX_TRACKED {
            self.bad_keys.retain_recent();
        }
        self.bad_keys.check_key(&ip).map_err(|wait| {
            rate_limited(
                wait,
                "too many requests with API keys that are not valid came from this address; retry after the Retry-After delay",
            )
        })
    }
}

fn rate_limited(
    not_until: governor::NotUntil<governor::clock::QuantaInstant>,
    message: &'static str,
) -> ApiError {
    use governor::clock::{Clock, DefaultClock};
    let wait = not_until.wait_time_from(DefaultClock::default().now());
    let secs = u32::try_from(wait.as_secs()).unwrap_or(u32::MAX).max(1);
    let mut e = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        ErrorType::RateLimitError,
        "rate_limited",
        message,
    );
    e.retry_after = Some(secs);
    e
}

/// The platform and mode a request acts for, and the key that proved it.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub scope: Scope,
    pub key_id: KeyId,
    /// How long the platform's new links last, when it set its own lifetime.
    pub link_ttl: Option<chrono::Duration>,
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
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        let invalid = || {
            state.api_limits.check_bad_key(ip)?;
            Err::<Authenticated, _>(ApiError::unauthenticated(
                "api_key_invalid",
                "the API key is not valid",
            ))
        };
        let Some(secret) = ApiKeySecret::parse(presented) else {
            return invalid();
        };
        let found = state
            .store
            .find_key_for_auth(secret.lookup_prefix())
            .await?;
        let Some(found) =
            found.filter(|f| secrets::verify_secret(secret.expose_secret(), &f.secret_hash))
        else {
            return invalid();
        };
        state.api_limits.check_key(&found.key.id)?;
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
            link_ttl: found.link_ttl_secs.map(chrono::Duration::seconds),
        })
    }
}
