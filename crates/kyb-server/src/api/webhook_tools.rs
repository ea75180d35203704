//! Tools for a platform's webhook integration: a signed test event (`ping`) sent to one
//! endpoint on demand, so the receiving side can be built and checked before any customer
//! exists; and a replay of past events to an endpoint, after an outage of the receiving side.

use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use kyb_domain::EventId;
use kyb_store::{NewEvent, ReplayFrom, Replayed, StoredResponse};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::events::PING;
use super::schema::IdempotencyKeyHeader;
use super::webhook_endpoints::{delivery_response, endpoint_id, store_error, DeliveryResponse};
use super::{respond, rfc3339};
use crate::auth::Authenticated;
use crate::error::{ApiError, ErrorBody, Result};
use crate::extract::{ApiJson, EmptyBody, Idempotency, RequestContext};
use crate::{AppState, API_VERSION};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/v2/webhook_endpoints/{endpoint_id}/test",
            post(send_test_event),
        )
        .route(
            "/v2/webhook_endpoints/{endpoint_id}/replay",
            post(replay_events),
        )
}

/// Events looked at by one replay, at most.
pub const MAX_REPLAY: u32 = 1_000;
/// One replay per endpoint in this many seconds.
pub const REPLAY_EVERY_SECS: i64 = 10;

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

/// Body of `POST /v2/webhook_endpoints/{endpoint_id}/replay`, as read: exactly one of `since`
/// and `since_event` (checked here, so the error names the field). Documented as
/// [`ReplayRequest`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplayBody {
    since: Option<String>,
    since_event: Option<String>,
}

/// Body of `POST /v2/webhook_endpoints/{endpoint_id}/replay`: where the replay starts, a time
/// or an event.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)] // the document's shape of `ReplayBody`
#[serde(untagged)]
#[schema(example = json!({"since_event": "evt_4kT0bq9ZcWm2LrX8sYv1NdQe"}))]
pub enum ReplayRequest {
    Since(ReplaySince),
    SinceEvent(ReplaySinceEvent),
}

/// Replay the events recorded at or after a time.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
#[serde(deny_unknown_fields)]
pub struct ReplaySince {
    /// A time in RFC 3339.
    #[schema(format = DateTime, example = "2026-12-01T00:00:00Z")]
    since: String,
}

/// Replay the events recorded after an event: the last one the receiving side processed, or
/// the `last_event_id` of a replay that said `has_more`.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
#[serde(deny_unknown_fields)]
pub struct ReplaySinceEvent {
    /// `evt_…`
    #[schema(pattern = "^evt_[A-Za-z0-9]{1,64}$")]
    since_event: String,
}

/// A body is required: where the replay starts.
impl EmptyBody for ReplayBody {}

/// What a replay queued.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReplayObject {
    /// Always `webhook_replay`.
    pub object: &'static str,
    pub endpoint_id: String,
    /// New deliveries queued: the events looked at whose types the endpoint takes.
    pub events_queued: usize,
    /// The last event looked at; with `has_more`, pass it as `since_event` to go on.
    pub last_event_id: Option<String>,
    /// Whether more events follow (at most 1,000 are looked at per replay).
    pub has_more: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReplayResponse {
    /// Always `success`.
    pub status: &'static str,
    pub data: ReplayObject,
}

impl ReplayBody {
    fn from(&self) -> Result<ReplayFrom> {
        match (&self.since, &self.since_event) {
            (Some(at), None) => chrono::DateTime::parse_from_rfc3339(at)
                .map(|at| ReplayFrom::Time(at.with_timezone(&chrono::Utc)))
                .map_err(|_| {
                    ApiError::invalid(
                        "parameter_invalid",
                        "since",
                        format!(
                            "since must be a time in RFC 3339 (2026-12-01T00:00:00Z), got {at:?}"
                        ),
                    )
                }),
            (None, Some(id)) => EventId::parse(id).map(ReplayFrom::After).map_err(|_| {
                ApiError::invalid(
                    "parameter_invalid",
                    "since_event",
                    format!("since_event must be an event id (evt_…), got {id:?}"),
                )
            }),
            (Some(_), Some(_)) => Err(ApiError::invalid(
                "parameter_invalid",
                "since_event",
                "give since or since_event, not both",
            )),
            (None, None) => Err(ApiError::invalid(
                "parameter_missing",
                "since",
                "give since (a time) or since_event (an event id): where the replay starts",
            )),
        }
    }
}

fn replay_response(endpoint: &str, r: &Replayed) -> StoredResponse {
    StoredResponse {
        status: 200,
        body: serde_json::to_vec(&ReplayResponse {
            status: "success",
            data: ReplayObject {
                object: "webhook_replay",
                endpoint_id: endpoint.to_owned(),
                events_queued: r.events_queued,
                last_event_id: r.last_event_id.as_ref().map(ToString::to_string),
                has_more: r.has_more,
            },
        })
        .expect("response objects serialise"),
    }
}

/// Replay past events to an endpoint.
///
/// Queues again, as new deliveries due now, the events recorded since a time (`since`) or after
/// an event (`since_event`), oldest first, those of the types the endpoint takes (test events
/// are not replayed). Each carries its event's id as `webhook-id`, as the first delivery did, so
/// a receiver that deduplicates on it skips what it already processed. At most 1,000 events are
/// looked at per replay (`has_more` and `last_event_id` say where to go on); one replay per
/// endpoint every 10 seconds (429 `rate_limited` with `Retry-After` otherwise).
#[utoipa::path(
    post,
    path = "/v2/webhook_endpoints/{endpoint_id}/replay",
    operation_id = "replay_webhook_events",
    tag = "webhook_endpoints",
    request_body(content = ReplayRequest),
    params(("endpoint_id" = String, Path, pattern = "^we_[A-Za-z0-9]{1,64}$", description = "`we_…`"), IdempotencyKeyHeader),
    responses(
        (status = 200, description = "What was queued (or the first response replayed)", body = ReplayResponse,
         headers(("idempotent-replayed" = String, description = "`true` when this is a replay"))),
        (status = 400, description = "`parameter_missing` / `parameter_invalid` naming `since` or `since_event` (not a time, not one of this platform's events, both given), an unknown field, or a missing or malformed idempotency-key", body = ErrorBody),
        (status = 404, description = "`resource_missing`: no such endpoint", body = ErrorBody),
        (status = 409, description = "`invalid_state`: the endpoint is disabled; or `idempotency_key_in_use` (with `Retry-After`)", body = ErrorBody),
        (status = 429, description = "`rate_limited`: this endpoint was replayed to less than 10 seconds ago, or the key's rate limit", body = ErrorBody,
         headers(("Retry-After" = String, description = "Seconds to wait before trying again"))),
    ),
    security(("ngnc_sec_key" = []), ("bearer" = []))
)]
pub async fn replay_events(
    State(state): State<AppState>,
    auth: Authenticated,
    Idempotency(key): Idempotency,
    ctx: RequestContext,
    Path(raw_endpoint): Path<String>,
    body: ApiJson<ReplayBody>,
) -> Result<Response> {
    let endpoint = endpoint_id(&raw_endpoint)?;
    let from = body.value.from()?;
    let now = state.clock.now();
    let path = format!("/v2/webhook_endpoints/{endpoint}/replay");
    let idem = state.idempotency(key, &Method::POST, &path, auth.mode(), body.raw.as_ref());
    let outcome = state
        .store
        .replay_events(
            &auth.scope,
            &endpoint,
            &from,
            MAX_REPLAY,
            chrono::Duration::seconds(REPLAY_EVERY_SECS),
            &idem,
            &auth.audit_context(&ctx, now),
            |r| replay_response(endpoint.as_str(), r),
        )
        .await
        .map_err(|e| match e {
            kyb_store::StoreError::CursorNotFound => ApiError::invalid(
                "parameter_invalid",
                "since_event",
                "since_event must be the id of an event of this platform and mode",
            ),
            other => store_error("webhook endpoint")(other),
        })?;
    respond(outcome)
}
