//! The platform-facing JSON API under `/v2`. One module per resource; merged here.

pub mod audit_checkpoints;
pub mod audit_logs;
pub mod business_customer;
pub mod events;
pub mod platform_branding;
pub mod prefill;
pub mod schema;
pub mod simulate;
pub mod webhook_endpoints;
pub mod webhook_tools;

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::error::{ApiError, ErrorType, Result};
use crate::AppState;
use kyb_store::{Idempotent, StoredResponse};
use schema::StandardResponses;

pub fn router(max_upload_bytes: usize) -> Router<AppState> {
    Router::new()
        .merge(business_customer::router())
        .merge(prefill::router(max_upload_bytes))
        .merge(simulate::router())
        .merge(events::router())
        .merge(audit_logs::router())
        .merge(audit_checkpoints::router())
        .merge(platform_branding::router())
        .merge(webhook_endpoints::router())
        .merge(webhook_tools::router())
        .route("/v2/openapi.json", get(|| async { Json(openapi()) }))
        .fallback(
            |uri: axum::http::Uri, headers: axum::http::HeaderMap| async move {
                if uri.path().starts_with("/kyb/") {
                    return crate::hosted::not_found(&headers);
                }
                ApiError::new(
                    StatusCode::NOT_FOUND,
                    ErrorType::InvalidRequestError,
                    "route_not_found",
                    "no such endpoint; see /v2/openapi.json",
                )
                .into_response()
            },
        )
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                ErrorType::InvalidRequestError,
                "method_not_allowed",
                "this endpoint does not support this HTTP method; see /v2/openapi.json",
            )
        })
}

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "ngnc_sec_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "ngnc-sec-key",
                "Secret API key: sk_test_… (test mode) or sk_live_… (live mode).",
            ))),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("The same secret key as `Authorization: Bearer sk_…`."))
                    .build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "kyb API",
        version = "2",
        description = "Onboard the business customers of a B2B2B platform: create a customer, send them the hosted, single-use KYB link, follow their verification.\n\nEvery `/v2` error has the same shape (`ErrorBody`) and a `request_id` that is also in the `x-request-id` header and in the service's logs. Every POST needs an `idempotency-key` header.",
        license(name = "Apache-2.0")
    ),
    paths(
        business_customer::create,
        business_customer::list,
        business_customer::retrieve,
        prefill::update,
        prefill::upload_document,
        business_customer::issue_link,
        simulate::simulate,
        events::list,
        events::retrieve,
        audit_logs::list,
        audit_checkpoints::retrieve,
        audit_checkpoints::inclusion,
        audit_checkpoints::consistency,
        webhook_endpoints::create,
        webhook_endpoints::list,
        webhook_endpoints::retrieve,
        webhook_endpoints::update,
        webhook_endpoints::delete,
        webhook_endpoints::rotate_secret,
        webhook_endpoints::list_deliveries,
        webhook_endpoints::retrieve_delivery,
        webhook_endpoints::list_attempts,
        webhook_endpoints::retry_delivery,
        webhook_tools::send_test_event,
        webhook_tools::replay_events,
        platform_branding::retrieve,
        platform_branding::update,
        platform_branding::set_logo,
        platform_branding::remove_logo,
    ),
    components(schemas(crate::error::ErrorBody, crate::error::ErrorDetail, crate::error::ErrorType)),
    modifiers(&Security, &StandardResponses),
    tags(
        (name = "business_customer", description = "Business customers and their KYB links"),
        (name = "events", description = "Everything that happened, as webhooks deliver it"),
        (name = "audit_logs", description = "The tamper-evident record of every change and privileged action"),
        (name = "webhook_endpoints", description = "Signed webhooks (Standard Webhooks): endpoints, their deliveries and attempts"),
        (name = "platform", description = "The platform's brand on its customers' hosted pages")
    )
)]
pub struct ApiDoc;

/// `limit` of a list endpoint: 1 to 100, default 10.
pub(crate) fn parse_limit(raw: Option<&str>) -> Result<u32> {
    match raw {
        None => Ok(10),
        Some(raw) => raw
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=100).contains(n))
            .ok_or_else(|| {
                ApiError::invalid(
                    "parameter_invalid",
                    "limit",
                    format!("limit must be a whole number from 1 to 100, got {raw:?}"),
                )
            }),
    }
}

/// `starting_after` of a list endpoint: absent, or an id that `parse` accepts; `kind` names
/// the id in the error (`an event id (evt_…)`).
pub(crate) fn parse_cursor<T, E>(
    raw: Option<&str>,
    parse: impl Fn(&str) -> std::result::Result<T, E>,
    kind: &str,
) -> Result<Option<T>> {
    raw.map(|raw| {
        parse(raw).map_err(|_| {
            ApiError::invalid(
                "parameter_invalid",
                "starting_after",
                format!("starting_after must be {kind}, got {raw:?}"),
            )
        })
    })
    .transpose()
}

/// The OpenAPI 3.1 document of `/v2`, generated from the code.
pub fn openapi() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// Sends the outcome of an idempotent write.
pub(crate) fn respond(outcome: Idempotent<StoredResponse>) -> Result<Response> {
    let (stored, replayed) = match outcome {
        Idempotent::Fresh(r) => (r, false),
        Idempotent::Replayed(r) => (r, true),
        Idempotent::Mismatch => return Err(ApiError::idempotency_mismatch()),
        Idempotent::InFlight => return Err(ApiError::idempotency_in_flight()),
    };
    let status = StatusCode::from_u16(stored.status).map_err(ApiError::internal)?;
    let mut response = (
        status,
        [(
            axum::http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        stored.body,
    )
        .into_response();
    if replayed {
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(response)
}

/// A time as the API shows it: RFC 3339, UTC, whole seconds.
pub(crate) fn rfc3339(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
