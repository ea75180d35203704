//! The one error shape of `/v2`:
//! `{"status":"error","error":{"type","code","message","param"},"request_id"}`.
//! Internal errors are logged with their whole cause chain; the client sees a generic sentence.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use kyb_domain::{CustomerId, FieldError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::request_id;

pub type Result<T, E = ApiError> = std::result::Result<T, E>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorType {
    InvalidRequestError,
    AuthenticationError,
    PermissionError,
    IdempotencyError,
    RateLimitError,
    ApiError,
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub kind: ErrorType,
    pub code: &'static str,
    pub message: String,
    pub param: Option<String>,
    pub customer_id: Option<CustomerId>,
    pub retry_after: Option<u32>,
    /// Logged, never sent.
    pub internal: Option<anyhow::Error>,
}

/// The body of every `/v2` error response.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "status": "error",
    "error": {
        "type": "invalid_request_error",
        "code": "parameter_invalid",
        "message": "registered_country `US` must be an upper-case ISO 3166-1 alpha-3 country code (did you mean `USA`?)",
        "param": "registered_country"
    },
    "request_id": "req_8Jd0aQpL2mXz7Rk4Vb9NcT1e"
}))]
pub struct ErrorBody {
    /// Always `error`.
    pub status: &'static str,
    pub error: ErrorDetail,
    /// Also in the `x-request-id` header and in the service's logs.
    pub request_id: String,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    #[serde(rename = "type")]
    pub kind: ErrorType,
    /// Stable machine-readable code: `parameter_invalid`, `parameter_missing`, `parameter_unknown`,
    /// `parameter_invalid_type`, `body_invalid_json`, `body_missing`, `body_unreadable`,
    /// `body_too_large`, `unsupported_media_type`, `headers_too_large`,
    /// `idempotency_key_missing`, `idempotency_key_invalid`, `api_key_missing`,
    /// `api_key_invalid`, `api_key_revoked`, `platform_inactive`, `rate_limited`,
    /// `resource_missing`, `route_not_found`, `method_not_allowed`, `customer_exists`,
    /// `invalid_state`, `idempotency_key_in_use`, `idempotency_key_reused`, `internal_error`,
    /// `service_unavailable`.
    pub code: &'static str,
    /// A sentence for the developer: what was wrong and which rule applies.
    pub message: String,
    /// The request field (or header) at fault, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub param: Option<String>,
    /// With `customer_exists`: the customer that already has this e-mail address.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub customer_id: Option<CustomerId>,
}

impl ApiError {
    pub fn new(
        status: StatusCode,
        kind: ErrorType,
        code: &'static str,
        message: impl Into<String>,
    ) -> Self {
        Self {
            status,
            kind,
            code,
            message: message.into(),
            param: None,
            customer_id: None,
            retry_after: None,
            internal: None,
        }
    }

    pub fn with_param(mut self, param: impl Into<String>) -> Self {
        self.param = Some(param.into());
        self
    }

    pub fn invalid(
        code: &'static str,
        param: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            ErrorType::InvalidRequestError,
            code,
            message,
        )
        .with_param(param)
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            ErrorType::InvalidRequestError,
            code,
            message,
        )
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            ErrorType::InvalidRequestError,
            "resource_missing",
            message,
        )
    }

    pub fn unauthenticated(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            ErrorType::AuthenticationError,
            code,
            message,
        )
    }

    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            ErrorType::PermissionError,
            code,
            message,
        )
    }

    pub fn customer_exists(id: CustomerId) -> Self {
        let mut e = Self::new(
            StatusCode::CONFLICT,
            ErrorType::InvalidRequestError,
            "customer_exists",
            format!(
                "a business customer with this business_email already exists on this platform ({id}); \
                 fetch it with GET /v2/business_customer/{id} or issue it a new link"
            ),
        )
        .with_param("business_email");
        e.customer_id = Some(id);
        e
    }

    pub fn idempotency_in_flight() -> Self {
        let mut e = Self::new(
            StatusCode::CONFLICT,
            ErrorType::IdempotencyError,
            "idempotency_key_in_use",
            "another request with this idempotency-key is still being processed; retry after the Retry-After delay",
        )
        .with_param("idempotency-key");
        e.retry_after = Some(1);
        e
    }

    pub fn idempotency_mismatch() -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorType::IdempotencyError,
            "idempotency_key_reused",
            "this idempotency-key was already used with a different request (method, path or body); \
             use a new key for a new request",
        )
        .with_param("idempotency-key")
    }

    /// The database cannot do the work for now: logged in full, answered 503 with
    /// `Retry-After`, so that clients retry (with the same idempotency-key).
    pub fn unavailable(err: impl Into<anyhow::Error>) -> Self {
        let mut e = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorType::ApiError,
            "service_unavailable",
            "the service cannot reach its database right now; retry after the Retry-After delay with the same idempotency-key",
        );
        e.retry_after = Some(5);
        e.internal = Some(err.into());
        e
    }

    /// An unexpected failure: logged in full, answered with a generic 500.
    pub fn internal(err: impl Into<anyhow::Error>) -> Self {
        let mut e = Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorType::ApiError,
            "internal_error",
            "something went wrong on our side; the request may be retried with the same idempotency-key",
        );
        e.internal = Some(err.into());
        e
    }
}

impl From<FieldError> for ApiError {
    fn from(e: FieldError) -> Self {
        ApiError::invalid(e.code, e.param, e.message)
    }
}

impl From<kyb_store::StoreError> for ApiError {
    fn from(e: kyb_store::StoreError) -> Self {
        use kyb_store::StoreError as S;
        match e {
            S::NotFound => ApiError::not_found("no such business customer"),
            S::CustomerExists(id) => ApiError::customer_exists(id),
            S::InvalidTransition(t) => ApiError::new(
                StatusCode::CONFLICT,
                ErrorType::InvalidRequestError,
                "invalid_state",
                t.to_string(),
            ),
            S::Conflict(message) => ApiError::new(
                StatusCode::CONFLICT,
                ErrorType::InvalidRequestError,
                "invalid_state",
                message,
            ),
            // A rule's own code (`checks_running`, `too_many_people`…) says which rule.
            S::Refused { code, message } => ApiError::new(
                StatusCode::CONFLICT,
                ErrorType::InvalidRequestError,
                code,
                message,
            ),
            S::Changed(item) => ApiError::new(
                StatusCode::CONFLICT,
                ErrorType::InvalidRequestError,
                "changed_by_customer",
                format!(
                    "the customer changed {item} in the hosted flow; it is theirs to change now"
                ),
            )
            .with_param(item),
            S::Incomplete(due) => ApiError::new(
                StatusCode::CONFLICT,
                ErrorType::InvalidRequestError,
                "invalid_state",
                format!("the case is incomplete: {} is still due", due.join(", ")),
            ),
            S::OwnershipExceeded { total_bp } => ApiError::invalid(
                "parameter_invalid",
                "people",
                format!(
                    "the people would own {}.{:02} % together; at most 100",
                    total_bp / 100,
                    total_bp % 100
                ),
            ),
            S::CursorNotFound => ApiError::invalid(
                "parameter_invalid",
                "starting_after",
                "starting_after must be the customer_id of a business customer of this platform",
            ),
            S::TooSoon(wait) => {
                let secs = u32::try_from(wait.as_secs()).unwrap_or(u32::MAX);
                let secs = secs
                    .saturating_add(u32::from(wait.subsec_nanos() > 0))
                    .max(1);
                let mut e = ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    ErrorType::RateLimitError,
                    "rate_limited",
                    format!("this was done moments ago; it can be done again in {secs} s"),
                );
                e.retry_after = Some(secs);
                e
            }
            other if other.is_unavailable() => ApiError::unavailable(other),
            other => ApiError::internal(other),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let request_id = request_id::current().unwrap_or_default();
        if let Some(err) = &self.internal {
            tracing::error!(request_id = %request_id, error = format!("{err:#}"), "request failed");
        }
        let body = ErrorBody {
            status: "error",
            error: ErrorDetail {
                kind: self.kind,
                code: self.code,
                message: self.message,
                param: self.param,
                customer_id: self.customer_id,
            },
            request_id,
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}
