//! `/v2/webhook_endpoints`: where a platform receives its events, the deliveries to each
//! endpoint with every attempt, and a way to send a delivery again.
//!
//! Secrets are `whsec_…`, shown once (on create and on rotation) and kept encrypted. URLs pass
//! the SSRF guard (`webhooks::guard`) before they are stored.

use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use kyb_domain::{DeliveryId, WebhookEndpointId};
use kyb_store::{
    Attempt, Delivery, DeliveryStatus, EndpointPatch, Idempotent, ListDeliveries, NewEndpoint,
    SecretRotation, StoreError, StoredResponse, WebhookEndpoint,
};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::events::EVENT_TYPES;
use super::schema::{IdempotencyKeyHeader, OptionalIdempotencyKeyHeader};
use super::{parse_cursor, parse_limit, respond, rfc3339};
use crate::auth::Authenticated;
use crate::error::{ApiError, ErrorBody, Result};
use crate::extract::{
    ApiJson, ApiQuery, EmptyBody, Idempotency, OptionalIdempotency, RequestContext,
};
use crate::webhooks::signing::generate_secret;
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v2/webhook_endpoints", post(create).get(list))
        .route(
            "/v2/webhook_endpoints/{endpoint_id}",
            get(retrieve).post(update).delete(delete),
        )
        .route(
            "/v2/webhook_endpoints/{endpoint_id}/rotate_secret",
            post(rotate_secret),
        )
        .route(
            "/v2/webhook_endpoints/{endpoint_id}/deliveries",
            get(list_deliveries),
        )
        .route(
            "/v2/webhook_endpoints/{endpoint_id}/deliveries/{delivery_id}",
            get(retrieve_delivery),
        )
        .route(
            "/v2/webhook_endpoints/{endpoint_id}/deliveries/{delivery_id}/attempts",
            get(list_attempts),
        )
        .route(
            "/v2/webhook_endpoints/{endpoint_id}/deliveries/{delivery_id}/retry",
            post(retry_delivery),
        )
}

pub(crate) const MAX_DESCRIPTION: usize = 500;
/// How long a replaced secret keeps signing after a rotation, at most and by default.
const MAX_OVERLAP_SECS: i64 = 86_400;

// ----- objects ---------------------------------------------------------------------------------

/// A webhook endpoint.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookEndpointObject {
    /// `we_…`
    pub id: String,
    /// Always `webhook_endpoint`.
    pub object: &'static str,
    pub url: String,
    pub description: Option<String>,
    /// The event types sent to this endpoint; `["*"]` is all of them.
    pub enabled_events: Vec<String>,
    /// `enabled` or `disabled` (by the platform, or by kyb after the endpoint answered `410 Gone`).
    pub status: &'static str,
    /// Why the endpoint is disabled.
    pub disabled_reason: Option<String>,
    pub livemode: bool,
    /// The signing secret (`whsec_…`): only in the response that created it (create, rotate).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// After a rotation: until when the replaced secret also signs (two `v1,` signatures).
    pub previous_secret_expires_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl WebhookEndpointObject {
    /// The endpoint as shown; the secret is added only by the writes that make one.
    fn new(e: &WebhookEndpoint) -> Self {
        Self {
            id: e.id.to_string(),
            object: "webhook_endpoint",
            url: e.url.clone(),
            description: e.description.clone(),
            enabled_events: e.enabled_events.clone(),
            status: if e.enabled { "enabled" } else { "disabled" },
            disabled_reason: e.disabled_reason.clone(),
            livemode: e.mode.is_live(),
            secret: None,
            previous_secret_expires_at: e.previous_secret_expires_at.map(rfc3339),
            created_at: rfc3339(e.created_at),
            updated_at: rfc3339(e.updated_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookEndpointResponse {
    /// Always `success`.
    pub status: &'static str,
    pub data: WebhookEndpointObject,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookEndpointList {
    /// Always `success`.
    pub status: &'static str,
    pub data: Vec<WebhookEndpointObject>,
    /// Whether older endpoints follow; pass the last `id` as `starting_after`.
    pub has_more: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeletedEndpoint {
    pub id: String,
    /// Always `webhook_endpoint`.
    pub object: &'static str,
    /// Always `true`.
    pub deleted: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeletedEndpointResponse {
    /// Always `success`.
    pub status: &'static str,
    pub data: DeletedEndpoint,
}

/// One event on its way to one endpoint.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryObject {
    /// `dlv_…`
    pub id: String,
    /// Always `webhook_delivery`.
    pub object: &'static str,
    pub endpoint_id: String,
    /// The event delivered; also the `webhook-id` header, the same on every attempt.
    pub event_id: String,
    pub event_type: String,
    /// `pending` (waiting for its first or next attempt), `succeeded`, `failed` (the schedule is
    /// spent, or the endpoint answered `410`), `cancelled` (the endpoint was deleted).
    pub status: &'static str,
    pub attempt_count: i32,
    pub next_attempt_at: Option<String>,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    pub livemode: bool,
    pub created_at: String,
    pub updated_at: String,
    pub completed_at: Option<String>,
}

impl From<&Delivery> for DeliveryObject {
    fn from(d: &Delivery) -> Self {
        Self {
            id: d.id.to_string(),
            object: "webhook_delivery",
            endpoint_id: d.endpoint_id.to_string(),
            event_id: d.event_id.to_string(),
            event_type: d.event_type.clone(),
            status: d.status.as_str(),
            attempt_count: d.attempt_count,
            next_attempt_at: d.next_attempt_at.map(rfc3339),
            last_status_code: d.last_status_code,
            last_error: d.last_error.clone(),
            livemode: d.mode.is_live(),
            created_at: rfc3339(d.created_at),
            updated_at: rfc3339(d.updated_at),
            completed_at: d.completed_at.map(rfc3339),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryResponse {
    /// Always `success`.
    pub status: &'static str,
    pub data: DeliveryObject,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryList {
    /// Always `success`.
    pub status: &'static str,
    pub data: Vec<DeliveryObject>,
    /// Whether older deliveries follow; pass the last `id` as `starting_after`.
    pub has_more: bool,
}

/// One HTTP request of a delivery.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptObject {
    /// `att_…`
    pub id: String,
    /// Always `webhook_attempt`.
    pub object: &'static str,
    pub delivery_id: String,
    /// 1 for the first attempt of the delivery, counting manual retries on.
    pub attempt_number: i32,
    pub started_at: String,
    pub duration_ms: i64,
    /// The receiver's HTTP status, if it answered.
    pub status_code: Option<i32>,
    /// What went wrong: the status, a timeout, a refused connection, the SSRF guard…
    pub error: Option<String>,
    /// The first KiB of the receiver's answer.
    pub response_excerpt: Option<String>,
    /// `succeeded`, `retrying`, `failed` or `endpoint_disabled`.
    pub outcome: String,
    /// With `retrying`: when the next attempt is due.
    pub next_attempt_at: Option<String>,
}

impl From<&Attempt> for AttemptObject {
    fn from(a: &Attempt) -> Self {
        Self {
            id: a.id.to_string(),
            object: "webhook_attempt",
            delivery_id: a.delivery_id.to_string(),
            attempt_number: a.attempt_number,
            started_at: rfc3339(a.started_at),
            duration_ms: a.duration_ms,
            status_code: a.status_code,
            error: a.error.clone(),
            response_excerpt: a.response_excerpt.clone(),
            outcome: a.outcome.clone(),
            next_attempt_at: a.next_attempt_at.map(rfc3339),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptList {
    /// Always `success`.
    pub status: &'static str,
    /// Oldest first.
    pub data: Vec<AttemptObject>,
}

// ----- requests --------------------------------------------------------------------------------

/// Body of `POST /v2/webhook_endpoints`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "url": "https://platform.example/kyb/webhooks",
    "enabled_events": ["business_customer.verification_status.updated"],
    "description": "Production receiver"
}))]
pub struct CreateEndpointRequest {
    #[schema(schema_with = super::schema::webhook_url)]
    pub url: String,
    #[serde(default)]
    #[schema(schema_with = super::schema::enabled_events_create)]
    pub enabled_events: Option<Vec<String>>,
    #[serde(default)]
    #[schema(schema_with = super::schema::endpoint_description)]
    pub description: Option<String>,
}

impl EmptyBody for CreateEndpointRequest {}

/// Body of `POST /v2/webhook_endpoints/{endpoint_id}`: only the fields sent change.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateEndpointRequest {
    #[schema(schema_with = super::schema::webhook_url_update)]
    pub url: Option<String>,
    #[schema(schema_with = super::schema::enabled_events_update)]
    pub enabled_events: Option<Vec<String>>,
    #[schema(schema_with = super::schema::endpoint_description_update)]
    pub description: Option<String>,
    /// `true` stops deliveries (they wait); `false` enables the endpoint again, also after a
    /// `410 Gone`.
    pub disabled: Option<bool>,
}

impl EmptyBody for UpdateEndpointRequest {}

/// Body of `POST /v2/webhook_endpoints/{endpoint_id}/rotate_secret`; may be empty.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateSecretRequest {
    /// How long the replaced secret keeps signing beside the new one, in seconds: 0 (stop at
    /// once, for a leaked secret) to 86400 (the default, 24 hours). A whole number, also when
    /// written as one with a fraction of zero (`879.0`).
    #[serde(default, deserialize_with = "whole_seconds")]
    #[schema(minimum = 0, maximum = 86400)]
    pub expire_previous_in: Option<i64>,
}

/// A number of seconds as JSON Schema's `integer` reads it: a whole number, however it is
/// written (`879` or `879.0`). One too large for `i64` saturates, so the range check refuses it.
fn whole_seconds<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> std::result::Result<Option<i64>, D::Error> {
    let Some(n) = Option::<serde_json::Number>::deserialize(deserializer)? else {
        return Ok(None);
    };
    if let Some(i) = n.as_i64() {
        return Ok(Some(i));
    }
    if n.is_u64() {
        return Ok(Some(i64::MAX));
    }
    match n.as_f64() {
        // `as` saturates: a whole number beyond `i64` stays out of range.
        Some(f) if f.fract() == 0.0 => Ok(Some(f as i64)),
        _ => Err(serde::de::Error::custom(format!(
            "must be a whole number of seconds, got {n}"
        ))),
    }
}

impl EmptyBody for RotateSecretRequest {
    fn empty() -> Option<Self> {
        Some(Self::default())
    }
}

/// Body of `POST …/deliveries/{delivery_id}/retry`: none.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetryDeliveryRequest {}

impl EmptyBody for RetryDeliveryRequest {
    fn empty() -> Option<Self> {
        Some(Self::default())
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// 1 to 100 (default 10).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    limit: Option<String>,
    /// An endpoint `id` from the previous page: return the ones created before it. An id that
    /// is not one of this platform's endpoints is a 400.
    #[param(pattern = "^we_[A-Za-z0-9]{1,64}$")]
    starting_after: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeliveryListParams {
    /// 1 to 100 (default 10).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    limit: Option<String>,
    /// A delivery `id` from the previous page: return the ones created before it. An id that
    /// is not one of this endpoint's deliveries is a 400.
    #[param(pattern = "^dlv_[A-Za-z0-9]{1,64}$")]
    starting_after: Option<String>,
    /// Only deliveries in this status.
    #[param(schema_with = delivery_status_param)]
    status: Option<String>,
}

fn delivery_status_param() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::String)
        .enum_values(Some(DeliveryStatus::ALL.map(DeliveryStatus::as_str)))
        .build()
}

// ----- validation ------------------------------------------------------------------------------

async fn check_url(state: &AppState, raw: &str) -> Result<String> {
    let policy = state.config.webhooks.policy();
    let url = policy
        .check_url(raw.trim())
        .map_err(|m| ApiError::invalid("parameter_invalid", "url", m))?;
    policy
        .check_resolved(&url)
        .await
        .map_err(|m| ApiError::invalid("parameter_invalid", "url", m))?;
    Ok(url.to_string())
}

fn check_events(raw: Vec<String>) -> Result<Vec<String>> {
    if raw.is_empty() {
        return Err(ApiError::invalid(
            "parameter_invalid",
            "enabled_events",
            "enabled_events must name at least one event type, or be [\"*\"] for all",
        ));
    }
    let mut events: Vec<String> = Vec::new();
    for t in raw {
        if t != "*" && !EVENT_TYPES.contains(&t.as_str()) {
            return Err(ApiError::invalid(
                "parameter_invalid",
                "enabled_events",
                format!(
                    "enabled_events: {t:?} is not an event type; use \"*\" or one of {}",
                    EVENT_TYPES.join(", ")
                ),
            ));
        }
        if !events.contains(&t) {
            events.push(t);
        }
    }
    if events.len() > 1 && events.iter().any(|t| t == "*") {
        return Err(ApiError::invalid(
            "parameter_invalid",
            "enabled_events",
            "enabled_events: \"*\" already means every type; send it alone",
        ));
    }
    Ok(events)
}

fn check_description(raw: String) -> Result<Option<String>> {
    let trimmed = raw.trim();
    if trimmed.chars().count() > MAX_DESCRIPTION {
        return Err(ApiError::invalid(
            "parameter_invalid",
            "description",
            format!("description must be at most {MAX_DESCRIPTION} characters"),
        ));
    }
    Ok((!trimmed.is_empty()).then(|| trimmed.to_owned()))
}

pub(crate) fn endpoint_id(raw: &str) -> Result<WebhookEndpointId> {
    WebhookEndpointId::parse(raw)
        .map_err(|_| ApiError::not_found(format!("no such webhook endpoint: {raw}")))
}

fn delivery_id(raw: &str) -> Result<DeliveryId> {
    DeliveryId::parse(raw).map_err(|_| ApiError::not_found(format!("no such delivery: {raw}")))
}

/// A store error, with "not found" said about what was looked for.
pub(crate) fn store_error(what: &str) -> impl Fn(StoreError) -> ApiError + '_ {
    move |e| match e {
        StoreError::NotFound => ApiError::not_found(format!("no such {what}")),
        StoreError::CursorNotFound => ApiError::invalid(
            "parameter_invalid",
            "starting_after",
            format!("starting_after must be the id of a {what} of this platform"),
        ),
        other => other.into(),
    }
}

/// The response of a write that answers with a delivery.
pub(crate) fn delivery_response(d: &Delivery) -> StoredResponse {
    stored(
        200,
        &DeliveryResponse {
            status: "success",
            data: DeliveryObject::from(d),
        },
    )
}

fn stored<T: Serialize>(status: u16, body: &T) -> StoredResponse {
    StoredResponse {
        status,
        body: serde_json::to_vec(body).expect("response objects serialise"),
    }
}

/// The response of a write on an endpoint. `sealed_secret` is the new secret as `SecretBox`
/// sealed it: the response is kept for idempotent replay, and a secret must not be kept in clear,
/// so the stored body carries the sealed form and [`reveal`] opens it on the way out.
fn endpoint_response(e: &WebhookEndpoint, sealed_secret: Option<&str>) -> StoredResponse {
    let mut object = WebhookEndpointObject::new(e);
    object.secret = sealed_secret.map(str::to_owned);
    stored(
        200,
        &WebhookEndpointResponse {
            status: "success",
            data: object,
        },
    )
}

/// Puts the secret back in clear into a response about to be sent (fresh or replayed).
fn reveal(
    state: &AppState,
    outcome: Idempotent<StoredResponse>,
) -> Result<Idempotent<StoredResponse>> {
    let open = |stored: StoredResponse| -> Result<StoredResponse> {
        let body: serde_json::Value =
            serde_json::from_slice(&stored.body).map_err(ApiError::internal)?;
        let data = &body["data"];
        let (Some(id), Some(sealed)) = (data["id"].as_str(), data["secret"].as_str()) else {
            return Ok(stored);
        };
        let secret = state
            .webhook_secrets
            .open(id, sealed)
            .map_err(ApiError::internal)?;
        // Both strings are plain base64 with a prefix, the same in JSON as in memory: swap them
        // in the stored bytes, so the fields keep their order.
        let text = String::from_utf8(stored.body).map_err(ApiError::internal)?;
        let body = text.replacen(
            &format!("\"secret\":\"{sealed}\""),
            &format!("\"secret\":\"{}\"", secret.expose_secret()),
            1,
        );
        Ok(StoredResponse {
            status: stored.status,
            body: body.into_bytes(),
        })
    };
    Ok(match outcome {
        Idempotent::Fresh(r) => Idempotent::Fresh(open(r)?),
        Idempotent::Replayed(r) => Idempotent::Replayed(open(r)?),
        other => other,
    })
}

// ----- handlers --------------------------------------------------------------------------------

/// Create a webhook endpoint.
///
/// The response carries the signing secret (`whsec_…`) once; store it. Every event the
/// endpoint takes is then POSTed to it with Standard Webhooks headers (`webhook-id`,
/// `webhook-timestamp`, `webhook-signature`).
#[utoipa::path(
    post,
    path = "/v2/webhook_endpoints",
    operation_id = "create_webhook_endpoint",
    tag = "webhook_endpoints",
    request_body = CreateEndpointRequest,
    params(IdempotencyKeyHeader),
    responses(
        (status = 200, description = "The endpoint, with its secret (or the first response replayed)", body = WebhookEndpointResponse,
         headers(("idempotent-replayed" = String, description = "`true` when this is a replay"))),
        (status = 400, description = "A refused field (named in `param`: a URL that is not https or reaches a private address, an unknown event type, a long description), an unknown field, malformed JSON, or a missing or malformed idempotency-key", body = ErrorBody),
    ),
    security(("ngnc_sec_key" = []), ("bearer" = []))
)]
pub async fn create(
    State(state): State<AppState>,
    auth: Authenticated,
    Idempotency(key): Idempotency,
    ctx: RequestContext,
    body: ApiJson<CreateEndpointRequest>,
) -> Result<Response> {
    let idem = state.idempotency(
        key,
        &Method::POST,
        "/v2/webhook_endpoints",
        auth.mode(),
        body.raw.as_ref(),
    );
    let now = state.clock.now();
    // A replay answers as the first time, before the URL's DNS is looked at again.
    if let Some(done) = state.store.stored_outcome(&auth.scope, &idem, now).await? {
        return respond(reveal(&state, done)?);
    }
    let req = body.value;
    let url = check_url(&state, &req.url).await?;
    let enabled_events = check_events(req.enabled_events.unwrap_or_else(|| vec!["*".into()]))?;
    let description = req
        .description
        .map(check_description)
        .transpose()?
        .flatten();
    let id = WebhookEndpointId::generate();
    let sealed = state.webhook_secrets.seal(id.as_str(), &generate_secret());
    let new = NewEndpoint {
        secret_enc: sealed.clone(),
        id,
        url,
        description,
        enabled_events,
    };
    let outcome = state
        .store
        .create_endpoint(
            &auth.scope,
            new,
            &idem,
            &auth.audit_context(&ctx, now),
            |e| endpoint_response(e, Some(&sealed)),
        )
        .await?;
    respond(reveal(&state, outcome)?)
}

/// List webhook endpoints, newest first.
#[utoipa::path(
    get,
    path = "/v2/webhook_endpoints",
    operation_id = "list_webhook_endpoints",
    tag = "webhook_endpoints",
    params(ListParams),
    responses(
        (status = 200, description = "One page of endpoints (without secrets)", body = WebhookEndpointList),
        (status = 400, description = "An invalid, unknown or repeated query parameter; also a `starting_after` that is well formed but not an endpoint of this platform", body = ErrorBody),
    ),
    security(("ngnc_sec_key" = []), ("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Json<WebhookEndpointList>> {
    let limit = parse_limit(params.limit.as_deref())?;
    let cursor = parse_cursor(
        params.starting_after.as_deref(),
        WebhookEndpointId::parse,
        "a webhook endpoint id (we_…)",
    )?;
    let (endpoints, has_more) = state
        .store
        .list_endpoints(&auth.scope, limit, cursor.as_ref())
        .await
        .map_err(store_error("webhook endpoint"))?;
    Ok(Json(WebhookEndpointList {
        status: "success",
        data: endpoints.iter().map(WebhookEndpointObject::new).collect(),
        has_more,
    }))
}

/// Retrieve a webhook endpoint (without its secret).
#[utoipa::path(
    get,
    path = "/v2/webhook_endpoints/{endpoint_id}",
    operation_id = "retrieve_webhook_endpoint",
    tag = "webhook_endpoints",
    params(("endpoint_id" = String, Path, pattern = "^we_[A-Za-z0-9]{1,64}$", description = "`we_…`")),
    responses(
        (status = 200, description = "The endpoint", body = WebhookEndpointResponse),
        (status = 400, description = "A path that is not readable text (invisible or control characters, percent-escapes that are not UTF-8)", body = ErrorBody),
        (status = 404, description = "`resource_missing`: no such endpoint for this platform and mode", body = ErrorBody),
    ),
    security(("ngnc_sec_key" = []), ("bearer" = []))
)]
pub async fn retrieve(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(raw_id): Path<String>,
) -> Result<Json<WebhookEndpointResponse>> {
    let id = endpoint_id(&raw_id)?;
    let endpoint = state
        .store
        .get_endpoint(&auth.scope, &id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no such webhook endpoint: {id}")))?;
    Ok(Json(WebhookEndpointResponse {
        status: "success",
        data: WebhookEndpointObject::new(&endpoint),
    }))
}

/// Update a webhook endpoint.
///
/// Change its URL, event types or description, or disable and enable it. Deliveries of a
/// disabled endpoint wait, and go out once it is enabled again.
#[utoipa::path(
    post,
    path = "/v2/webhook_endpoints/{endpoint_id}",
    operation_id = "update_webhook_endpoint",
    tag = "webhook_endpoints",
    request_body = UpdateEndpointRequest,
    params(("endpoint_id" = String, Path, pattern = "^we_[A-Za-z0-9]{1,64}$", description = "`we_…`"), IdempotencyKeyHeader),
    responses(
        (status = 200, description = "The endpoint as updated (or the first response replayed)", body = WebhookEndpointResponse,
         headers(("idempotent-replayed" = String, description = "`true` when this is a replay"))),
        (status = 400, description = "A refused field (named in `param`), an unknown field, malformed JSON, a missing or malformed idempotency-key, or a path that is not readable text", body = ErrorBody),
        (status = 404, description = "`resource_missing`: no such endpoint for this platform and mode", body = ErrorBody),
    ),
    security(("ngnc_sec_key" = []), ("bearer" = []))
)]
pub async fn update(
    State(state): State<AppState>,
    auth: Authenticated,
    Idempotency(key): Idempotency,
    ctx: RequestContext,
    Path(raw_id): Path<String>,
    body: ApiJson<UpdateEndpointRequest>,
) -> Result<Response> {
    let id = endpoint_id(&raw_id)?;
    let now = state.clock.now();
    let path = format!("/v2/webhook_endpoints/{id}");
    let idem = state.idempotency(key, &Method::POST, &path, auth.mode(), body.raw.as_ref());
    // A replay answers as the first time, before the URL's DNS is looked at again.
    if let Some(done) = state.store.stored_outcome(&auth.scope, &idem, now).await? {
        return respond(done);
    }
    let req = body.value;
    let url = match req.url {
        Some(u) => Some(check_url(&state, &u).await?),
        None => None,
    };
    let patch = EndpointPatch {
        url,
        description: req.description.map(check_description).transpose()?,
        enabled_events: req.enabled_events.map(check_events).transpose()?,
        enabled: req.disabled.map(|d| !d),
    };
    let outcome = state
        .store
        .update_endpoint(
            &auth.scope,
            &id,
            patch,
            &idem,
            &auth.audit_context(&ctx, now),
            |e| endpoint_response(e, None),
        )
        .await
        .map_err(store_error("webhook endpoint"))?;
    respond(outcome)
}

/// Delete a webhook endpoint.
///
/// Its pending deliveries are cancelled. An `idempotency-key` is optional here.
#[utoipa::path(
    delete,
    path = "/v2/webhook_endpoints/{endpoint_id}",
    operation_id = "delete_webhook_endpoint",
    tag = "webhook_endpoints",
    params(("endpoint_id" = String, Path, pattern = "^we_[A-Za-z0-9]{1,64}$", description = "`we_…`"), OptionalIdempotencyKeyHeader),
    responses(
        (status = 200, description = "Deleted (or the first response replayed)", body = DeletedEndpointResponse,
         headers(("idempotent-replayed" = String, description = "`true` when this is a replay"))),
        (status = 400, description = "A malformed idempotency-key, or a path that is not readable text", body = ErrorBody),
        (status = 404, description = "`resource_missing`: no such endpoint for this platform and mode (also once it is deleted)", body = ErrorBody),
    ),
    security(("ngnc_sec_key" = []), ("bearer" = []))
)]
pub async fn delete(
    State(state): State<AppState>,
    auth: Authenticated,
    OptionalIdempotency(key): OptionalIdempotency,
    ctx: RequestContext,
    Path(raw_id): Path<String>,
) -> Result<Response> {
    let id = endpoint_id(&raw_id)?;
    let now = state.clock.now();
    let path = format!("/v2/webhook_endpoints/{id}");
    let idem = state.idempotency(key, &Method::DELETE, &path, auth.mode(), None);
    let outcome = state
        .store
        .delete_endpoint(
            &auth.scope,
            &id,
            &idem,
            &auth.audit_context(&ctx, now),
            |e| {
                stored(
                    200,
                    &DeletedEndpointResponse {
                        status: "success",
                        data: DeletedEndpoint {
                            id: e.id.to_string(),
                            object: "webhook_endpoint",
                            deleted: true,
                        },
                    },
                )
            },
        )
        .await
        .map_err(store_error("webhook endpoint"))?;
    respond(outcome)
}

/// Rotate an endpoint's signing secret.
///
/// The response carries the new secret once. The replaced secret keeps signing beside it for
/// `expire_previous_in` seconds (default 24 hours), so each delivery carries two `v1,`
/// signatures while the receiver switches over.
#[utoipa::path(
    post,
    path = "/v2/webhook_endpoints/{endpoint_id}/rotate_secret",
    operation_id = "rotate_webhook_endpoint_secret",
    tag = "webhook_endpoints",
    request_body(content = Option<RotateSecretRequest>, description = "Empty, or the parameters"),
    params(("endpoint_id" = String, Path, pattern = "^we_[A-Za-z0-9]{1,64}$", description = "`we_…`"), IdempotencyKeyHeader),
    responses(
        (status = 200, description = "The endpoint, with its new secret (or the first response replayed)", body = WebhookEndpointResponse,
         headers(("idempotent-replayed" = String, description = "`true` when this is a replay"))),
        (status = 400, description = "An invalid `expire_previous_in`, an unknown field, malformed JSON, a missing or malformed idempotency-key, or a path that is not readable text", body = ErrorBody),
        (status = 404, description = "`resource_missing`: no such endpoint for this platform and mode", body = ErrorBody),
    ),
    security(("ngnc_sec_key" = []), ("bearer" = []))
)]
pub async fn rotate_secret(
    State(state): State<AppState>,
    auth: Authenticated,
    Idempotency(key): Idempotency,
    ctx: RequestContext,
    Path(raw_id): Path<String>,
    body: ApiJson<RotateSecretRequest>,
) -> Result<Response> {
    let id = endpoint_id(&raw_id)?;
    let overlap = body.value.expire_previous_in.unwrap_or(MAX_OVERLAP_SECS);
    if !(0..=MAX_OVERLAP_SECS).contains(&overlap) {
        return Err(ApiError::invalid(
            "parameter_invalid",
            "expire_previous_in",
            format!("expire_previous_in must be 0 to {MAX_OVERLAP_SECS} seconds, got {overlap}"),
        ));
    }
    let now = state.clock.now();
    let sealed = state.webhook_secrets.seal(id.as_str(), &generate_secret());
    let rotation = SecretRotation {
        secret_enc: sealed.clone(),
        previous_expires_at: now + chrono::Duration::seconds(overlap),
    };
    let path = format!("/v2/webhook_endpoints/{id}/rotate_secret");
    let idem = state.idempotency(key, &Method::POST, &path, auth.mode(), body.raw.as_ref());
    let outcome = state
        .store
        .rotate_endpoint_secret(
            &auth.scope,
            &id,
            rotation,
            &idem,
            &auth.audit_context(&ctx, now),
            |e| endpoint_response(e, Some(&sealed)),
        )
        .await
        .map_err(store_error("webhook endpoint"))?;
    respond(reveal(&state, outcome)?)
}

/// List an endpoint's deliveries, newest first.
#[utoipa::path(
    get,
    path = "/v2/webhook_endpoints/{endpoint_id}/deliveries",
    operation_id = "list_webhook_deliveries",
    tag = "webhook_endpoints",
    params(("endpoint_id" = String, Path, pattern = "^we_[A-Za-z0-9]{1,64}$", description = "`we_…`"), DeliveryListParams),
    responses(
        (status = 200, description = "One page of deliveries", body = DeliveryList),
        (status = 400, description = "An invalid, unknown or repeated query parameter (also a `starting_after` that is well formed but not a delivery of this endpoint), or a path that is not readable text", body = ErrorBody),
        (status = 404, description = "`resource_missing`: no such endpoint for this platform and mode", body = ErrorBody),
    ),
    security(("ngnc_sec_key" = []), ("bearer" = []))
)]
pub async fn list_deliveries(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(raw_id): Path<String>,
    ApiQuery(params): ApiQuery<DeliveryListParams>,
) -> Result<Json<DeliveryList>> {
    let id = endpoint_id(&raw_id)?;
    let limit = parse_limit(params.limit.as_deref())?;
    let starting_after = parse_cursor(
        params.starting_after.as_deref(),
        DeliveryId::parse,
        "a delivery id (dlv_…)",
    )?;
    let status = params
        .status
        .as_deref()
        .map(|raw| {
            DeliveryStatus::parse(raw).ok_or_else(|| {
                ApiError::invalid(
                    "parameter_invalid",
                    "status",
                    format!("status must be pending, succeeded, failed or cancelled; got {raw:?}"),
                )
            })
        })
        .transpose()?;
    let query = ListDeliveries {
        limit,
        starting_after,
        status,
    };
    let (deliveries, has_more) = state
        .store
        .list_deliveries(&auth.scope, &id, &query)
        .await
        .map_err(|e| match e {
            StoreError::CursorNotFound => store_error("delivery")(e),
            other => store_error("webhook endpoint")(other),
        })?;
    Ok(Json(DeliveryList {
        status: "success",
        data: deliveries.iter().map(DeliveryObject::from).collect(),
        has_more,
    }))
}

/// Retrieve a delivery.
#[utoipa::path(
    get,
    path = "/v2/webhook_endpoints/{endpoint_id}/deliveries/{delivery_id}",
    operation_id = "retrieve_webhook_delivery",
    tag = "webhook_endpoints",
    params(("endpoint_id" = String, Path, pattern = "^we_[A-Za-z0-9]{1,64}$", description = "`we_…`"), ("delivery_id" = String, Path, pattern = "^dlv_[A-Za-z0-9]{1,64}$", description = "`dlv_…`")),
    responses(
        (status = 200, description = "The delivery", body = DeliveryResponse),
        (status = 400, description = "A path that is not readable text (invisible or control characters, percent-escapes that are not UTF-8)", body = ErrorBody),
        (status = 404, description = "`resource_missing`: no such endpoint or delivery", body = ErrorBody),
    ),
    security(("ngnc_sec_key" = []), ("bearer" = []))
)]
pub async fn retrieve_delivery(
    State(state): State<AppState>,
    auth: Authenticated,
    Path((raw_endpoint, raw_delivery)): Path<(String, String)>,
) -> Result<Json<DeliveryResponse>> {
    let endpoint = endpoint_id(&raw_endpoint)?;
    let id = delivery_id(&raw_delivery)?;
    let delivery = state
        .store
        .get_delivery(&auth.scope, &endpoint, &id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no such delivery: {id}")))?;
    Ok(Json(DeliveryResponse {
        status: "success",
        data: DeliveryObject::from(&delivery),
    }))
}

/// List the attempts of a delivery, oldest first.
#[utoipa::path(
    get,
    path = "/v2/webhook_endpoints/{endpoint_id}/deliveries/{delivery_id}/attempts",
    operation_id = "list_webhook_delivery_attempts",
    tag = "webhook_endpoints",
    params(("endpoint_id" = String, Path, pattern = "^we_[A-Za-z0-9]{1,64}$", description = "`we_…`"), ("delivery_id" = String, Path, pattern = "^dlv_[A-Za-z0-9]{1,64}$", description = "`dlv_…`")),
    responses(
        (status = 200, description = "Every attempt", body = AttemptList),
        (status = 400, description = "A path that is not readable text (invisible or control characters, percent-escapes that are not UTF-8)", body = ErrorBody),
        (status = 404, description = "`resource_missing`: no such endpoint or delivery", body = ErrorBody),
    ),
    security(("ngnc_sec_key" = []), ("bearer" = []))
)]
pub async fn list_attempts(
    State(state): State<AppState>,
    auth: Authenticated,
    Path((raw_endpoint, raw_delivery)): Path<(String, String)>,
) -> Result<Json<AttemptList>> {
    let endpoint = endpoint_id(&raw_endpoint)?;
    let id = delivery_id(&raw_delivery)?;
    let attempts = state
        .store
        .list_attempts(&auth.scope, &endpoint, &id)
        .await
        .map_err(store_error("delivery"))?;
    Ok(Json(AttemptList {
        status: "success",
        data: attempts.iter().map(AttemptObject::from).collect(),
    }))
}

/// Send a delivery again.
///
/// Whatever its state (failed after the last attempt, succeeded, or waiting on a retry), the
/// delivery is due now with a fresh retry schedule. The customer's later deliveries to this
/// endpoint wait for it, so order is kept.
#[utoipa::path(
    post,
    path = "/v2/webhook_endpoints/{endpoint_id}/deliveries/{delivery_id}/retry",
    operation_id = "retry_webhook_delivery",
    tag = "webhook_endpoints",
    request_body(content = Option<RetryDeliveryRequest>, description = "Empty, or `{}`"),
    params(("endpoint_id" = String, Path, pattern = "^we_[A-Za-z0-9]{1,64}$", description = "`we_…`"), ("delivery_id" = String, Path, pattern = "^dlv_[A-Za-z0-9]{1,64}$", description = "`dlv_…`"), IdempotencyKeyHeader),
    responses(
        (status = 200, description = "The delivery, pending again (or the first response replayed)", body = DeliveryResponse,
         headers(("idempotent-replayed" = String, description = "`true` when this is a replay"))),
        (status = 400, description = "An unknown field, a body that is not a JSON object, a missing or malformed idempotency-key, or a path that is not readable text", body = ErrorBody),
        (status = 404, description = "`resource_missing`: no such endpoint or delivery", body = ErrorBody),
        (status = 409, description = "`invalid_state`: the endpoint is disabled; or `idempotency_key_in_use` (with `Retry-After`)", body = ErrorBody),
    ),
    security(("ngnc_sec_key" = []), ("bearer" = []))
)]
pub async fn retry_delivery(
    State(state): State<AppState>,
    auth: Authenticated,
    Idempotency(key): Idempotency,
    ctx: RequestContext,
    Path((raw_endpoint, raw_delivery)): Path<(String, String)>,
    body: ApiJson<RetryDeliveryRequest>,
) -> Result<Response> {
    let endpoint = endpoint_id(&raw_endpoint)?;
    let id = delivery_id(&raw_delivery)?;
    let now = state.clock.now();
    let path = format!("/v2/webhook_endpoints/{endpoint}/deliveries/{id}/retry");
    let idem = state.idempotency(key, &Method::POST, &path, auth.mode(), body.raw.as_ref());
    let outcome = state
        .store
        .retry_delivery(
            &auth.scope,
            &endpoint,
            &id,
            &idem,
            &auth.audit_context(&ctx, now),
            delivery_response,
        )
        .await
        .map_err(store_error("delivery"))?;
    respond(outcome)
}
