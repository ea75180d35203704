//! Text a stranger sends, checked once for every route: no NUL, control, format or bidi
//! characters in JSON bodies, query strings, forms or path segments (line breaks and tabs aside
//! in free text). Such characters hide or reorder what a reader sees, and PostgreSQL refuses a
//! NUL outright: they are refused with the field's name before any handler or database sees them.

use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use kyb_domain::{invisible_char, invisible_message};
use serde_json::Value;

use crate::error::ApiError;

/// The first string of a JSON value holding an invisible character: its path
/// (`people[0].name`) and the sentence that refuses it. Keys are checked too.
pub fn json_invisible(value: &Value) -> Option<(String, String)> {
    fn walk(value: &Value, path: &mut String) -> Option<(String, String)> {
        match value {
            Value::String(s) => invisible_char(s, true).map(|(at, c)| {
                let name = if path.is_empty() {
                    "body"
                } else {
                    path.as_str()
                };
                (name.to_owned(), invisible_message(name, at, c))
            }),
            Value::Array(items) => items.iter().enumerate().find_map(|(i, v)| {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                let found = walk(v, path);
                path.truncate(len);
                found
            }),
            Value::Object(map) => map.iter().find_map(|(k, v)| {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                if let Some((at, c)) = invisible_char(k, false) {
                    let name = if len == 0 { "body" } else { &path[..len] };
                    return Some((
                        name.to_owned(),
                        invisible_message(&format!("a field name in {name}"), at, c),
                    ));
                }
                path.push_str(k);
                let found = walk(v, path);
                path.truncate(len);
                found
            }),
            _ => None,
        }
    }
    walk(value, &mut String::new())
}

/// The first name or value of form or query pairs holding an invisible character (line breaks
/// and tabs are allowed in values: text areas send them), with the sentence that refuses it.
pub fn pairs_invisible<'a>(
    pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Option<(String, String)> {
    pairs.into_iter().find_map(|(k, v)| {
        if let Some((at, c)) = invisible_char(k, false) {
            return Some(("?".to_owned(), invisible_message("a parameter name", at, c)));
        }
        invisible_char(v, true).map(|(at, c)| (k.to_owned(), invisible_message(k, at, c)))
    })
}

/// Why a request path cannot be routed: a percent-escape that is not UTF-8, or an invisible
/// character in a segment. `None` for a path that is fine.
pub fn path_problem(path: &str) -> Option<String> {
    let decoded = match percent_encoding::percent_decode_str(path).decode_utf8() {
        Ok(d) => d,
        Err(_) => {
            return Some("the request path holds percent-escapes that are not UTF-8 text".into())
        }
    };
    invisible_char(&decoded, false).map(|(at, c)| invisible_message("the request path", at, c))
}

/// The most header bytes (names and values) a request may carry. Far more than any client of
/// ours sends; above it the request gets 431 in our shape. (hyper refuses much larger header
/// blocks, about 400 KiB or more than 100 headers, with a bare 431 before any of our code runs.)
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// Refuses, before routing, what no handler could read: a path that is not UTF-8 text or holds
/// invisible characters (400), headers larger than [`MAX_HEADER_BYTES`] (431). `/v2` answers in
/// its JSON error shape, the pages with a page.
pub async fn request_guard(request: Request, next: Next) -> Response {
    let header_bytes: usize = request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    let api = request.uri().path().starts_with("/v2");
    if header_bytes > MAX_HEADER_BYTES {
        let message = format!(
            "the request headers take {header_bytes} bytes; at most {MAX_HEADER_BYTES} are accepted"
        );
        return if api {
            ApiError::new(
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                crate::error::ErrorType::InvalidRequestError,
                "headers_too_large",
                message,
            )
            .into_response()
        } else {
            crate::hosted::pages::anonymous_problem(
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                request.headers(),
                "headers-too-large",
            )
        };
    }
    let Some(message) = path_problem(request.uri().path()) else {
        return next.run(request).await;
    };
    if api {
        ApiError::invalid("parameter_invalid", "path", message).into_response()
    } else {
        tracing::info!(%message, "page address refused");
        crate::hosted::pages::anonymous_problem(
            StatusCode::BAD_REQUEST,
            request.headers(),
            "bad-address",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_paths_name_the_field() {
        let v = json!({"people": [{"name": "ok"}, {"name": "a\u{0}b"}]});
        let (path, message) = json_invisible(&v).unwrap();
        assert_eq!(path, "people[1].name");
        assert!(message.contains("U+0000 at character 2"), "{message}");
        assert_eq!(
            json_invisible(&json!({"description": "x\u{202e}y"}))
                .unwrap()
                .0,
            "description"
        );
        assert!(json_invisible(&json!({"registered_address": "1 Main St\nSpringfield"})).is_none());
        assert_eq!(json_invisible(&json!({"a\u{7}": 1})).unwrap().0, "body");
    }

    #[test]
    fn paths_that_cannot_be_read() {
        assert!(path_problem("/v2/business_customer/cust_123").is_none());
        assert!(path_problem("/v2/business_customer/%FF").is_some());
        assert!(path_problem("/console/cases/cust_%01").is_some());
        assert!(path_problem("/v2/events/evt_%E2%80%AE").is_some());
        assert!(path_problem("/kyb/caf%C3%A9").is_none());
    }

    #[test]
    fn form_pairs() {
        assert_eq!(
            pairs_invisible([("note", "fine\r\nline"), ("message", "no\u{0}")])
                .unwrap()
                .0,
            "message"
        );
        assert!(pairs_invisible([("note", "fine")]).is_none());
    }
}
