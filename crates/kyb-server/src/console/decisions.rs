//! Decisions on a case: approve, reject with a reason code and an internal note, ask for more
//! information, or keep a flagged case as it is. Each is written with its status change, webhook
//! event and audit row in one transaction (`Store::decide`).

use axum::extract::{Path, State};
use axum::response::Response;
use axum::Form;
use kyb_domain::requirements::requestable_items;
use kyb_store::{DecisionAction, DecisionOutcome, InfoRequest};

use super::case::Typed;
use super::{
    acting_on, done, field, form_refusal, refused, required_text, store_refusal, OperatorSession,
};
use crate::extract::RequestContext;
use crate::AppState;

pub use kyb_domain::REJECTION_REASONS;

/// Whether the form's "this decision is final" box was ticked (approve and reject).
fn confirmed(form: &[(String, String)]) -> bool {
    field(form, "confirm") == "yes"
}

async fn decide(
    state: &AppState,
    me: &OperatorSession,
    rc: &RequestContext,
    raw: &str,
    action: DecisionAction,
    typed: Typed,
) -> Response {
    let (case, ctx) = match acting_on(state, me, rc, raw).await {
        Ok(x) => x,
        Err(r) => return r,
    };
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
        Err(e) => store_refusal(state, me, raw, e, typed).await,
    }
}

pub(super) async fn approve(
    State(state): State<AppState>,
    me: OperatorSession,
    rc: RequestContext,
    Path(raw): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    if let Some(r) = form_refusal(&state, &me, &raw, &form).await {
        return r;
    }
    if !confirmed(&form) {
        return refused(&state, &me, &raw, "confirm_required", Typed::default()).await;
    }
    let action = DecisionAction::Approve;
    decide(&state, &me, &rc, &raw, action, Typed::default()).await
}

pub(super) async fn reject(
    State(state): State<AppState>,
    me: OperatorSession,
    rc: RequestContext,
    Path(raw): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    if let Some(r) = form_refusal(&state, &me, &raw, &form).await {
        return r;
    }
    let (code, note) = (field(&form, "reason_code"), field(&form, "note"));
    let typed = || Typed {
        reason_code: code.to_owned(),
        note: note.to_owned(),
        ..Typed::default()
    };
    if !REJECTION_REASONS.iter().any(|(c, _)| *c == code) {
        return refused(&state, &me, &raw, "reason_required", typed()).await;
    }
    if note.chars().count() > 2000 {
        return refused(&state, &me, &raw, "note_too_long", typed()).await;
    }
    if !confirmed(&form) {
        return refused(&state, &me, &raw, "confirm_required", typed()).await;
    }
    let action = DecisionAction::Reject {
        reason_code: code.to_owned(),
        note: note.to_owned(),
    };
    decide(&state, &me, &rc, &raw, action, typed()).await
}

pub(super) async fn request_info(
    State(state): State<AppState>,
    me: OperatorSession,
    rc: RequestContext,
    Path(raw): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    if let Some(r) = form_refusal(&state, &me, &raw, &form).await {
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
    let typed = Typed {
        items: items.clone(),
        message: message.to_owned(),
        ..Typed::default()
    };
    if items.is_empty() || message.is_empty() || message.chars().count() > 2000 {
        return refused(&state, &me, &raw, "info_incomplete", typed).await;
    }
    let action = DecisionAction::RequestInfo {
        info: InfoRequest::new(items, message.to_owned()),
        link: state.new_link(state.clock.now(), None),
    };
    decide(&state, &me, &rc, &raw, action, typed).await
}

/// Keeps a flagged case as it is (the new hit was looked at), with a note for the audit trail.
pub(super) async fn clear_flag(
    State(state): State<AppState>,
    me: OperatorSession,
    rc: RequestContext,
    Path(raw): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    if let Some(r) = form_refusal(&state, &me, &raw, &form).await {
        return r;
    }
    let typed = || Typed {
        flag_note: field(&form, "note").to_owned(),
        ..Typed::default()
    };
    let Some(note) = required_text(&form, "note") else {
        return refused(&state, &me, &raw, "flag_reason_required", typed()).await;
    };
    let (case, ctx) = match acting_on(&state, &me, &rc, &raw).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    match state
        .store
        .clear_review_flag(&case.platform, &case.id, me.operator(), note, &ctx)
        .await
    {
        Ok(()) => done(&raw, "flag_cleared"),
        Err(e) => store_refusal(&state, &me, &raw, e, typed()).await,
    }
}
