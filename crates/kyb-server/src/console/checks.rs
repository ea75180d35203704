//! Automated checks that failed every run they were allowed, on the case page: what failed, how
//! often and with which error, and the form that runs them again. Until then a reviewer may not
//! approve the case; an admin may decide it, with the failure kept in the decision's audit row.

use axum::extract::{Form, Path, State};
use axum::response::Response;
use kyb_store::FailedJob;

use super::{acting_on, done, form_refusal, minutes, store_refusal, OperatorSession};
use crate::extract::RequestContext;
use crate::AppState;

/// A failed check job as the case page shows it.
pub struct FailedView {
    pub what: &'static str,
    pub attempts: i32,
    pub at: String,
    pub error: String,
}

pub fn failed_views(failed: &[FailedJob]) -> Vec<FailedView> {
    failed
        .iter()
        .map(|j| FailedView {
            what: match j.kind {
                kyb_store::JobKind::Submission => "The checks of the submission",
                kyb_store::JobKind::Rescreen => "The re-screening after a newer sanctions list",
            },
            attempts: j.attempts,
            at: minutes(j.failed_at),
            error: j.error.clone(),
        })
        .collect()
}

/// Runs the case's failed check jobs again (any operator).
pub async fn rerun(
    State(state): State<AppState>,
    me: OperatorSession,
    rc: RequestContext,
    Path(raw): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    if let Some(r) = form_refusal(&state, &me, &raw, &form).await {
        return r;
    }
    let (case, ctx) = match acting_on(&state, &me, &rc, &raw).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    match state
        .store
        .rerun_failed_checks(&case.platform, &case.id, me.operator(), &ctx)
        .await
    {
        Ok(_) => done(&raw, "checks_rerun"),
        Err(e) => store_refusal(&state, &me, &raw, e, Default::default()).await,
    }
}
