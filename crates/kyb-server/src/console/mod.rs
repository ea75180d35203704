//! The review console under `/console`, one module per concern: `session` (sign-in, the
//! operator's session and its CSRF token; throttled by `signin`, passwords in `password`),
//! `queue` (the cases waiting for a person), `case` (everything about one case on one page),
//! `decisions` (approve, reject, ask for more, keep a flagged case), `hits` (verdicts on
//! sanctions hits), `checks` (failed check jobs, run again), `casework` (assignment and notes),
//! `timeline` (the case's history from the audit log) and `operators` (passwords and reset
//! links). This file holds what they share: the routes, finding a case from its URL (as this
//! operator may see it), the refusals, and the redirects that say what happened.

mod case;
mod casework;
mod checks;
mod decisions;
mod evidence;
mod hits;
mod operators;
pub mod password;
mod queue;
mod session;
pub mod signin;
mod timeline;

use askama::Template;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use kyb_domain::CustomerId;
use kyb_store::StoreError;

use crate::web::page;
use crate::AppState;

pub use decisions::REJECTION_REASONS;
pub use session::OperatorSession;

/// What a refused action says on the case page, by code: the page says only these sentences, so
/// nobody can make the console show a text of their choosing.
const REFUSALS: [(&str, &str); 26] = [
    (
        "assigned_to_other",
        "Another operator works on this case: an admin can reassign it.",
    ),
    ("not_assigned", "Nobody works on this case."),
    (
        "admins_only_assign",
        "Only admins may give a case to another operator.",
    ),
    (
        "no_such_operator",
        "Choose an active operator to give the case to.",
    ),
    ("assign_action", "Choose to take the case, give it back, or give it to someone."),
    (
        "note_required",
        "Write the note (up to 4000 characters).",
    ),
    (
        "confirmed_match",
        "A sanctions hit of this case is confirmed as a true match: reject the case.",
    ),
    (
        "not_a_hit",
        "That entry is not a hit of this case's latest sanctions check (the checks may have run again): reload the page.",
    ),
    (
        "admins_only_clear",
        "Only admins may clear a hit as a false positive, and two of them must.",
    ),
    (
        "second_admin_needed_clear",
        "You already cleared this hit: a second admin must clear it too.",
    ),
    ("verdict_required", "Choose true match or false positive."),
    (
        "verdict_reason_required",
        "Say why (up to 2000 characters): the reason is kept in the audit trail.",
    ),
    (
        "checks_running",
        "The automated checks of this case have not finished: approve once their results are in.",
    ),
    (
        "checks_failed",
        "An automated check of this case failed: run it again, or ask an admin to decide with the failure on record.",
    ),
    (
        "no_failed_checks",
        "No check of this case has failed: there is nothing to run again.",
    ),
    (
        "admins_only",
        "This case has a sanctions hit: only admins may approve it, and two of them must.",
    ),
    (
        "second_admin_needed",
        "You already approved this case: a second admin must approve it.",
    ),
    ("not_flagged", "This case is not flagged."),
    (
        "invalid_state",
        "This decision is not possible in the case's current status.",
    ),
    (
        "reason_required",
        "Choose a rejection reason from the list.",
    ),
    (
        "note_too_long",
        "The note must be 2000 characters or fewer.",
    ),
    (
        "info_incomplete",
        "Pick at least one item and write a message (up to 2000 characters) for the customer.",
    ),
    (
        "flag_reason_required",
        "Say why the case can stay as it is (up to 2000 characters).",
    ),
    (
        "conflict",
        "The case changed meanwhile: reload the page and try again.",
    ),
    (
        "confirm_required",
        "Tick the box to confirm the decision: it is final, and the platform is told at once.",
    ),
    (
        "invisible_characters",
        "The form held invisible, control or text-direction characters (they can hide or reorder what a reader sees): type the text again without them.",
    ),
];

fn refusal(code: &str) -> &'static str {
    REFUSALS
        .iter()
        .find(|(c, _)| *c == code)
        .map_or("", |(_, m)| m)
}

/// A case found by the id in its URL: the customer and its platform (id, name).
struct Case {
    id: CustomerId,
    platform: kyb_domain::PlatformId,
    platform_name: String,
}

/// Why a case URL leads nowhere.
enum NoCase {
    NotFound,
    Store(StoreError),
}

impl IntoResponse for NoCase {
    fn into_response(self) -> Response {
        match self {
            Self::NotFound => problem(
                StatusCode::NOT_FOUND,
                "No such case",
                "There is no case at this address: the link may be mistyped.",
            ),
            Self::Store(e) => internal(e),
        }
    }
}

#[derive(Template)]
#[template(path = "console/problem.html")]
struct ProblemPage {
    operator: String,
    title: &'static str,
    what: &'static str,
}

/// A page saying what went wrong, with the way back to the queue.
pub(super) fn problem(status: StatusCode, title: &'static str, what: &'static str) -> Response {
    page(
        status,
        &ProblemPage {
            operator: String::new(),
            title,
            what,
        },
    )
}

/// The case of a URL, if it exists and this operator may see its platform: a case of another
/// platform is "no such case", as if it did not exist.
async fn find_case(state: &AppState, me: &OperatorSession, raw: &str) -> Result<Case, NoCase> {
    let id = CustomerId::parse(raw).map_err(|_| NoCase::NotFound)?;
    match state.store.customer_platform(&id).await {
        Ok(Some((platform, _))) if !me.sees(&platform) => Err(NoCase::NotFound),
        Ok(Some((platform, platform_name))) => Ok(Case {
            id,
            platform,
            platform_name,
        }),
        Ok(None) => Err(NoCase::NotFound),
        Err(e) => Err(NoCase::Store(e)),
    }
}

/// The case a form acts on, and who acts: the audit context of this operator, now. Or the page
/// saying there is no such case.
async fn acting_on(
    state: &AppState,
    me: &OperatorSession,
    rc: &crate::extract::RequestContext,
    raw: &str,
) -> Result<(Case, kyb_store::AuditContext), Response> {
    let case = find_case(state, me, raw)
        .await
        .map_err(IntoResponse::into_response)?;
    Ok((case, me.audit(rc, state.clock.now())))
}

/// Back to the case page after an action that took effect.
fn done(raw: &str, what: &str) -> Response {
    Redirect::to(&format!("/console/cases/{}?done={what}", case_segment(raw))).into_response()
}

/// The case page again after the store refused an action: why, and what was typed.
async fn store_refusal(
    state: &AppState,
    me: &OperatorSession,
    raw: &str,
    e: StoreError,
    typed: case::Typed,
) -> Response {
    let code = match e {
        StoreError::Refused { code, .. } => code,
        StoreError::Conflict(_) => "conflict",
        StoreError::InvalidTransition(_) => "invalid_state",
        other => return internal(other),
    };
    case::render(state, me, raw, StatusCode::CONFLICT, "", code, typed).await
}

/// The case page again after a form was refused before it reached the store: why, and what was
/// typed (422).
async fn refused(
    state: &AppState,
    me: &OperatorSession,
    raw: &str,
    code: &'static str,
    typed: case::Typed,
) -> Response {
    case::render(
        state,
        me,
        raw,
        StatusCode::UNPROCESSABLE_ENTITY,
        "",
        code,
        typed,
    )
    .await
}

/// The refusal of a form about a case: a CSRF token that is not this session's, or a field
/// holding invisible, control or text-direction characters (said on the case page, whose forms
/// then start empty: the text is not shown back).
async fn form_refusal(
    state: &AppState,
    me: &OperatorSession,
    raw: &str,
    form: &[(String, String)],
) -> Option<Response> {
    if let Some(r) = me.csrf_refusal(form) {
        return Some(r);
    }
    crate::input::pairs_invisible(form.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
    Some(
        refused(
            state,
            me,
            raw,
            "invisible_characters",
            case::Typed::default(),
        )
        .await,
    )
}

/// A case id from a URL, written back into one: percent-encoded, since the id that came in may
/// be anything a visitor typed.
fn case_segment(raw: &str) -> percent_encoding::PercentEncode<'_> {
    percent_encoding::utf8_percent_encode(raw, percent_encoding::NON_ALPHANUMERIC)
}

pub fn router() -> Router<AppState> {
    let pages = Router::new()
        .route("/console", get(queue::queue))
        .route(
            "/console/login",
            get(session::login_page).post(session::login),
        )
        .route("/console/logout", post(session::logout))
        .route(
            "/console/password",
            get(operators::change_page).post(operators::change),
        )
        .route("/console/operators", get(operators::list))
        .route(
            "/console/operators/{operator_id}/reset",
            post(operators::make_reset),
        )
        .route(
            "/console/reset/{token}",
            get(operators::reset_page).post(operators::reset),
        )
        .route("/console/cases/{customer_id}", get(case::case_page))
        .route(
            "/console/cases/{customer_id}/documents/{document_id}",
            get(case::document),
        )
        .route(
            "/console/cases/{customer_id}/documents/{document_id}/preview",
            get(case::preview),
        )
        .route(
            "/console/cases/{customer_id}/approve",
            post(decisions::approve),
        )
        .route(
            "/console/cases/{customer_id}/reject",
            post(decisions::reject),
        )
        .route(
            "/console/cases/{customer_id}/request-info",
            post(decisions::request_info),
        )
        .route(
            "/console/cases/{customer_id}/clear-flag",
            post(decisions::clear_flag),
        )
        .route(
            "/console/cases/{customer_id}/checks/rerun",
            post(checks::rerun),
        )
        .route(
            "/console/cases/{customer_id}/assign",
            post(casework::assign),
        )
        .route(
            "/console/cases/{customer_id}/notes",
            post(casework::add_note),
        )
        .route(
            "/console/cases/{customer_id}/hits/verdict",
            post(hits::verdict),
        );
    crate::web::with_page_headers(pages)
}

/// A 500 page, or 503 with `Retry-After` when the database is unavailable; the error is
/// logged with its whole cause chain and the request id.
fn internal(e: impl Into<anyhow::Error>) -> Response {
    let e = e.into();
    tracing::error!(
        error = format!("{e:#}"),
        request_id = crate::request_id::current().unwrap_or_default(),
        "console request failed"
    );
    if crate::web::unavailable(&e) {
        let mut r = problem(
            StatusCode::SERVICE_UNAVAILABLE,
            "The database is unavailable for now",
            "Nothing was changed. Try again in a minute.",
        );
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(5));
        return r;
    }
    problem(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong",
        "The request could not be completed. Try again; if it keeps happening, tell the people who run kyb (the log has the details).",
    )
}

/// A reason or note an action needs: 1 to 2000 characters.
fn required_text<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    let text = field(form, name);
    (!text.is_empty() && text.chars().count() <= 2000).then_some(text)
}

/// A form field, trimmed (the last one of the name).
fn field<'a>(form: &'a [(String, String)], name: &str) -> &'a str {
    secret_field(form, name).trim()
}

/// A form field as typed, never trimmed: a password's spaces are part of it.
fn secret_field<'a>(form: &'a [(String, String)], name: &str) -> &'a str {
    form.iter()
        .rev()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

fn minutes(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}
