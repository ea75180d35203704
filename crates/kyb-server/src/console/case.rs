//! A case: everything the customer gave, its documents, every check with its evidence, the
//! sanctions hits with their adjudication, the decisions so far, and the forms to decide.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kyb_domain::requirements::{
    business_field_label, document_label, document_type_name, requestable_items, BUSINESS_FIELDS,
};

use super::decisions::REJECTION_REASONS;
use super::{checks, find_case, hits, internal, minutes, problem, refusal, OperatorSession};
use crate::web::documents::{preview_kind, Delivery};
use crate::web::page;
use crate::AppState;

struct CheckView {
    kind: String,
    outcome: String,
    reasons: String,
    at: String,
    evidence: String,
    /// What the evidence says, in sentences; each with the cases it names (customer ids).
    summary: Vec<super::evidence::Line>,
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
    /// The refusal's code (for tests and styles) and what it says.
    refusal_code: &'static str,
    error: String,
    fields: Vec<(String, String)>,
    /// Each person, and what the sanctions screening said of them.
    people: Vec<(String, String)>,
    /// What the customer gave beside what the registry returned.
    registry: Option<super::evidence::RegistryView>,
    documents: Vec<DocumentView>,
    checks: Vec<CheckView>,
    failed: Vec<checks::FailedView>,
    admin: bool,
    hits: Vec<hits::HitView>,
    decisions: Vec<String>,
    decidable: bool,
    /// Why this operator may not approve now (the sentence), or empty: then Approve is offered.
    approval_refusal: &'static str,
    /// Rejection reasons, with the one typed before marked (none at first: no preselection).
    reasons: Vec<(&'static str, &'static str, bool)>,
    /// Requestable items, with those ticked before marked.
    items: Vec<(String, String, bool)>,
    typed: Typed,
    /// Whether the request for more information shows open (it was refused, or holds input).
    info_open: bool,
    /// Who works on the case (e-mail), since when, and whether it is this operator.
    assignee: Option<(String, String, bool)>,
    /// Active operators (id, e-mail) an admin may give the case to.
    operators: Vec<(String, String)>,
    /// The internal notes: who, when, what.
    notes: Vec<(String, String, String)>,
    timeline: Vec<super::timeline::TimelineLine>,
    /// The summary: since when the case waits (words and time), the latest checks' overall
    /// outcome, and the approvals so far ("1 of 2 admins"), or empty.
    waiting: String,
    since: String,
    risk: &'static str,
    approvals: String,
}

/// What the forms of a case page held when they were refused, to show it again.
#[derive(Default)]
pub(super) struct Typed {
    pub reason_code: String,
    pub note: String,
    pub items: Vec<String>,
    pub message: String,
    pub flag_note: String,
    pub note_body: String,
    /// The hit's list and entry id, and the reason typed for it.
    pub verdict: Option<(String, String, String)>,
}

#[derive(serde::Deserialize)]
pub(super) struct CaseQuery {
    done: Option<String>,
}

pub(super) async fn case_page(
    State(state): State<AppState>,
    me: OperatorSession,
    Path(raw): Path<String>,
    Query(q): Query<CaseQuery>,
) -> Response {
    let notice = match q.done.as_deref() {
        Some("approved") => "The case is approved.",
        Some("rejected") => "The case is rejected.",
        Some("more_info") => "More information was requested: the platform has a fresh link for the customer.",
        Some("flag_cleared") => "The flag is cleared; the case keeps its status.",
        Some("checks_rerun") => "The failed checks run again: their results appear here when they are in.",
        Some("verdict_recorded") => "Your verdict on the hit is recorded.",
        Some("verdict_pending") => "Your verdict is recorded: a second admin must clear this hit too before it counts.",
        Some("first_approval") => "Your approval is recorded. This case has a sanctions hit: a second admin must approve it too.",
        Some("assigned") => "The case is assigned.",
        Some("released") => "Nobody works on the case now.",
        Some("note_added") => "Your note is added.",
        _ => "",
    };
    render(
        &state,
        &me,
        &raw,
        StatusCode::OK,
        notice,
        "",
        Typed::default(),
    )
    .await
}

/// The case page with a notice, or a refusal (its code) and what the refused form held.
pub(super) async fn render(
    state: &AppState,
    me: &OperatorSession,
    raw: &str,
    status: StatusCode,
    notice: &str,
    refusal_code: &'static str,
    typed: Typed,
) -> Response {
    let case = match find_case(state, me, raw).await {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    let now = state.clock.now();
    let (
        assignee,
        notes,
        operators,
        timeline,
        facts,
        checks,
        failed,
        decisions,
        verdicts,
        approval,
    ) = match tokio::try_join!(
        state.store.assignee(&case.platform, &case.id),
        state.store.case_notes(&case.platform, &case.id),
        state.store.operator_accounts(),
        state.store.case_timeline(&case.platform, &case.id),
        state.store.case_facts(&case.platform, &case.id, now),
        state.store.list_checks(&case.platform, &case.id),
        state.store.failed_check_jobs(&case.platform, &case.id),
        state.store.decisions(&case.platform, &case.id),
        state.store.hit_verdicts(&case.platform, &case.id),
        state
            .store
            .approval_standing(&case.platform, &case.id, me.operator(), now),
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
    let requirements = state.catalog.for_country(&c.registered_country);
    for f in BUSINESS_FIELDS {
        let value = p.get(f);
        let shown = match f {
            "entity_type" => requirements.entity_type_label(value).unwrap_or(value),
            _ => value,
        };
        fields.push((business_field_label(f).to_owned(), shown.to_owned()));
    }
    let documents = facts
        .documents
        .iter()
        .map(|d| DocumentView {
            id: d.id.clone(),
            label: document_label(&d.kind).to_owned(),
            detail: format!(
                "{} “{}”, {} bytes, uploaded {}, SHA-256 {}…",
                document_type_name(&d.content_type),
                d.original_name,
                d.size_bytes,
                minutes(d.uploaded_at),
                &d.sha256[..16]
            ),
            preview: preview_kind(&d.content_type).unwrap_or(""),
        })
        .collect();
    let subject_label = |subject: &str| match subject.strip_prefix("person:") {
        Some(id) => facts.people.iter().find(|p| p.id == id).map_or_else(
            || "A person".to_owned(),
            |p| format!("Person: {}", p.full_name),
        ),
        None => subject.replace('_', " "),
    };
    let mut hits = checks
        .iter()
        .rev()
        .find(|c| c.kind == "sanctions")
        .map(|c| hits::hit_views(&c.evidence, &verdicts, me.operator().role, subject_label))
        .unwrap_or_default();
    let screened = checks.iter().any(|c| c.kind == "sanctions");
    let people: Vec<(String, String)> = facts
        .people
        .iter()
        .map(|p| {
            let line = format!(
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
            );
            let key = format!("person:{}", p.id);
            let screening = match (
                screened,
                hits.iter().filter(|h| h.subject_key == key).count(),
            ) {
                (false, _) => "not screened yet".to_owned(),
                (true, 0) => "sanctions: no hit".to_owned(),
                (true, 1) => "sanctions: 1 hit, below".to_owned(),
                (true, n) => format!("sanctions: {n} hits, below"),
            };
            (line, screening)
        })
        .collect();
    let registry = checks
        .iter()
        .rev()
        .find(|c| c.kind == "registry")
        .map(|c| super::evidence::registry_view(&c.evidence));
    if let Some((list, entry, reason)) = &typed.verdict {
        for h in hits
            .iter_mut()
            .filter(|h| h.list == *list && h.entry_id == *entry)
        {
            h.typed_reason.clone_from(reason);
        }
    }
    let since = timeline
        .iter()
        .rev()
        .find(|e| e.action == "business_customer.submitted")
        .map_or(c.created_at, |e| e.at);
    let risk = checks_summary(&checks);
    let approvals = match (approval.approvals, approval.two_admins) {
        (0, true) if approval.refusal != Some("confirmed_match") => "needs 2 admins".to_owned(),
        (0, _) => String::new(),
        (n, _) => format!("{} of 2 admins approved", n.min(2)),
    };
    let checks = checks
        .iter()
        .map(|c| CheckView {
            kind: c.kind.clone(),
            outcome: c.outcome.clone(),
            reasons: c.reasons.join(", "),
            at: minutes(c.created_at),
            evidence: serde_json::to_string_pretty(&c.evidence).unwrap_or_default(),
            summary: super::evidence::summary(&c.kind, &c.evidence),
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
    let reasons = REJECTION_REASONS
        .iter()
        .map(|(code, label)| (*code, *label, *code == typed.reason_code))
        .collect();
    let items = requestable_items()
        .into_iter()
        .map(|(key, label)| {
            let ticked = typed.items.contains(&key);
            (key, label, ticked)
        })
        .collect();
    let mut r = page(
        status,
        &CasePage {
            operator: me.operator().email.clone(),
            csrf: me.session.csrf_token.clone(),
            customer_id: c.id.to_string(),
            name: c.business_name.clone(),
            platform: case.platform_name,
            status: c.verification_status.as_str(),
            flag: c.review.review_flag.clone().unwrap_or_default(),
            notice: notice.to_owned(),
            refusal_code,
            error: refusal(refusal_code).to_owned(),
            fields,
            people,
            registry,
            documents,
            checks,
            failed: checks::failed_views(&failed),
            admin: me.operator().role == kyb_store::OperatorRole::Admin,
            hits,
            decisions,
            decidable: c.verification_status == kyb_domain::VerificationStatus::InReview,
            approval_refusal: approval.refusal.map(refusal).unwrap_or_default(),
            reasons,
            items,
            info_open: refusal_code == "info_incomplete"
                || !typed.items.is_empty()
                || !typed.message.is_empty(),
            typed,
            assignee: assignee.map(|a| {
                let mine = a.operator_id == me.operator().id;
                (a.email, minutes(a.assigned_at), mine)
            }),
            // Only those who may open the case: active, and seeing its platform.
            operators: operators
                .into_iter()
                .filter(|a| {
                    !a.disabled && (a.platforms.is_empty() || a.platforms.contains(&case.platform))
                })
                .map(|a| (a.operator.id, a.operator.email))
                .collect(),
            notes: notes
                .into_iter()
                .map(|n| (n.operator_email, minutes(n.created_at), n.body))
                .collect(),
            timeline: super::timeline::lines(&timeline),
            waiting: super::queue::age(since, now),
            since: minutes(since),
            risk,
            approvals,
        },
    );
    // The page frames its PDFs (served by `preview`, from this origin only).
    r.headers_mut().insert(
        axum::http::header::CONTENT_SECURITY_POLICY,
        axum::http::HeaderValue::from_static(crate::web::CSP_WITH_DOCUMENT_FRAMES),
    );
    r
}

/// A document as the case page lists it.
pub struct DocumentView {
    pub id: String,
    pub label: String,
    /// Type, size, when, and the start of its SHA-256.
    pub detail: String,
    /// "image", "pdf", or empty: how it is shown in place.
    pub preview: &'static str,
}

/// A document of a case, for a signed-in operator only, as a download.
pub(super) async fn document(
    state: State<AppState>,
    me: OperatorSession,
    path: Path<(String, String)>,
) -> Response {
    send_document(state, me, path, Delivery::Download).await
}

/// A document of a case shown in place in the case page (an image, or a PDF in a frame).
pub(super) async fn preview(
    state: State<AppState>,
    me: OperatorSession,
    path: Path<(String, String)>,
) -> Response {
    send_document(state, me, path, Delivery::Preview).await
}

async fn send_document(
    State(state): State<AppState>,
    me: OperatorSession,
    Path((raw, doc_id)): Path<(String, String)>,
    delivery: Delivery,
) -> Response {
    let case = match find_case(&state, &me, &raw).await {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    let documents = match state.store.documents_of(&case.platform, &case.id).await {
        Ok(d) => d,
        Err(e) => return internal(e),
    };
    match documents.iter().find(|d| d.id == doc_id) {
        Some(doc) => crate::web::documents::send(&state, doc, delivery)
            .await
            .unwrap_or_else(internal),
        None => problem(
            StatusCode::NOT_FOUND,
            "No such document",
            "This case has no document at this address.",
        ),
    }
}

/// The overall outcome of the latest check of each kind: the worst of them.
fn checks_summary(checks: &[kyb_store::CheckResult]) -> &'static str {
    let mut latest: Vec<(&str, &str)> = Vec::new();
    for c in checks {
        match latest.iter_mut().find(|(kind, _)| *kind == c.kind) {
            Some(entry) => entry.1 = &c.outcome,
            None => latest.push((&c.kind, &c.outcome)),
        }
    }
    let worst = |o: &str| latest.iter().any(|(_, outcome)| *outcome == o);
    if latest.is_empty() {
        "not run"
    } else if worst("fail") {
        "fail"
    } else if worst("warn") {
        "warn"
    } else {
        "pass"
    }
}
