//! Operators' accounts in the console: an operator changes their own password (their other
//! sessions end); an admin sees the accounts and makes a one-time link for a reviewer to set a
//! new password (shown once, valid for a day, only its hash stored). The link's page needs no
//! session: the token in its address is the secret, so it also stands for the form's CSRF
//! token (a forged form would need it), and the request log never writes it.
//!
//! Who may make a link is narrow on purpose: whoever holds a link holds the account. Only an
//! admin who sees every platform may, and only for a reviewer: an admin limited to some
//! platforms could otherwise take over an account that sees them all, and one admin could take
//! over another's and approve a sanctions case alone, as both of the two admins it needs. An
//! admin's password is reset on the command line (`kyb operator password`).

use askama::Template;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use kyb_store::{secrets, ActorKind, AuditContext, OperatorRole};

use super::{internal, minutes, problem, secret_field, OperatorSession};
use crate::extract::RequestContext;
use crate::web::cookies::random_token;
use crate::web::page;
use crate::AppState;

/// How long a reset link can be used.
const RESET_VALID_FOR: chrono::Duration = chrono::Duration::hours(24);

#[derive(Template)]
#[template(path = "console/operators.html")]
struct OperatorsPage {
    operator: String,
    csrf: String,
    /// (id, e-mail, role, active, platforms, a reset link may be made)
    accounts: Vec<(String, String, &'static str, bool, String, bool)>,
    /// A reset link made just now: (for whom, the link, until when).
    made: Option<(String, String, String)>,
}

#[derive(Template)]
#[template(path = "console/password.html")]
struct PasswordPage {
    operator: String,
    csrf: String,
    /// Where the form posts.
    action: String,
    /// Whether the current password is asked (a change, not a reset).
    current: bool,
    /// Whose password.
    email: String,
    error: String,
    done: bool,
}

async fn accounts_page(
    state: &AppState,
    me: &OperatorSession,
    made: Option<(String, String, String)>,
) -> Response {
    let accounts = match state.store.operator_accounts().await {
        Ok(a) => a,
        Err(e) => return internal(e),
    };
    let accounts = accounts
        .into_iter()
        .map(|a| {
            let platforms = if a.platforms.is_empty() {
                "every platform".to_owned()
            } else {
                let ids: Vec<&str> = a.platforms.iter().map(|p| p.as_str()).collect();
                ids.join(", ")
            };
            let o = a.operator;
            let resettable = !a.disabled && o.role == OperatorRole::Reviewer;
            (
                o.id,
                o.email,
                o.role.as_str(),
                !a.disabled,
                platforms,
                resettable,
            )
        })
        .collect();
    page(
        StatusCode::OK,
        &OperatorsPage {
            operator: me.operator().email.clone(),
            csrf: me.session.csrf_token.clone(),
            accounts,
            made,
        },
    )
}

/// Admins who see every platform manage operators.
fn manages_operators(me: &OperatorSession) -> bool {
    me.operator().role == OperatorRole::Admin && me.visible().is_none()
}

fn admins_only() -> Response {
    problem(
        StatusCode::FORBIDDEN,
        "Only admins manage operators",
        "Only an admin who sees every platform manages operators. Ask one of them.",
    )
}

/// The accounts, for admins.
pub(super) async fn list(State(state): State<AppState>, me: OperatorSession) -> Response {
    if !manages_operators(&me) {
        return admins_only();
    }
    accounts_page(&state, &me, None).await
}

/// Makes a one-time reset link for an operator and shows it once.
pub(super) async fn make_reset(
    State(state): State<AppState>,
    me: OperatorSession,
    rc: RequestContext,
    Path(operator_id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    if let Some(r) = me.csrf_refusal(&form) {
        return r;
    }
    if !manages_operators(&me) {
        return admins_only();
    }
    let token = random_token();
    let now = state.clock.now();
    let until = now + RESET_VALID_FOR;
    match state
        .store
        .create_password_reset(
            &operator_id,
            &secrets::hash_secret(&token),
            until,
            &me.audit(&rc, now),
        )
        .await
    {
        Ok(for_whom) => {
            let link = format!("{}/console/reset/{token}", state.public_url);
            accounts_page(&state, &me, Some((for_whom.email, link, minutes(until)))).await
        }
        Err(kyb_store::StoreError::NotFound) => problem(
            StatusCode::NOT_FOUND,
            "No such operator",
            "There is no active operator of that id.",
        ),
        Err(kyb_store::StoreError::Refused { .. }) => problem(
            StatusCode::FORBIDDEN,
            "An admin's password is reset on the command line",
            "Run kyb operator password --email with the admin's address on the server: one admin cannot take over another's account from the console.",
        ),
        Err(e) => internal(e),
    }
}

fn password_form(
    status: StatusCode,
    me: Option<&OperatorSession>,
    action: String,
    email: &str,
    error: &str,
    done: bool,
) -> Response {
    page(
        status,
        &PasswordPage {
            operator: me.map(|m| m.operator().email.clone()).unwrap_or_default(),
            csrf: me.map(|m| m.session.csrf_token.clone()).unwrap_or_default(),
            current: me.is_some(),
            action,
            email: email.to_owned(),
            error: error.to_owned(),
            done,
        },
    )
}

/// The new password of a form, twice the same and long enough; or what is wrong.
fn new_password(form: &[(String, String)]) -> Result<String, &'static str> {
    let new = secret_field(form, "new_password");
    let again = secret_field(form, "new_password_again");
    if new.chars().count() < super::password::MIN_LENGTH {
        return Err("The new password must be at least 12 characters.");
    }
    if new != again {
        return Err("The two new passwords differ: type the same one twice.");
    }
    Ok(new.to_owned())
}

pub(super) async fn change_page(me: OperatorSession) -> Response {
    let email = me.operator().email.clone();
    password_form(
        StatusCode::OK,
        Some(&me),
        "/console/password".into(),
        &email,
        "",
        false,
    )
}

/// Changes the signed-in operator's password; their other sessions end.
pub(super) async fn change(
    State(state): State<AppState>,
    me: OperatorSession,
    rc: RequestContext,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    if let Some(r) = me.csrf_refusal(&form) {
        return r;
    }
    let email = me.operator().email.clone();
    let again = |status, error: &str| {
        password_form(
            status,
            Some(&me),
            "/console/password".into(),
            &email,
            error,
            false,
        )
    };
    let current = secret_field(&form, "current_password").to_owned();
    let stored = match state.store.operator_for_login(&email).await {
        Ok(Some(found)) => found.password_hash,
        Ok(None) => return internal(anyhow::anyhow!("the signed-in operator has no account")),
        Err(e) => return internal(e),
    };
    if !state.signin.verify(current, stored).await {
        return again(
            StatusCode::UNPROCESSABLE_ENTITY,
            "The current password is wrong.",
        );
    }
    let new = match new_password(&form) {
        Ok(p) => p,
        Err(e) => return again(StatusCode::UNPROCESSABLE_ENTITY, e),
    };
    let hash = match state.signin.hash(new).await {
        Ok(h) => h,
        Err(e) => return internal(anyhow::anyhow!(e)),
    };
    if let Err(e) = state
        .store
        .set_operator_password(
            &me.operator().id,
            &hash,
            Some(me.id_hash()),
            &me.audit(&rc, state.clock.now()),
        )
        .await
    {
        return internal(e);
    }
    password_form(
        StatusCode::OK,
        Some(&me),
        "/console/password".into(),
        &email,
        "",
        true,
    )
}

fn reset_unusable() -> Response {
    problem(
        StatusCode::NOT_FOUND,
        "This link cannot be used",
        "It was used already, it has expired, or a newer one was made. Ask an admin for a new link.",
    )
}

/// The page of a reset link: the form for a new password.
pub(super) async fn reset_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Response {
    match state
        .store
        .find_password_reset(&secrets::hash_secret(&token), state.clock.now())
        .await
    {
        Ok(Some(o)) => password_form(
            StatusCode::OK,
            None,
            format!("/console/reset/{token}"),
            &o.email,
            "",
            false,
        ),
        Ok(None) => reset_unusable(),
        Err(e) => internal(e),
    }
}

/// Uses a reset link: the new password, then the sign-in page.
pub(super) async fn reset(
    State(state): State<AppState>,
    rc: RequestContext,
    Path(token): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let id_hash = secrets::hash_secret(&token);
    let now = state.clock.now();
    let operator = match state.store.find_password_reset(&id_hash, now).await {
        Ok(Some(o)) => o,
        Ok(None) => return reset_unusable(),
        Err(e) => return internal(e),
    };
    let new = match new_password(&form) {
        Ok(p) => p,
        Err(e) => {
            return password_form(
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                format!("/console/reset/{token}"),
                &operator.email,
                e,
                false,
            )
        }
    };
    let hash = match state.signin.hash(new).await {
        Ok(h) => h,
        Err(e) => return internal(anyhow::anyhow!(e)),
    };
    // The store names the account as the actor: whoever holds the link acts as it.
    let link_holder = AuditContext {
        actor: ActorKind::Operator,
        actor_id: None,
        request_id: rc.request_id,
        client_addr: rc.client_addr,
        at: now,
    };
    match state
        .store
        .redeem_password_reset(&id_hash, &hash, &link_holder)
        .await
    {
        Ok(Some(_)) => Redirect::to("/console/login?reset=done").into_response(),
        Ok(None) => reset_unusable(),
        Err(e) => internal(e),
    }
}
