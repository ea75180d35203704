//! The platform-facing JSON API under `/v2`. One module per resource; merged here.

pub mod audit_logs;
pub mod business_customer;
pub mod events;

use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::error::{ApiError, ErrorType};
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(business_customer::router())
        .merge(events::router())
        .merge(audit_logs::router())
        .route("/v2/openapi.json", get(|| async { Json(openapi()) }))
        .fallback(|uri: axum::http::Uri| async move {
            if uri.path().starts_with("/kyb/") {
                return crate::hosted::not_found();
            }
            ApiError::new(
                StatusCode::NOT_FOUND,
                ErrorType::InvalidRequestError,
                "route_not_found",
                "no such endpoint; see /v2/openapi.json",
            )
            .into_response()
        })
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
        business_customer::issue_link,
        events::list,
        events::retrieve,
        audit_logs::list,
    ),
    components(schemas(crate::error::ErrorBody, crate::error::ErrorDetail, crate::error::ErrorType)),
    modifiers(&Security),
    tags(
        (name = "business_customer", description = "Business customers and their KYB links"),
        (name = "events", description = "Everything that happened, as webhooks deliver it"),
        (name = "audit_logs", description = "The tamper-evident record of every change and privileged action")
    )
)]
pub struct ApiDoc;

/// `limit` of a list endpoint: 1 to 100, default 10.
pub(crate) fn parse_limit(raw: Option<&str>) -> crate::error::Result<u32> {
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

/// The OpenAPI 3.1 document of `/v2`, generated from the code.
pub fn openapi() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
