//! Operators' sessions: the sign-in form (double-submit CSRF, throttled by `signin`), a
//! server-side session in an HttpOnly, SameSite=Strict cookie scoped to `/console`, the CSRF
//! token of its forms, and signing out.

use askama::Template;
use axum::extract::{FromRequestParts, State};
use axum::http::{header, request::Parts, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use kyb_store::{secrets, ActorKind, AuditContext, ConsoleSession, Operator};

use super::{field, internal, password, problem, secret_field, signin};
use crate::extract::RequestContext;
use crate::web::cookies::{self, cookie, random_token, same_token, CookieScope};
use crate::web::page;
use crate::AppState;

const SESSION_COOKIE: &str = "kyb_console";
const LOGIN_COOKIE: &str = "kyb_console_login";

/// The console's cookies: sent for `/console` only, never cross-site.
fn set_cookie(state: &AppState, name: &str, value: &str, max_age: Option<i64>) -> HeaderValue {
    let scope = CookieScope {
        path: "/console",
        same_site: "Strict",
    };
    cookies::set_cookie(state, &scope, name, value, max_age)
}

/// A signed-in operator.
pub struct OperatorSession {
    pub session: ConsoleSession,
    id_hash: String,
    /// The platforms this operator may see; `None`: every platform.
    visible: Option<Vec<kyb_domain::PlatformId>>,
}

impl FromRequestParts<AppState> for OperatorSession {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let to_login = || Redirect::to("/console/login").into_response();
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(to_login());
        };
        let id_hash = secrets::hash_secret(&token);
        match state
            .store
            .find_console_session(&id_hash, state.clock.now(), state.config.session_idle)
            .await
        {
            Ok(Some(session)) => {
                let visible = match state.store.operator_platforms(&session.operator.id).await {
                    Ok(ids) if ids.is_empty() => None,
                    Ok(ids) => Some(ids),
                    Err(e) => return Err(internal(e)),
                };
                Ok(Self {
                    session,
                    id_hash,
                    visible,
                })
            }
            Ok(None) => Err(to_login()),
            Err(e) => Err(internal(e)),
        }
    }
}

impl OperatorSession {
    /// The hash of this session's cookie (its id in the store).
    pub(super) fn id_hash(&self) -> &str {
        &self.id_hash
    }

    /// Whether this operator may see the cases of `platform`.
    pub(super) fn sees(&self, platform: &kyb_domain::PlatformId) -> bool {
        self.visible.as_ref().is_none_or(|v| v.contains(platform))
    }

    /// The platforms this operator may see; `None`: every platform.
    pub(super) fn visible(&self) -> Option<&[kyb_domain::PlatformId]> {
        self.visible.as_deref()
    }

    pub(super) fn operator(&self) -> &Operator {
        &self.session.operator
    }

    /// The refusal of a form whose CSRF token is not this session's.
    pub(super) fn csrf_refusal(&self, form: &[(String, String)]) -> Option<Response> {
        let sent = field(form, "csrf");
        (!same_token(sent, &self.session.csrf_token)).then(|| {
            problem(
                StatusCode::FORBIDDEN,
                "This form is out of date",
                "It did not come from your current session, so nothing was changed. Go back, reload the page and send the form again.",
            )
        })
    }

    pub(super) fn audit(
        &self,
        rc: &RequestContext,
        at: chrono::DateTime<chrono::Utc>,
    ) -> AuditContext {
        AuditContext {
            actor: ActorKind::Operator,
            actor_id: Some(self.session.operator.id.clone()),
            request_id: rc.request_id.clone(),
            client_addr: rc.client_addr.clone(),
            at,
        }
    }
}

// ----- sign in --------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "console/login.html")]
struct LoginPage {
    operator: String,
    csrf: String,
    email: String,
    error: String,
    notice: &'static str,
}

fn login_form(state: &AppState, status: StatusCode, email: &str, error: &str) -> Response {
    login_form_with(state, status, email, error, "")
}

fn login_form_with(
    state: &AppState,
    status: StatusCode,
    email: &str,
    error: &str,
    notice: &'static str,
) -> Response {
    let csrf = random_token();
    let mut r = page(
        status,
        &LoginPage {
            operator: String::new(),
            csrf: csrf.clone(),
            email: email.to_owned(),
            error: error.to_owned(),
            notice,
        },
    );
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(state, LOGIN_COOKIE, &csrf, None),
    );
    r
}

#[derive(serde::Deserialize)]
pub(super) struct LoginQuery {
    reset: Option<String>,
}

pub(super) async fn login_page(
    State(state): State<AppState>,
    axum::extract::Query(q): axum::extract::Query<LoginQuery>,
) -> Response {
    let notice = if q.reset.as_deref() == Some("done") {
        "Your new password is set: sign in with it."
    } else {
        ""
    };
    login_form_with(&state, StatusCode::OK, "", "", notice)
}

pub(super) async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    rc: RequestContext,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    // The login form's token must match its cookie (double submit): no cross-site logins.
    let expected = cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    if expected.is_empty() || !same_token(field(&form, "csrf"), &expected) {
        return login_form(
            &state,
            StatusCode::FORBIDDEN,
            "",
            "The form was out of date. Sign in again.",
        );
    }
    let email = field(&form, "email").to_lowercase();
    if crate::input::pairs_invisible([("email", email.as_str())]).is_some() {
        return login_form(
            &state,
            StatusCode::BAD_REQUEST,
            "",
            "The e-mail address holds invisible or control characters: type it again.",
        );
    }
    let password = secret_field(&form, "password").to_owned();
    let now = state.clock.now();
    let ip: Option<std::net::IpAddr> = rc.client_addr.as_deref().and_then(|a| a.parse().ok());
    let wrong = "Wrong e-mail address or password.";
    let locked = |until: chrono::DateTime<chrono::Utc>| {
        login_form(
            &state,
            StatusCode::LOCKED,
            &email,
            &format!(
                "Too many failed sign-ins for this account from your network: try again after {} UTC.",
                until.format("%H:%M")
            ),
        )
    };
    match state.signin.admit(&email, ip, now) {
        signin::Admission::Go => {}
        signin::Admission::Locked(until) => return locked(until),
        signin::Admission::TooMany(wait) => {
            let mut r = login_form(
                &state,
                StatusCode::TOO_MANY_REQUESTS,
                &email,
                &format!("Too many sign-in attempts: wait {wait} seconds, then try again."),
            );
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(wait));
            return r;
        }
    }
    let found = match state.store.operator_for_login(&email).await {
        Ok(f) => f,
        Err(e) => return internal(e),
    };
    // Unknown addresses check a dummy hash: the same work, so timing tells nothing.
    let hash = found
        .as_ref()
        .map_or(password::DUMMY_HASH.to_owned(), |f| f.password_hash.clone());
    let ok = state.signin.verify(password, hash).await;
    let found = match found {
        Some(f) if ok && !f.disabled => f,
        _ => {
            return match state.signin.failed(&email, ip, now) {
                Some(until) => locked(until),
                None => login_form(&state, StatusCode::UNAUTHORIZED, &email, wrong),
            }
        }
    };
    state.signin.succeeded(&email, ip);
    let token = random_token();
    let expires = now + state.config.session_max;
    if let Err(e) = state
        .store
        .start_console_session(
            &found.operator.id,
            &secrets::hash_secret(&token),
            &random_token(),
            now,
            expires,
        )
        .await
    {
        return internal(e);
    }
    let mut r = Redirect::to("/console").into_response();
    let h = r.headers_mut();
    h.append(
        header::SET_COOKIE,
        set_cookie(&state, SESSION_COOKIE, &token, None),
    );
    h.append(
        header::SET_COOKIE,
        set_cookie(&state, LOGIN_COOKIE, "", Some(0)),
    );
    r
}

pub(super) async fn logout(
    State(state): State<AppState>,
    me: OperatorSession,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    if let Some(r) = me.csrf_refusal(&form) {
        return r;
    }
    if let Err(e) = state
        .store
        .end_console_session(&me.id_hash, state.clock.now())
        .await
    {
        return internal(e);
    }
    let mut r = Redirect::to("/console/login").into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&state, SESSION_COOKIE, "", Some(0)),
    );
    r
}
