//! What a reviewer asked the customer for again (`more_info`): shown on every step it concerns,
//! each item marked until the customer changes it or confirms it is still correct; the review
//! lists them all, and submission waits until none is left open.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use kyb_store::AskedState;

use super::forms::FormData;
use super::session::CustomerSession;
use super::texts::{document_label, field_label};
use crate::extract::RequestContext;
use crate::i18n::Tr;
use crate::AppState;

/// The steps of the flow, as `/kyb/flow/{step}` names them.
const STEPS: [&str; 4] = ["business", "people", "documents", "review"];

/// The request as one page shows it.
pub(super) struct Asked {
    pub message: String,
    /// The page it is shown on (`business`, `people`, `documents`, or `review`: every item).
    pub step: &'static str,
    pub items: Vec<AskedItem>,
}

pub(super) struct AskedItem {
    pub key: String,
    pub label: String,
    /// `open`, `changed` or `confirmed`.
    pub state: &'static str,
}

/// The step an item is changed on.
fn step_of(item: &str) -> &'static str {
    if item.starts_with("business_details.") {
        "business"
    } else if item.starts_with("documents.") {
        "documents"
    } else {
        "people"
    }
}

/// An item as the customer reads it: "Business details: Legal name", "Document: …".
fn item_label(tr: Tr, requirements: &kyb_domain::requirements::Requirements, item: &str) -> String {
    if let Some(field) = item.strip_prefix("business_details.") {
        tr.t1(
            "asked-item-business",
            "label",
            field_label(tr, requirements, field),
        )
    } else if let Some(kind) = item.strip_prefix("documents.") {
        tr.t1("asked-item-document", "label", document_label(tr, kind))
    } else {
        tr.t("asked-item-people")
    }
}

/// What was asked for again that concerns `step` (every item on the review), if anything.
pub(super) fn asked(
    state: &AppState,
    session: &CustomerSession,
    step: &'static str,
) -> Option<Asked> {
    let customer = &session.0.customer;
    let info = customer.review.info_request.as_ref()?;
    let requirements = state.catalog.for_country(&customer.registered_country);
    let items: Vec<AskedItem> = info
        .items
        .iter()
        .filter(|i| step == "review" || step_of(i) == step)
        .map(|i| AskedItem {
            key: i.clone(),
            label: item_label(session.1.tr, requirements, i),
            state: match info.state(i, &customer.facts) {
                AskedState::Open => "open",
                AskedState::Changed => "changed",
                AskedState::Confirmed => "confirmed",
            },
        })
        .collect();
    (step == "review" || !items.is_empty()).then(|| Asked {
        message: info.message.clone(),
        step,
        items,
    })
}

/// Whether this business field was asked for again and is still open.
pub(super) fn field_is_open(customer: &kyb_store::Customer, field: &str) -> bool {
    let key = format!("business_details.{field}");
    customer
        .review
        .info_request
        .as_ref()
        .is_some_and(|i| i.open_items(&customer.facts).contains(&key.as_str()))
}

/// `POST /kyb/flow/confirm` (`item`, `step`): the customer confirms an item asked for again is
/// still correct as it is, and comes back to the step.
pub async fn confirm(
    State(state): State<AppState>,
    session: CustomerSession,
    rc: RequestContext,
    form: FormData,
) -> Response {
    if let Some(r) = session.csrf_rejection(&form.0) {
        return r;
    }
    let step = STEPS
        .iter()
        .find(|s| **s == form.get("step"))
        .copied()
        .unwrap_or("review");
    let ctx = session.audit(&rc, &state);
    match state
        .store
        .confirm_requested_item(&session.0, form.get("item"), &ctx)
        .await
    {
        // Confirmed, or nothing to confirm (asked no more, or never): the page shows which.
        Ok(()) => Redirect::to(&format!("/kyb/flow/{step}#asked")).into_response(),
        Err(e) => session.failed(e),
    }
}
