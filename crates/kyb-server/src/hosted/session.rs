//! Links and sessions. `GET /kyb/{token}` shows a start page and changes nothing (mail scanners
//! prefetch links); the form on it posts to `/kyb/{token}/start`, which consumes the link and
//! starts a new server-side session (a fresh id every time: no session fixation). The session
//! cookie is HttpOnly, SameSite=Lax, Secure over https; it ends after `session_idle` without
//! requests or `session_max` in any case. Unknown tokens are rate limited per client address.

use askama::Template;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::{header, request::Parts, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::SecondsFormat;
use kyb_domain::requirements::document_label;
use kyb_store::{
    secrets, ActorKind, AuditContext, LinkState, NewSession, Session, SessionTrace, StoreError,
};
use std::collections::HashMap;
use std::net::IpAddr;

use super::brand::Brand;
use super::forms::FormData;
use super::pages::{internal_error, problem};
use crate::extract::RequestContext;
use crate::links::LinkSigner;
use crate::web::cookies::{self, cookie, random_token, same_token, CookieScope};
use crate::web::page;
use crate::AppState;

const SESSION_COOKIE: &str = "kyb_session";
const START_COOKIE: &str = "kyb_start";

/// The customer's cookies: sent for `/kyb` only.
fn set_cookie(
    state: &AppState,
    name: &str,
    value: &str,
    same_site: &'static str,
    max_age: Option<i64>,
) -> HeaderValue {
    let scope = CookieScope {
        path: "/kyb",
        same_site,
    };
    cookies::set_cookie(state, &scope, name, value, max_age)
}

fn client_ip(rc: &RequestContext) -> Option<IpAddr> {
    rc.client_addr.as_deref().and_then(|a| a.parse().ok())
}

/// The page for a link that cannot be used, with the right status.
fn link_problem(state: LinkState, platform: &str) -> Response {
    let next = format!("Ask {platform} to send you a new verification link.");
    match state {
        LinkState::Used => problem(
            StatusCode::GONE,
            Some(platform),
            "This link has already been used",
            "Each verification link works once, and this one was opened before (or the verification was already submitted).".into(),
            next,
        ),
        LinkState::Expired => problem(
            StatusCode::GONE,
            Some(platform),
            "This link has expired",
            "Verification links work for a limited time, and this one is past it.".into(),
            next,
        ),
        LinkState::Revoked => problem(
            StatusCode::GONE,
            Some(platform),
            "This link has been replaced",
            format!("{platform} sent a newer link, which replaces this one."),
            "Use the most recent link you received, or ask for a new one.".into(),
        ),
        LinkState::PlatformInactive => problem(
            StatusCode::FORBIDDEN,
            Some(platform),
            "This verification is not available",
            format!("{platform} cannot take verifications through this service at the moment."),
            format!("Contact {platform} for how to go on."),
        ),
        LinkState::Valid => internal_error(anyhow::anyhow!("a valid link reached the problem page")),
    }
}

/// An unknown token: 404, or 429 once this address has guessed too often.
fn unknown_link(state: &AppState, ip: Option<IpAddr>) -> Response {
    let limited = ip.is_some_and(|ip| state.link_guesses.check_key(&ip).is_err());
    // Forget addresses whose quota has refilled, so that guessing from many addresses cannot
    // grow the table without bound.
    if state.link_guesses.len() > 10_000 {
        state.link_guesses.retain_recent();
    }
    if limited {
        let mut r = problem(
            StatusCode::TOO_MANY_REQUESTS,
            None,
            "Too many attempts",
            "Too many links that do not exist were opened from your network.".into(),
            "Wait a minute, then open the link exactly as you received it.".into(),
        );
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
        return r;
    }
    problem(
        StatusCode::NOT_FOUND,
        None,
        "This link is not valid",
        "The address does not match any verification link. It may be incomplete: links are long."
            .into(),
        "Open the link exactly as you received it, or ask the business that sent it for a new one."
            .into(),
    )
}

#[derive(Template)]
#[template(path = "hosted/start.html")]
struct StartPage {
    brand: Brand,
    token: String,
    csrf: String,
    expires_at: String,
    documents: Vec<String>,
}

/// The session this browser's cookie names, whatever its state.
async fn trace_of(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<SessionTrace>, StoreError> {
    let Some(id) = cookie(headers, SESSION_COOKIE).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    state
        .store
        .session_trace(
            &secrets::hash_secret(&id),
            state.clock.now(),
            state.config.session_idle,
        )
        .await
}

/// A used link opened again. In the browser whose session it started, while that session
/// lives, the flow goes on where it is (Back after Start, the e-mail opened again); after that
/// browser submitted, the page says so. Anywhere else, the page says where to go on.
fn used_link(trace: Option<SessionTrace>, link: &kyb_store::LinkView) -> Response {
    let platform = link.platform_name.as_str();
    match trace.filter(|t| t.link_id == link.link_id) {
        Some(t) if t.live => Redirect::to("/kyb/flow").into_response(),
        Some(t) if t.submitted => submitted_page(
            StatusCode::OK,
            Brand::new(&link.platform_id, platform, &link.branding),
        ),
        _ => problem(
            StatusCode::GONE,
            Some(platform),
            "This link was opened already",
            "Each verification link starts one session, in one browser. This one was opened before: in another browser or on another device, or in a session that has since ended.".into(),
            format!("Go on in the browser where you opened it first. If you cannot, or if it was not you, ask {platform} to send you a new link."),
        ),
    }
}

#[derive(Template)]
#[template(path = "hosted/submitted.html")]
struct SubmittedPage {
    brand: Brand,
}

/// The page after submitting; also what a page of the flow shows once it was submitted.
pub(super) fn submitted_page(status: StatusCode, brand: Brand) -> Response {
    page(status, &SubmittedPage { brand })
}

/// `GET /kyb/{token}`: the start page. Consumes nothing.
pub async fn start_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
    rc: RequestContext,
    headers: HeaderMap,
) -> Response {
    let now = state.clock.now();
    let link = match state
        .store
        .find_link(&LinkSigner::token_hash(&token), now)
        .await
    {
        Ok(Some(link)) => link,
        Ok(None) => return unknown_link(&state, client_ip(&rc)),
        Err(e) => return internal_error(e),
    };
    if link.state == LinkState::Used {
        return match trace_of(&state, &headers).await {
            Ok(trace) => used_link(trace, &link),
            Err(e) => internal_error(e),
        };
    }
    if link.state != LinkState::Valid {
        return link_problem(link.state, &link.platform_name);
    }
    let requirements = state.catalog.for_country(&link.registered_country);
    let csrf = random_token();
    let mut response = page(
        StatusCode::OK,
        &StartPage {
            brand: Brand::new(&link.platform_id, &link.platform_name, &link.branding),
            token,
            csrf: csrf.clone(),
            expires_at: link
                .expires_at
                .to_rfc3339_opts(SecondsFormat::Secs, true)
                .replace('T', " ")
                .replace('Z', " UTC"),
            documents: requirements
                .required_documents()
                .map(|k| document_label(k).to_lowercase())
                .collect(),
        },
    );
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&state, START_COOKIE, &csrf, "Strict", Some(3600)),
    );
    response
}

/// `POST /kyb/{token}/start`: consumes the link and starts the session.
pub async fn start(
    State(state): State<AppState>,
    Path(token): Path<String>,
    rc: RequestContext,
    headers: HeaderMap,
    form: FormData,
) -> Response {
    let now = state.clock.now();
    let token_hash = LinkSigner::token_hash(&token);
    // Start pressed again (Back to the start page, or twice): nothing to start, go on where
    // this browser is. This writes nothing, so it needs no form token.
    match state.store.find_link(&token_hash, now).await {
        Ok(Some(link)) if link.state == LinkState::Used => {
            return match trace_of(&state, &headers).await {
                Ok(trace) => used_link(trace, &link),
                Err(e) => internal_error(e),
            };
        }
        Ok(_) => {}
        Err(e) => return internal_error(e),
    }
    let expected = cookie(&headers, START_COOKIE).unwrap_or_default();
    if expected.is_empty() || !same_token(&expected, form.get("csrf")) {
        return problem(
            StatusCode::FORBIDDEN,
            None,
            "Please start again",
            "This form has expired or did not come from this page.".into(),
            "Open your verification link again and press Start.".into(),
        );
    }
    let id = random_token();
    let new = NewSession {
        id_hash: secrets::hash_secret(&id),
        csrf_token: random_token(),
        expires_at: now + state.config.session_max,
    };
    let ctx = AuditContext {
        actor: ActorKind::CustomerSession,
        actor_id: None,
        request_id: rc.request_id.clone(),
        client_addr: rc.client_addr.clone(),
        at: now,
    };
    let started = state
        .store
        .start_session(&token_hash, &new, &ctx, |c| {
            vec![state.event("business_customer.kyb_link.opened", c, None)]
        })
        .await;
    match started {
        Ok(Ok(_session)) => {
            let mut r = Redirect::to("/kyb/flow/business").into_response();
            r.headers_mut().append(
                header::SET_COOKIE,
                set_cookie(&state, SESSION_COOKIE, &id, "Lax", None),
            );
            r.headers_mut().append(
                header::SET_COOKIE,
                set_cookie(&state, START_COOKIE, "", "Strict", Some(0)),
            );
            r
        }
        Ok(Err(link_state)) => match state.store.find_link(&token_hash, now).await {
            // Start pressed twice, or on a page from before: go on in this browser's session.
            Ok(Some(link)) if link_state == LinkState::Used => {
                match trace_of(&state, &headers).await {
                    Ok(trace) => used_link(trace, &link),
                    Err(e) => internal_error(e),
                }
            }
            Ok(Some(link)) => link_problem(link_state, &link.platform_name),
            _ => link_problem(link_state, "the business that sent you the link"),
        },
        Err(StoreError::NotFound) => unknown_link(&state, client_ip(&rc)),
        Err(e) => internal_error(e),
    }
}

/// The customer's live session; any other request gets a page saying the session ended.
pub struct CustomerSession(pub Session, pub Brand);

impl FromRequestParts<AppState> for CustomerSession {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let ended = || {
            problem(
                StatusCode::UNAUTHORIZED,
                None,
                "Your session has ended",
                "For your safety, a verification session ends after a while without activity, \
                 and when the verification is submitted."
                    .into(),
                "Your saved answers are kept. Ask the business that sent you the link for a new one to continue."
                    .into(),
            )
        };
        let Some(id) = cookie(&parts.headers, SESSION_COOKIE).filter(|v| !v.is_empty()) else {
            return Err(ended());
        };
        let now = state.clock.now();
        match state
            .store
            .find_session(&secrets::hash_secret(&id), now, state.config.session_idle)
            .await
        {
            Ok(Some(session)) => {
                let brand = Brand::new(
                    &session.customer.platform_id,
                    &session.platform_name,
                    &session.branding,
                );
                Ok(CustomerSession(session, brand))
            }
            // Back after submitting: say it was submitted, not that something ended.
            Ok(None) => match trace_of(state, &parts.headers).await {
                Ok(Some(t)) if t.submitted => {
                    let status = if parts.method == axum::http::Method::GET {
                        StatusCode::OK
                    } else {
                        StatusCode::CONFLICT
                    };
                    Err(submitted_page(
                        status,
                        Brand::new(&t.platform_id, &t.platform_name, &t.branding),
                    ))
                }
                Ok(_) => Err(ended()),
                Err(e) => Err(internal_error(e)),
            },
            Err(e) => Err(internal_error(e)),
        }
    }
}

impl CustomerSession {
    /// The warning every page of the flow carries: when the session ends if left idle (each
    /// page keeps it alive) and at the latest. Times in UTC, to the minute.
    pub(super) fn ending_note(&self, state: &AppState) -> String {
        let at = |t: chrono::DateTime<chrono::Utc>| t.format("%H:%M UTC").to_string();
        let idle_end = (state.clock.now() + state.config.session_idle).min(self.0.expires_at);
        format!(
            "For your safety this session ends at {} if you leave it idle (every page you open keeps it going), and at {} at the latest. What you saved is kept: ask {} for a new link to go on after that.",
            at(idle_end),
            at(self.0.expires_at),
            self.1.name
        )
    }

    /// Who acts, for audit rows: the customer through this session.
    pub(super) fn audit(&self, rc: &RequestContext, state: &AppState) -> AuditContext {
        AuditContext {
            actor: ActorKind::CustomerSession,
            actor_id: Some(self.0.link_id.to_string()),
            request_id: rc.request_id.clone(),
            client_addr: rc.client_addr.clone(),
            at: state.clock.now(),
        }
    }

    /// The page refusing a form whose CSRF token is not this session's, if it is not.
    pub(super) fn csrf_rejection(&self, form: &HashMap<String, String>) -> Option<Response> {
        let sent = form.get("csrf").map(String::as_str).unwrap_or("");
        (!same_token(sent, &self.0.csrf_token)).then(|| csrf_failed(&self.0.platform_name))
    }
}

pub(super) fn csrf_failed(platform: &str) -> Response {
    problem(
        StatusCode::FORBIDDEN,
        Some(platform),
        "This form has expired",
        "The form did not come from your current session, so nothing was saved.".into(),
        "Go back, reload the page and send the form again.".into(),
    )
}
