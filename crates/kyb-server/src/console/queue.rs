//! The review queue: the cases waiting for a person, by risk and age.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::{internal, minutes, OperatorSession};
use crate::web::page;
use crate::AppState;

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

pub(super) async fn queue(State(state): State<AppState>, me: OperatorSession) -> Response {
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
