//! Extractors that turn a malformed request into our error shape, naming the bad field, instead
//! of axum's plain-text rejections.

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::{header, request::Parts, StatusCode};
use kyb_domain::{IdempotencyKey, RequestId};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::net::SocketAddr;

use crate::error::{ApiError, ErrorType};

/// A JSON body parsed into `T`, keeping the parsed JSON for request fingerprints.
pub struct ApiJson<T> {
    pub value: T,
    /// The body as JSON, `None` when the request had no body and `T` allows that.
    pub raw: Option<Value>,
}

/// Body types that may be sent empty (endpoints whose parameters are all optional).
pub trait EmptyBody: Sized {
    fn empty() -> Option<Self> {
        None
    }
}

fn is_json_content_type(value: &str) -> bool {
    value
        .parse::<mime::Mime>()
        .map(|m| {
            m.type_() == mime::APPLICATION
                && (m.subtype() == mime::JSON || m.suffix() == Some(mime::JSON))
        })
        .unwrap_or(false)
}

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned + EmptyBody,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap_or("").to_owned());
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    ErrorType::InvalidRequestError,
                    "body_too_large",
                    "the request body is larger than this service accepts (max_body_bytes)",
                )
            } else {
                ApiError::bad_request(
                    "body_unreadable",
                    format!("the request body could not be read: {rejection}"),
                )
            }
        })?;
        if bytes.is_empty() {
            if let Some(value) = T::empty() {
                return Ok(Self { value, raw: None });
            }
        }
        match content_type.as_deref() {
            Some(ct) if is_json_content_type(ct) => {}
            _ => {
                return Err(ApiError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    ErrorType::InvalidRequestError,
                    "unsupported_media_type",
                    "send the request body as JSON with the header content-type: application/json",
                ))
            }
        }
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::bad_request(
                "body_missing",
                "the request body is empty; send a JSON object",
            ));
        }
        let raw: Value = serde_json::from_slice(&bytes).map_err(|e| {
            ApiError::bad_request(
                "body_invalid_json",
                format!(
                    "the request body is not valid JSON: {e} (line {}, column {})",
                    e.line(),
                    e.column()
                ),
            )
        })?;
        if !raw.is_object() {
            return Err(ApiError::bad_request(
                "body_invalid_json",
                "the request body must be a JSON object",
            ));
        }
        if let Some((param, message)) = crate::input::json_invisible(&raw) {
            return Err(ApiError::invalid("parameter_invalid", param, message));
        }
        let value = from_value(raw.clone())?;
        Ok(Self {
            value,
            raw: Some(raw),
        })
    }
}

/// Deserialises a JSON object into `T`, turning serde's messages into errors that name the field.
pub fn from_value<T: DeserializeOwned>(raw: Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(raw).map_err(|e| {
        let path = e.path().to_string();
        let message = e.inner().to_string();
        field_error(&path, &message)
    })
}

/// Reads the field named in backticks in serde's "unknown field `x`" / "missing field `x`".
fn backticked(message: &str) -> Option<&str> {
    let start = message.find('`')? + 1;
    let len = message[start..].find('`')?;
    Some(&message[start..start + len])
}

fn field_error(path: &str, message: &str) -> ApiError {
    if message.starts_with("unknown field") {
        let field = backticked(message).unwrap_or("?").to_owned();
        return ApiError::invalid(
            "parameter_unknown",
            field.clone(),
            format!("{field} is not a parameter of this endpoint; check the spelling against the API reference"),
        );
    }
    if message.starts_with("missing field") {
        let field = backticked(message).unwrap_or("?").to_owned();
        return ApiError::invalid(
            "parameter_missing",
            field.clone(),
            format!("{field} is required"),
        );
    }
    if let Some(rest) = message.strip_prefix("invalid type: ") {
        let (found, expected) = rest
            .split_once(", expected ")
            .unwrap_or((rest, "another type"));
        return ApiError::invalid(
            "parameter_invalid_type",
            path.to_owned(),
            format!("{path} must be {expected}, got {found}"),
        );
    }
    ApiError::invalid(
        "parameter_invalid",
        path.to_owned(),
        format!("{path}: {message}"),
    )
}

/// Query parameters that take a list: given once with values separated by commas, or several
/// times (as OpenAPI's `form` style with `explode` sends an array).
const LIST_PARAMETERS: [&str; 1] = ["verification_status"];

/// Query parameters parsed into `T`, with the same error shape.
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or("");
        let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        if let Some((param, message)) =
            crate::input::pairs_invisible(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        {
            return Err(ApiError::invalid("parameter_invalid", param, message));
        }
        let mut seen = std::collections::HashSet::with_capacity(pairs.len());
        for (name, _) in &pairs {
            // A set, not a scan of the earlier pairs: a query of many parameters stays linear.
            if !seen.insert(name.as_str()) && !LIST_PARAMETERS.contains(&name.as_str()) {
                return Err(ApiError::invalid(
                    "parameter_invalid",
                    name.clone(),
                    format!(
                        "{name} is given more than once; send each query parameter at most once"
                    ),
                ));
            }
        }
        // A list parameter given several times reaches `T` as one value, its values joined by
        // commas: `a=x&a=y` reads as `a=x,y`.
        let mut merged: Vec<(String, String)> = Vec::with_capacity(pairs.len());
        let mut at: std::collections::HashMap<String, usize> =
            std::collections::HashMap::with_capacity(pairs.len());
        for (name, value) in pairs {
            match at.get(&name) {
                Some(&i) => {
                    merged[i].1.push(',');
                    merged[i].1.push_str(&value);
                }
                None => {
                    at.insert(name.clone(), merged.len());
                    merged.push((name, value));
                }
            }
        }
        let query = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&merged)
            .finish();
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(ApiQuery)
            .map_err(|e| field_error(&e.path().to_string(), &e.inner().to_string()))
    }
}

/// The required `idempotency-key` header of every `/v2` POST.
pub struct Idempotency(pub IdempotencyKey);

impl<S: Send + Sync> FromRequestParts<S> for Idempotency {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        idempotency_key(parts)?.map(Idempotency).ok_or_else(|| {
            ApiError::invalid(
                "idempotency_key_missing",
                "idempotency-key",
                "the idempotency-key header is required on every POST; send a fresh unique value (a UUID) per new request",
            )
        })
    }
}

/// The `idempotency-key` of a request where it is optional (DELETE): without one, the request
/// gets a key of its own and is simply not replayable.
pub struct OptionalIdempotency(pub IdempotencyKey);

impl<S: Send + Sync> FromRequestParts<S> for OptionalIdempotency {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let key = match idempotency_key(parts)? {
            Some(key) => key,
            None => IdempotencyKey::parse(RequestId::generate().as_str())
                .map_err(|m| ApiError::internal(anyhow::anyhow!(m)))?,
        };
        Ok(Self(key))
    }
}

fn idempotency_key(parts: &Parts) -> Result<Option<IdempotencyKey>, ApiError> {
    let Some(value) = parts.headers.get("idempotency-key") else {
        return Ok(None);
    };
    let raw = value.to_str().map_err(|_| {
        ApiError::invalid(
            "idempotency_key_invalid",
            "idempotency-key",
            "the idempotency-key header must be visible ASCII",
        )
    })?;
    IdempotencyKey::parse(raw)
        .map(Some)
        .map_err(|m| ApiError::invalid("idempotency_key_invalid", "idempotency-key", m))
}

/// Who is asking, for audit rows: the request id and the client's address.
pub struct RequestContext {
    pub request_id: Option<RequestId>,
    pub client_addr: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for RequestContext {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self {
            request_id: parts.extensions.get::<RequestId>().cloned(),
            client_addr: parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(addr)| addr.ip().to_string()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_content_types() {
        assert!(is_json_content_type("application/json"));
        assert!(is_json_content_type("application/json; charset=utf-8"));
        assert!(is_json_content_type("application/merge-patch+json"));
        assert!(!is_json_content_type("text/plain"));
        assert!(!is_json_content_type("application/x-www-form-urlencoded"));
    }

    #[test]
    fn serde_messages_become_field_errors() {
        let e = field_error(".", "unknown field `nmae`, expected one of `business_name`");
        assert_eq!(
            (e.code, e.param.as_deref()),
            ("parameter_unknown", Some("nmae"))
        );
        let e = field_error(".", "missing field `phone_number`");
        assert_eq!(
            (e.code, e.param.as_deref()),
            ("parameter_missing", Some("phone_number"))
        );
        let e = field_error(
            "business_name",
            "invalid type: integer `5`, expected a string",
        );
        assert_eq!(e.code, "parameter_invalid_type");
        assert_eq!(e.message, "business_name must be a string, got integer `5`");
    }
}
