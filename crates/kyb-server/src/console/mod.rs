//! The review console under `/console`: operators sign in (argon2 passwords, a server-side
//! session in an HttpOnly cookie, CSRF on every form, the account locked after repeated
//! failures), see the queue of cases by risk and age, open a case with everything the customer
//! gave, its documents and every check with its evidence, and decide: approve, reject with a
//! reason code and an internal note, or ask for more information. Each decision is written with
//! its status change, webhook event and audit row in one transaction (`Store::decide`).

mod checks;
mod hits;
pub mod password;
pub mod signin;

use askama::Template;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::{header, request::Parts, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use kyb_domain::requirements::{document_label, BUSINESS_FIELDS, DOCUMENT_KINDS};
use kyb_domain::CustomerId;
use kyb_store::{
    secrets, ActorKind, AuditContext, ConsoleSession, DecisionAction, DecisionOutcome, InfoRequest,
    Operator, StoreError,
};

use crate::extract::RequestContext;
use crate::hosted::pages::page;
use crate::hosted::session::{cookie, random_token, same_token};
use crate::AppState;

const SESSION_COOKIE: &str = "kyb_console";
const LOGIN_COOKIE: &str = "kyb_console_login";

/// Reason codes a reviewer can reject with; the platform sees the code, never the note.
pub const REJECTION_REASONS: [(&str, &str); 6] = [
    ("sanctions_match", "Confirmed sanctions match"),
    ("documents_invalid", "Documents invalid or forged"),
    ("registry_mismatch", "Does not match the company registry"),
    ("prohibited_business", "Prohibited or high-risk business"),
    ("fraud_suspected", "Fraud suspected"),
    ("other", "Other (see the audit trail)"),
];

/// What a refused action says on the case page. Redirects carry only the code, so nobody can
/// make the console show a text of their choosing.
const REFUSALS: [(&str, &str); 19] = [
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
            Self::NotFound => (StatusCode::NOT_FOUND, "no such case").into_response(),
            Self::Store(e) => internal(e),
        }
    }
}

async fn find_case(state: &AppState, raw: &str) -> Result<Case, NoCase> {
    let id = CustomerId::parse(raw).map_err(|_| NoCase::NotFound)?;
    match state.store.customer_platform(&id).await {
        Ok(Some((platform, platform_name))) => Ok(Case {
            id,
            platform,
            platform_name,
        }),
        Ok(None) => Err(NoCase::NotFound),
        Err(e) => Err(NoCase::Store(e)),
    }
}

/// Back to the case page after an action that took effect.
fn done(raw: &str, what: &str) -> Response {
    Redirect::to(&format!("/console/cases/{}?done={what}", case_segment(raw))).into_response()
}

/// Back to the case page after the store refused an action, saying why.
fn store_refusal(raw: &str, e: StoreError) -> Response {
    match e {
        StoreError::Refused { code, .. } => refused(raw, code),
        StoreError::Conflict(_) => refused(raw, "conflict"),
        StoreError::InvalidTransition(_) => refused(raw, "invalid_state"),
        other => internal(other),
    }
}

/// Back to the case page, saying why the action was refused.
fn refused(raw: &str, code: &str) -> Response {
    Redirect::to(&format!(
        "/console/cases/{}?error={code}",
        case_segment(raw)
    ))
    .into_response()
}

/// A case id from a URL, written back into one: percent-encoded, since the id that came in may
/// be anything a visitor typed.
fn case_segment(raw: &str) -> percent_encoding::PercentEncode<'_> {
    percent_encoding::utf8_percent_encode(raw, percent_encoding::NON_ALPHANUMERIC)
}

pub fn router() -> Router<AppState> {
    let pages = Router::new()
        .route("/console", get(queue))
        .route("/console/login", get(login_page).post(login))
        .route("/console/logout", post(logout))
        .route("/console/cases/{customer_id}", get(case_page))
        .route(
            "/console/cases/{customer_id}/documents/{document_id}",
            get(document),
        )
        .route("/console/cases/{customer_id}/approve", post(approve))
        .route("/console/cases/{customer_id}/reject", post(reject))
        .route(
            "/console/cases/{customer_id}/request-info",
            post(request_info),
        )
        .route("/console/cases/{customer_id}/clear-flag", post(clear_flag))
        .route(
            "/console/cases/{customer_id}/checks/rerun",
            post(checks::rerun),
        )
        .route(
            "/console/cases/{customer_id}/hits/verdict",
            post(hits::verdict),
        );
    crate::hosted::with_page_headers(pages)
}

fn set_cookie(state: &AppState, name: &str, value: &str, max_age: Option<i64>) -> HeaderValue {
    let secure = if state.public_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    let age = max_age
        .map(|s| format!("; Max-Age={s}"))
        .unwrap_or_default();
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/console; HttpOnly; SameSite=Strict{secure}{age}"
    ))
    .expect("cookie values are base64url")
}

/// A signed-in operator.
pub struct OperatorSession {
    pub session: ConsoleSession,
    id_hash: String,
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
            Ok(Some(session)) => Ok(Self { session, id_hash }),
            Ok(None) => Err(to_login()),
            Err(e) => Err(internal(e)),
        }
    }
}

/// A 500; the error is logged with its whole cause chain and the request id.
fn internal(e: impl Into<anyhow::Error>) -> Response {
    let e = e.into();
    tracing::error!(
        error = format!("{e:#}"),
        request_id = crate::request_id::current().unwrap_or_default(),
        "console request failed"
    );
    if crate::hosted::pages::unavailable(&e) {
        let mut r = (
            StatusCode::SERVICE_UNAVAILABLE,
            "the database is unavailable for now: try again in a minute",
        )
            .into_response();
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(5));
        return r;
    }
    (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
}

impl OperatorSession {
    fn operator(&self) -> &Operator {
        &self.session.operator
    }

    /// The refusal of a form about a case: a CSRF token that is not this session's, or a field
    /// holding invisible, control or text-direction characters (named on the case page).
    fn case_form_refusal(&self, raw: &str, form: &[(String, String)]) -> Option<Response> {
        self.csrf_refusal(form).or_else(|| {
            crate::input::pairs_invisible(form.iter().map(|(k, v)| (k.as_str(), v.as_str())))
                .map(|_| refused(raw, "invisible_characters"))
        })
    }

    /// The refusal of a form whose CSRF token is not this session's.
    fn csrf_refusal(&self, form: &[(String, String)]) -> Option<Response> {
        let sent = field(form, "csrf");
        (!same_token(sent, &self.session.csrf_token)).then(|| {
            (
                StatusCode::FORBIDDEN,
                "the form is out of date: reload the page",
            )
                .into_response()
        })
    }

    fn audit(&self, rc: &RequestContext, at: chrono::DateTime<chrono::Utc>) -> AuditContext {
        AuditContext {
            actor: ActorKind::Operator,
            actor_id: Some(self.session.operator.id.clone()),
            request_id: rc.request_id.clone(),
            client_addr: rc.client_addr.clone(),
            at,
        }
    }
}

/// A reason or note an action needs: 1 to 2000 characters.
fn required_text<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    let text = field(form, name);
    (!text.is_empty() && text.chars().count() <= 2000).then_some(text)
}

fn field<'a>(form: &'a [(String, String)], name: &str) -> &'a str {
    form.iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.trim())
        .unwrap_or("")
}

// ----- sign in --------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "console/login.html")]
struct LoginPage {
    operator: String,
    csrf: String,
    email: String,
    error: String,
}

fn login_form(state: &AppState, status: StatusCode, email: &str, error: &str) -> Response {
    let csrf = random_token();
    let mut r = page(
        status,
        &LoginPage {
            operator: String::new(),
            csrf: csrf.clone(),
            email: email.to_owned(),
            error: error.to_owned(),
        },
    );
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(state, LOGIN_COOKIE, &csrf, None),
    );
    r
}

async fn login_page(State(state): State<AppState>) -> Response {
    login_form(&state, StatusCode::OK, "", "")
}

async fn login(
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
    let password = field(&form, "password").to_owned();
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

async fn logout(
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

// ----- the queue ------------------------------------------------------------------------------

struct QueueRow {
    id: String,
    name: String,
    platform: String,
    submitted: String,
    risk: &'static str,
    status: &'static str,
    flag: String,
}

#[derive(Template)]
#[template(path = "console/queue.html")]
struct QueuePage {
    operator: String,
    csrf: String,
    items: Vec<QueueRow>,
}

fn minutes(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

async fn queue(State(state): State<AppState>, me: OperatorSession) -> Response {
    let items = match state.store.review_queue(state.clock.now(), 200).await {
        Ok(i) => i,
        Err(e) => return internal(e),
    };
    let items = items
        .into_iter()
        .map(|i| QueueRow {
            id: i.customer.id.to_string(),
            name: i.customer.business_name.clone(),
            platform: i.platform_name,
            submitted: i.submitted_at.map(minutes).unwrap_or_default(),
            risk: match i.risk {
                2 => "fail",
                1 => "warn",
                0 => "pass",
                _ => "running",
            },
            status: i.customer.verification_status.as_str(),
            flag: i.customer.review.review_flag.clone().unwrap_or_default(),
        })
        .collect();
    page(
        StatusCode::OK,
        &QueuePage {
            operator: me.operator().email.clone(),
            csrf: me.session.csrf_token.clone(),
            items,
        },
    )
}

// ----- a case ---------------------------------------------------------------------------------

struct CheckView {
    kind: String,
    outcome: String,
    reasons: String,
    at: String,
    evidence: String,
}

#[derive(Template)]
#[template(path = "console/case.html")]
struct CasePage {
    operator: String,
    csrf: String,
    customer_id: String,
    name: String,
    platform: String,
    status: &'static str,
    flag: String,
    notice: String,
    error: String,
    fields: Vec<(String, String)>,
    people: Vec<String>,
    documents: Vec<(String, String, String)>,
    checks: Vec<CheckView>,
    failed: Vec<checks::FailedView>,
    admin: bool,
    hits: Vec<hits::HitView>,
    decisions: Vec<String>,
    decidable: bool,
    reasons: Vec<(&'static str, &'static str)>,
    items: Vec<(String, String)>,
}

/// The things a reviewer may ask for again.
pub fn requestable_items() -> Vec<(String, String)> {
    let mut items: Vec<(String, String)> = BUSINESS_FIELDS
        .iter()
        .map(|f| {
            (
                format!("business_details.{f}"),
                format!("Business details: {}", f.replace('_', " ")),
            )
        })
        .collect();
    items.push((
        "people".into(),
        "People: directors, control persons and owners".into(),
    ));
    items.extend(DOCUMENT_KINDS.iter().map(|(k, _)| {
        (
            format!("documents.{k}"),
            format!("Document: {}", document_label(k)),
        )
    }));
    items
}

#[derive(serde::Deserialize)]
struct CaseQuery {
    done: Option<String>,
    error: Option<String>,
}

async fn case_page(
    State(state): State<AppState>,
    me: OperatorSession,
    Path(raw): Path<String>,
    Query(q): Query<CaseQuery>,
) -> Response {
    let case = match find_case(&state, &raw).await {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    let now = state.clock.now();
    let (facts, checks, failed, decisions, verdicts) = match tokio::try_join!(
        state.store.case_facts(&case.platform, &case.id, now),
        state.store.list_checks(&case.platform, &case.id),
        state.store.failed_check_jobs(&case.platform, &case.id),
        state.store.decisions(&case.id),
        state.store.hit_verdicts(&case.platform, &case.id),
    ) {
        Ok(x) => x,
        Err(e) => return internal(e),
    };
    let c = &facts.customer;
    let p = &c.facts.profile;
    let mut fields = vec![
        ("Business name".to_owned(), c.business_name.clone()),
        ("E-mail".to_owned(), c.business_email.clone()),
        ("Phone".to_owned(), c.phone_number.clone()),
        (
            "Registered address".to_owned(),
            c.registered_address.clone(),
        ),
        ("Country".to_owned(), c.registered_country.clone()),
    ];
    for f in BUSINESS_FIELDS {
        fields.push((f.replace('_', " "), p.get(f).to_owned()));
    }
    let people = facts
        .people
        .iter()
        .map(|p| {
            format!(
                "{} — {}, born {}, {}, {}{} % owner",
                p.full_name,
                p.role,
                p.date_of_birth,
                p.nationality,
                if p.is_control_person {
                    "control person, "
                } else {
                    ""
                },
                f64::from(p.ownership_bp) / 100.0
            )
        })
        .collect();
    let documents = facts
        .documents
        .iter()
        .map(|d| {
            (
                d.id.clone(),
                document_label(&d.kind).to_owned(),
                format!(
                    "({}, {} bytes, SHA-256 {})",
                    d.content_type,
                    d.size_bytes,
                    &d.sha256[..16]
                ),
            )
        })
        .collect();
    let subject_label = |subject: &str| match subject.strip_prefix("person:") {
        Some(id) => facts.people.iter().find(|p| p.id == id).map_or_else(
            || "A person".to_owned(),
            |p| format!("Person: {}", p.full_name),
        ),
        None => subject.replace('_', " "),
    };
    let hits = checks
        .iter()
        .rev()
        .find(|c| c.kind == "sanctions")
        .map(|c| hits::hit_views(&c.evidence, &verdicts, me.operator().role, subject_label))
        .unwrap_or_default();
    let checks = checks
        .iter()
        .map(|c| CheckView {
            kind: c.kind.clone(),
            outcome: c.outcome.clone(),
            reasons: c.reasons.join(", "),
            at: minutes(c.created_at),
            evidence: serde_json::to_string_pretty(&c.evidence).unwrap_or_default(),
        })
        .collect();
    let decisions = decisions
        .iter()
        .map(|d| {
            let mut line = format!(
                "{} — {} by {}",
                minutes(d.created_at),
                d.action.replace('_', " "),
                d.operator_email
            );
            if let Some(r) = &d.reason_code {
                line.push_str(&format!(", reason {r}"));
            }
            if let Some(n) = d.note.as_deref().filter(|n| !n.is_empty()) {
                line.push_str(&format!(", note: {n}"));
            }
            if let Some(m) = d.message.as_deref().filter(|m| !m.is_empty()) {
                line.push_str(&format!(", message: {m}"));
            }
            line
        })
        .collect();
    let notice = match q.done.as_deref() {
        Some("approved") => "The case is approved.",
        Some("rejected") => "The case is rejected.",
        Some("more_info") => "More information was requested: the platform has a fresh link for the customer.",
        Some("flag_cleared") => "The flag is cleared; the case keeps its status.",
        Some("checks_rerun") => "The failed checks run again: their results appear here when they are in.",
        Some("verdict_recorded") => "Your verdict on the hit is recorded.",
        Some("verdict_pending") => "Your verdict is recorded: a second admin must clear this hit too before it counts.",
        Some("first_approval") => "Your approval is recorded. This case has a sanctions hit: a second admin must approve it too.",
        _ => "",
    };
    page(
        StatusCode::OK,
        &CasePage {
            operator: me.operator().email.clone(),
            csrf: me.session.csrf_token.clone(),
            customer_id: c.id.to_string(),
            name: c.business_name.clone(),
            platform: case.platform_name,
            status: c.verification_status.as_str(),
            flag: c.review.review_flag.clone().unwrap_or_default(),
            notice: notice.to_owned(),
            error: refusal(q.error.as_deref().unwrap_or_default()).to_owned(),
            fields,
            people,
            documents,
            checks,
            failed: checks::failed_views(&failed),
            admin: me.operator().role == kyb_store::OperatorRole::Admin,
            hits,
            decisions,
            decidable: c.verification_status == kyb_domain::VerificationStatus::InReview,
            reasons: REJECTION_REASONS.to_vec(),
            items: requestable_items(),
        },
    )
}

/// A document of a case, for a signed-in operator only; always a download.
async fn document(
    State(state): State<AppState>,
    _me: OperatorSession,
    Path((raw, doc_id)): Path<(String, String)>,
) -> Response {
    let case = match find_case(&state, &raw).await {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    let documents = match state.store.documents_of(&case.platform, &case.id).await {
        Ok(d) => d,
        Err(e) => return internal(e),
    };
    match documents.iter().find(|d| d.id == doc_id) {
        Some(doc) => crate::hosted::documents::send_document(&state, doc).await,
        None => (StatusCode::NOT_FOUND, "no such document").into_response(),
    }
}

// ----- decisions ------------------------------------------------------------------------------

async fn decide(
    state: &AppState,
    me: &OperatorSession,
    rc: &RequestContext,
    raw: &str,
    action: DecisionAction,
) -> Response {
    let case = match find_case(state, raw).await {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    let ctx = me.audit(rc, state.clock.now());
    let outcome = state
        .store
        .decide(
            &case.platform,
            &case.id,
            me.operator(),
            action,
            &ctx,
            |c, previous, new_link| {
                let mut events = vec![state.event(
                    "business_customer.verification_status.updated",
                    c,
                    Some(serde_json::json!({ "verification_status": previous })),
                )];
                if new_link {
                    events.push(state.event("business_customer.kyb_link.created", c, None));
                }
                events
            },
        )
        .await;
    match outcome {
        Ok(DecisionOutcome::Done(status)) => done(raw, status.as_str()),
        Ok(DecisionOutcome::AwaitingSecondApproval) => done(raw, "first_approval"),
        Err(e) => store_refusal(raw, e),
    }
}

async fn approve(
    State(state): State<AppState>,
    me: OperatorSession,
    rc: RequestContext,
    Path(raw): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    if let Some(r) = me.case_form_refusal(&raw, &form) {
        return r;
    }
    decide(&state, &me, &rc, &raw, DecisionAction::Approve).await
}

async fn reject(
    State(state): State<AppState>,
    me: OperatorSession,
    rc: RequestContext,
    Path(raw): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    if let Some(r) = me.case_form_refusal(&raw, &form) {
        return r;
    }
    let code = field(&form, "reason_code");
    if !REJECTION_REASONS.iter().any(|(c, _)| *c == code) {
        return refused(&raw, "reason_required");
    }
    let note = field(&form, "note");
    if note.chars().count() > 2000 {
        return refused(&raw, "note_too_long");
    }
    let action = DecisionAction::Reject {
        reason_code: code.to_owned(),
        note: note.to_owned(),
    };
    decide(&state, &me, &rc, &raw, action).await
}

async fn request_info(
    State(state): State<AppState>,
    me: OperatorSession,
    rc: RequestContext,
    Path(raw): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    if let Some(r) = me.case_form_refusal(&raw, &form) {
        return r;
    }
    let allowed = requestable_items();
    let mut items: Vec<String> = Vec::new();
    for (k, v) in &form {
        if k == "items" && allowed.iter().any(|(key, _)| key == v) && !items.contains(v) {
            items.push(v.clone());
        }
    }
    let message = field(&form, "message");
    if items.is_empty() || message.is_empty() || message.chars().count() > 2000 {
        return refused(&raw, "info_incomplete");
    }
    let action = DecisionAction::RequestInfo {
        info: InfoRequest {
            items,
            message: message.to_owned(),
        },
        link: state.new_link(state.clock.now()),
    };
    decide(&state, &me, &rc, &raw, action).await
}

/// Keeps a flagged case as it is (the new hit was looked at), with a note for the audit trail.
async fn clear_flag(
    State(state): State<AppState>,
    me: OperatorSession,
    rc: RequestContext,
    Path(raw): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    if let Some(r) = me.case_form_refusal(&raw, &form) {
        return r;
    }
    let Some(note) = required_text(&form, "note") else {
        return refused(&raw, "flag_reason_required");
    };
    let case = match find_case(&state, &raw).await {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    let ctx = me.audit(&rc, state.clock.now());
    match state
        .store
        .clear_review_flag(&case.platform, &case.id, me.operator(), note, &ctx)
        .await
    {
        Ok(()) => done(&raw, "flag_cleared"),
        Err(e) => store_refusal(&raw, e),
    }
}
