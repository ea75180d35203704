//! Links and sessions. `GET /kyb/{token}` shows a start page and changes nothing (mail scanners
//! prefetch links); the form on it posts to `/kyb/{token}/start`, which consumes the link and
//! starts a new server-side session (a fresh id every time: no session fixation). The session
//! cookie is HttpOnly, SameSite=Lax, Secure over https; it ends after `session_idle` without
//! requests or `session_max` in any case. Unknown tokens are rate limited per client address.

use askama::Template;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::{header, request::Parts, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use kyb_store::{
    secrets, ActorKind, AuditContext, LinkState, NewSession, Session, SessionTrace, StoreError,
};
use std::collections::HashMap;
use std::net::IpAddr;

use super::brand::Brand;
use super::forms::FormData;
use super::pages::{internal_error, problem};
use super::ui::Ui;
use crate::extract::RequestContext;
use crate::i18n::LangPrefs;
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
fn link_problem(state: LinkState, ui: &Ui) -> Response {
    match state {
        LinkState::Used => problem(StatusCode::GONE, ui, "link-used"),
        LinkState::Expired => problem(StatusCode::GONE, ui, "link-expired"),
        LinkState::Revoked => problem(StatusCode::GONE, ui, "link-revoked"),
        LinkState::PlatformInactive => problem(StatusCode::FORBIDDEN, ui, "link-unavailable"),
        LinkState::Valid => {
            internal_error(ui, anyhow::anyhow!("a valid link reached the problem page"))
        }
    }
}

/// The page of a link's platform, in the customer's language.
fn link_ui(prefs: &LangPrefs, link: &kyb_store::LinkView) -> Ui {
    Ui::new(
        prefs,
        Brand::new(&link.platform_id, &link.platform_name, &link.branding),
        &link.branding,
    )
}

/// An unknown token: 404, or 429 once this address has guessed too often.
fn unknown_link(state: &AppState, ip: Option<IpAddr>, ui: &Ui) -> Response {
    let limited = ip.is_some_and(|ip| state.link_guesses.check_key(&ip).is_err());
    // Forget addresses whose quota has refilled, so that guessing from many addresses cannot
    // grow the table without bound.
    if state.link_guesses.len() > 10_000 {
        state.link_guesses.retain_recent();
    }
    if limited {
        let mut r = problem(StatusCode::TOO_MANY_REQUESTS, ui, "too-many");
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
        return r;
    }
    problem(StatusCode::NOT_FOUND, ui, "link-invalid")
}

#[derive(Template)]
#[template(path = "hosted/start.html")]
struct StartPage {
    ui: Ui,
    token: String,
    csrf: String,
    expires_at: String,
    /// The documents asked for, in a sentence.
    documents: String,
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
fn used_link(trace: Option<SessionTrace>, link: &kyb_store::LinkView, ui: Ui) -> Response {
    match trace.filter(|t| t.link_id == link.link_id) {
        Some(t) if t.live => Redirect::to("/kyb/flow").into_response(),
        Some(t) if t.submitted => submitted_page(StatusCode::OK, ui),
        _ => problem(StatusCode::GONE, &ui, "link-opened"),
    }
}

#[derive(Template)]
#[template(path = "hosted/submitted.html")]
struct SubmittedPage {
    ui: Ui,
}

/// The page after submitting; also what a page of the flow shows once it was submitted.
pub(super) fn submitted_page(status: StatusCode, ui: Ui) -> Response {
    page(status, &SubmittedPage { ui })
}

/// `GET /kyb/{token}`: the start page. Consumes nothing.
pub async fn start_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
    rc: RequestContext,
    prefs: LangPrefs,
    headers: HeaderMap,
) -> Response {
    let now = state.clock.now();
    let link = match state
        .store
        .find_link(&LinkSigner::token_hash(&token), now)
        .await
    {
        Ok(Some(link)) => link,
        Ok(None) => return unknown_link(&state, client_ip(&rc), &Ui::anonymous(&prefs)),
        Err(e) => return internal_error(&Ui::anonymous(&prefs), e),
    };
    let ui = link_ui(&prefs, &link);
    if link.state == LinkState::Used {
        return match trace_of(&state, &headers).await {
            Ok(trace) => used_link(trace, &link, ui),
            Err(e) => internal_error(&ui, e),
        };
    }
    if link.state != LinkState::Valid {
        return link_problem(link.state, &ui);
    }
    let requirements = state.catalog.for_country(&link.registered_country);
    let csrf = random_token();
    let mut response = page(
        StatusCode::OK,
        &StartPage {
            expires_at: ui.tr.date_time_utc(link.expires_at),
            documents: requirements
                .required_documents()
                .map(|k| super::texts::document_label(ui.tr, k).to_lowercase())
                .collect::<Vec<_>>()
                .join(", "),
            ui,
            token,
            csrf: csrf.clone(),
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
    prefs: LangPrefs,
    headers: HeaderMap,
    form: FormData,
) -> Response {
    let now = state.clock.now();
    let token_hash = LinkSigner::token_hash(&token);
    // Start pressed again (Back to the start page, or twice): nothing to start, go on where
    // this browser is. This writes nothing, so it needs no form token.
    let ui = match state.store.find_link(&token_hash, now).await {
        Ok(Some(link)) if link.state == LinkState::Used => {
            let ui = link_ui(&prefs, &link);
            return match trace_of(&state, &headers).await {
                Ok(trace) => used_link(trace, &link, ui),
                Err(e) => internal_error(&ui, e),
            };
        }
        Ok(Some(link)) => link_ui(&prefs, &link),
        Ok(None) => Ui::anonymous(&prefs),
        Err(e) => return internal_error(&Ui::anonymous(&prefs), e),
    };
    let expected = cookie(&headers, START_COOKIE).unwrap_or_default();
    if expected.is_empty() || !same_token(&expected, form.get("csrf")) {
        return problem(StatusCode::FORBIDDEN, &ui, "start-again");
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
                    Ok(trace) => used_link(trace, &link, ui),
                    Err(e) => internal_error(&ui, e),
                }
            }
            _ => link_problem(link_state, &ui),
        },
        Err(StoreError::NotFound) => unknown_link(&state, client_ip(&rc), &ui),
        Err(e) => internal_error(&ui, e),
    }
}

/// The customer's live session, and the page it is drawn with; any other request gets a page
/// saying the session ended.
pub struct CustomerSession(pub Session, pub Ui);

impl FromRequestParts<AppState> for CustomerSession {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let prefs = LangPrefs::from_headers(&parts.headers);
        // Built only for the pages of no platform: a live session's page never needs it.
        let anonymous = || Ui::anonymous(&prefs);
        let Some(id) = cookie(&parts.headers, SESSION_COOKIE).filter(|v| !v.is_empty()) else {
            return Err(problem(
                StatusCode::UNAUTHORIZED,
                &anonymous(),
                "session-ended",
            ));
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
                let ui = Ui::new(&prefs, brand, &session.branding);
                Ok(CustomerSession(session, ui))
            }
            // Back after submitting: say it was submitted, not that something ended.
            Ok(None) => match trace_of(state, &parts.headers).await {
                Ok(Some(t)) => {
                    let brand = Brand::new(&t.platform_id, &t.platform_name, &t.branding);
                    let ui = Ui::new(&prefs, brand, &t.branding);
                    if !t.submitted {
                        return Err(problem(StatusCode::UNAUTHORIZED, &ui, "session-ended"));
                    }
                    let status = if parts.method == axum::http::Method::GET {
                        StatusCode::OK
                    } else {
                        StatusCode::CONFLICT
                    };
                    Err(submitted_page(status, ui))
                }
                Ok(None) => Err(problem(
                    StatusCode::UNAUTHORIZED,
                    &anonymous(),
                    "session-ended",
                )),
                Err(e) => Err(internal_error(&anonymous(), e)),
            },
            Err(e) => Err(internal_error(&anonymous(), e)),
        }
    }
}

impl CustomerSession {
    /// The warning every page of the flow carries: when the session ends if left idle (each
    /// page keeps it alive) and at the latest. Times in UTC, to the minute.
    pub(super) fn ending_note(&self, state: &AppState) -> String {
        let tr = self.1.tr;
        let idle_end = (state.clock.now() + state.config.session_idle).min(self.0.expires_at);
        let mut args = fluent_bundle::FluentArgs::new();
        args.set("idle", tr.time_utc(idle_end));
        args.set("latest", tr.time_utc(self.0.expires_at));
        self.1.args("session-note", args)
    }

    /// A 500 (or 503) page of this session.
    pub(super) fn failed(&self, err: impl Into<anyhow::Error>) -> Response {
        internal_error(&self.1, err)
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
        (!same_token(sent, &self.0.csrf_token)).then(|| csrf_failed(&self.1))
    }
}

pub(super) fn csrf_failed(ui: &Ui) -> Response {
    problem(StatusCode::FORBIDDEN, ui, "form-expired")
}
