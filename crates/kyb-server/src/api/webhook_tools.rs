//! Tools for a platform's webhook integration: a signed test event (`ping`) sent to one
//! endpoint on demand, so the receiving side can be built and checked before any customer
//! exists.

use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use kyb_domain::EventId;
use kyb_store::NewEvent;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::events::PING;
use super::schema::IdempotencyKeyHeader;
use super::webhook_endpoints::{delivery_response, endpoint_id, store_error, DeliveryResponse};
use super::{respond, rfc3339};
use crate::auth::Authenticated;
use crate::error::{ErrorBody, Result};
use crate::extract::{ApiJson, EmptyBody, Idempotency, RequestContext};
use crate::{AppState, API_VERSION};

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/v2/webhook_endpoints/{endpoint_id}/test",
        post(send_test_event),
    )
}

/// Body of `POST /v2/webhook_endpoints/{endpoint_id}/test`: none.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TestEventRequest {}

impl EmptyBody for TestEventRequest {
    fn empty() -> Option<Self> {
        Some(Self::default())
    }
}

/// Send a test event to an endpoint.
///
/// Stores a `ping` event and queues its delivery to this endpoint only (whatever event types it
/// subscribes to). It goes out like every delivery: signed with the endpoint's secret (Standard
/// Webhooks headers), retried on the schedule, listed under the endpoint's deliveries, and in
/// `GET /v2/events`. The event's `data.object` names the endpoint. The answer is the delivery,
/// pending; its attempts show what the endpoint answered.
#[utoipa::path(
    post,
    path = "/v2/webhook_endpoints/{endpoint_id}/test",
    operation_id = "send_test_webhook_event",
    tag = "webhook_endpoints",
    request_body(content = Option<TestEventRequest>, description = "Empty, or `{}`"),
    params(("endpoint_id" = String, Path, pattern = "^we_[A-Za-z0-9]{1,64}$", description = "`we_…`"), IdempotencyKeyHeader),
    responses(
        (status = 200, description = "The test event's delivery, pending (or the first response replayed)", body = DeliveryResponse,
         headers(("idempotent-replayed" = String, description = "`true` when this is a replay"))),
        (status = 400, description = "An unknown field, a body that is not a JSON object, a missing or malformed idempotency-key, or a path that is not readable text", body = ErrorBody),
        (status = 404, description = "`resource_missing`: no such endpoint", body = ErrorBody),
        (status = 409, description = "`invalid_state`: the endpoint is disabled; or `idempotency_key_in_use` (with `Retry-After`)", body = ErrorBody),
    ),
    security(("ngnc_sec_key" = []), ("bearer" = []))
)]
pub async fn send_test_event(
    State(state): State<AppState>,
    auth: Authenticated,
    Idempotency(key): Idempotency,
    ctx: RequestContext,
    Path(raw_endpoint): Path<String>,
    body: ApiJson<TestEventRequest>,
) -> Result<Response> {
    let endpoint = endpoint_id(&raw_endpoint)?;
    let now = state.clock.now();
    let path = format!("/v2/webhook_endpoints/{endpoint}/test");
    let idem = state.idempotency(key, &Method::POST, &path, auth.mode(), body.raw.as_ref());
    let id = EventId::generate();
    let payload = json!({
        "id": id,
        "type": PING,
        "api_version": API_VERSION,
        "created_at": rfc3339(now),
        "data": {
            "object": {
                "object": "webhook_test",
                "endpoint_id": endpoint,
                "message": "A test event sent on request (POST /v2/webhook_endpoints/{endpoint_id}/test).",
            },
            "previous_attributes": null,
        },
    });
    let event = NewEvent {
        id,
        event_type: PING,
        customer_id: None,
        payload,
    };
    let outcome = state
        .store
        .send_test_event(
            &auth.scope,
            &endpoint,
            event,
            &idem,
            &auth.audit_context(&ctx, now),
            delivery_response,
        )
        .await
        .map_err(store_error("webhook endpoint"))?;
    respond(outcome)
}
