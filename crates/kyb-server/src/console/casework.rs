//! Who works on a case, and the team's internal notes: claim, give back, and (admins) give a
//! case to another operator; add a note to the case's thread. Each is an audit row; a note's
//! text stays in the console (the audit row keeps its digest).

use axum::extract::{Form, Path, State};
use axum::response::Response;
use kyb_store::Assign;

use super::case::Typed;
use super::{acting_on, done, field, form_refusal, refused, store_refusal, OperatorSession};
use crate::extract::RequestContext;
use crate::AppState;

/// The longest note, in characters.
const NOTE_MAX: usize = 4000;

/// `action=claim`, `action=release`, or `action=assign` with `operator` (an operator id).
pub(super) async fn assign(
    State(state): State<AppState>,
    me: OperatorSession,
    rc: RequestContext,
    Path(raw): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    if let Some(r) = form_refusal(&state, &me, &raw, &form).await {
        return r;
    }
    let change = match field(&form, "action") {
        "claim" => Assign::Claim,
        "release" => Assign::Release,
        "assign" => Assign::To(field(&form, "operator").to_owned()),
        _ => return refused(&state, &me, &raw, "assign_action", Typed::default()).await,
    };
    let (case, ctx) = match acting_on(&state, &me, &rc, &raw).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    match state
        .store
        .assign_case(&case.platform, &case.id, me.operator(), &change, &ctx)
        .await
    {
        Ok(Some(_)) => done(&raw, "assigned"),
        Ok(None) => done(&raw, "released"),
        Err(e) => store_refusal(&state, &me, &raw, e, Typed::default()).await,
    }
}

/// Adds a note to the case's internal thread.
pub(super) async fn add_note(
    State(state): State<AppState>,
    me: OperatorSession,
    rc: RequestContext,
    Path(raw): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    if let Some(r) = form_refusal(&state, &me, &raw, &form).await {
        return r;
    }
    let body = field(&form, "body");
    if body.is_empty() || body.chars().count() > NOTE_MAX {
        let typed = Typed {
            note_body: body.to_owned(),
            ..Typed::default()
        };
        return refused(&state, &me, &raw, "note_required", typed).await;
    }
    let (case, ctx) = match acting_on(&state, &me, &rc, &raw).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    match state
        .store
        .add_case_note(&case.platform, &case.id, me.operator(), body, &ctx)
        .await
    {
        Ok(_) => done(&raw, "note_added"),
        Err(e) => store_refusal(&state, &me, &raw, e, Typed::default()).await,
    }
}
