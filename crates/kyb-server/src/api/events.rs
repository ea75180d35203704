//! `/v2/events`: every event kyb has recorded for the platform, newest first, so a platform can
//! reconcile what its webhook endpoint missed. Events are the outbox rows, shown as delivered.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use kyb_domain::EventId;
use kyb_store::{ListEvents, StoreError};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Authenticated;
use crate::error::{ApiError, ErrorBody, Result};
use crate::extract::ApiQuery;
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v2/events", get(list))
        .route("/v2/events/{event_id}", get(retrieve))
}

/// A platform changed a customer before submission (`POST /v2/business_customer/{id}`).
pub const UPDATED: &str = "business_customer.updated";

/// The event types kyb emits.
pub const EVENT_TYPES: [&str; 6] = [
    "business_customer.created",
    UPDATED,
    "business_customer.kyb_link.created",
    "business_customer.kyb_link.opened",
    "business_customer.submitted",
    "business_customer.verification_status.updated",
];

/// The type of the test event: sent only on request (`POST /v2/webhook_endpoints/{id}/test`),
/// to the endpoint asked for, whatever events that endpoint subscribes to. Not one of
/// [`EVENT_TYPES`], which endpoints subscribe to.
pub const PING: &str = kyb_store::TEST_EVENT;

/// An event, exactly as webhooks carry it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "evt_4kT0bq9ZcWm2LrX8sYv1NdQe",
    "type": "business_customer.verification_status.updated",
    "api_version": "2",
    "created_at": "2024-10-29T09:12:40Z",
    "data": {
        "object": {"customer_id": "cust_q3Vt8LbX1nKe0RzA7mWc2YpD", "verification_status": "in_review"},
        "previous_attributes": {"verification_status": "pending"}
    }
}))]
pub struct Event {
    /// `evt_…`
    pub id: String,
    /// One of `business_customer.created`, `business_customer.updated`,
    /// `business_customer.kyb_link.created`,
    /// `business_customer.kyb_link.opened`, `business_customer.submitted`,
    /// `business_customer.verification_status.updated`; or `ping`, a test event sent on request
    /// to one endpoint.
    #[serde(rename = "type")]
    pub event_type: String,
    pub api_version: String,
    /// When the change happened (RFC 3339, UTC).
    pub created_at: String,
    /// `object`: the business customer as `GET /v2/business_customer/{id}` returned it right after
    /// the change (for `ping`: `{"object": "webhook_test", "endpoint_id", "message"}`);
    /// `previous_attributes`: the changed fields' earlier values, or `null`.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

/// `GET /v2/events`.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventList {
    /// Always `success`.
    pub status: &'static str,
    #[schema(value_type = Vec<Event>)]
    pub data: Vec<serde_json::Value>,
    /// Whether older events follow; pass the last `id` as `starting_after` to get them.
    pub has_more: bool,
}

/// `GET /v2/events/{event_id}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventResponse {
    /// Always `success`.
    pub status: &'static str,
    #[schema(value_type = Event)]
    pub data: serde_json::Value,
}

/// The `type` filter: a type endpoints subscribe to, or the test event's.
fn event_type_param() -> utoipa::openapi::Object {
    super::schema::event_type()
        .enum_values(Some(EVENT_TYPES.iter().chain(&[PING]).copied()))
        .build()
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// How many events to return, 1 to 100 (default 10).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    limit: Option<String>,
    /// An event `id` from the previous page: return the events recorded before it. An id that
    /// is not one of this platform's events is a 400.
    #[param(pattern = "^evt_[A-Za-z0-9]{1,64}$")]
    starting_after: Option<String>,
    /// Only events of this type.
    #[serde(rename = "type")]
    #[param(rename = "type", schema_with = event_type_param)]
    event_type: Option<String>,
    /// Only events about this customer (`cust_…`).
    #[param(pattern = "^cust_[A-Za-z0-9]{1,64}$")]
    customer_id: Option<String>,
}

impl ListParams {
    fn parse(self) -> Result<ListEvents> {
        let limit = super::parse_limit(self.limit.as_deref())?;
        let starting_after = super::parse_cursor(
            self.starting_after.as_deref(),
            EventId::parse,
            "an event id (evt_…)",
        )?;
        let event_type = match &self.event_type {
            None => None,
            Some(t) => Some(
                EVENT_TYPES
                    .iter()
                    .chain(&[PING])
                    .copied()
                    .find(|k| k == t)
                    .ok_or_else(|| {
                        ApiError::invalid(
                            "parameter_invalid",
                            "type",
                            format!(
                                "type must be one of {}, {PING}; got {t:?}",
                                EVENT_TYPES.join(", ")
                            ),
                        )
                    })?,
            ),
        };
        let customer_id = self
            .customer_id
            .map(|raw| {
                kyb_domain::CustomerId::parse(&raw).map_err(|_| {
                    ApiError::invalid(
                        "parameter_invalid",
                        "customer_id",
                        format!("customer_id must be a customer id (cust_…), got {raw:?}"),
                    )
                })
            })
            .transpose()?;
        Ok(ListEvents {
            limit,
            starting_after,
            event_type,
            customer_id,
        })
    }
}

/// List events, newest first.
///
/// Every change kyb has recorded for this platform and mode, the same objects webhooks deliver.
/// Cursor pagination with `limit` and `starting_after`; filter with `type`.
#[utoipa::path(
    get,
    path = "/v2/events",
    operation_id = "list_events",
    tag = "events",
    params(ListParams),
    responses(
        (status = 200, description = "One page of events", body = EventList),
        (status = 400, description = "An invalid, unknown or repeated query parameter; also a `starting_after` that is well formed but not an event of this platform", body = ErrorBody),
    ),
    security(("ngnc_sec_key" = []), ("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Json<EventList>> {
    let query = params.parse()?;
    let (data, has_more) = state
        .store
        .list_events_page(&auth.scope, &query)
        .await
        .map_err(|e| match e {
            StoreError::CursorNotFound => ApiError::invalid(
                "parameter_invalid",
                "starting_after",
                "starting_after must be the id of an event of this platform",
            ),
            other => other.into(),
        })?;
    let mut data = data;
    data.iter_mut().for_each(|e| state.links.reveal_json(e));
    Ok(Json(EventList {
        status: "success",
        data,
        has_more,
    }))
}

/// Retrieve an event.
///
/// One event of this platform and mode, exactly as it is listed and delivered. Another
/// platform's event is `404`.
#[utoipa::path(
    get,
    path = "/v2/events/{event_id}",
    operation_id = "retrieve_event",
    tag = "events",
    params(("event_id" = String, Path, pattern = "^evt_[A-Za-z0-9]{1,64}$", description = "`evt_…`")),
    responses(
        (status = 200, description = "The event", body = EventResponse),
        (status = 400, description = "A path that is not readable text (invisible or control characters, percent-escapes that are not UTF-8)", body = ErrorBody),
        (status = 404, description = "`resource_missing`: no such event for this platform and mode", body = ErrorBody),
    ),
    security(("ngnc_sec_key" = []), ("bearer" = []))
)]
pub async fn retrieve(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(raw_id): Path<String>,
) -> Result<Json<EventResponse>> {
    let not_found = || ApiError::not_found(format!("no such event: {raw_id}"));
    let id = EventId::parse(&raw_id).map_err(|_| not_found())?;
    let mut data = state
        .store
        .get_event(&auth.scope, &id)
        .await?
        .ok_or_else(not_found)?;
    state.links.reveal_json(&mut data);
    Ok(Json(EventResponse {
        status: "success",
        data,
    }))
}
