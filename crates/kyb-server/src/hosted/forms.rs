//! Form bodies of the hosted pages, and the field errors shown at the top of a page and next to
//! each field.

use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::Response;
use std::collections::HashMap;

use super::pages::anonymous_problem;
use crate::i18n::Tr;

/// An `application/x-www-form-urlencoded` body as name → value (the last value of a repeated name).
pub struct FormData(pub HashMap<String, String>);

impl FormData {
    /// A field's value, trimmed; empty when absent.
    pub fn get(&self, name: &str) -> &str {
        self.0.get(name).map(|v| v.trim()).unwrap_or("")
    }
}

impl<S: Send + Sync> FromRequest<S> for FormData {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Response> {
        let headers = req.headers().clone();
        // Every value in Unicode NFC, so that one text is stored in one form.
        let form = axum::Form::<HashMap<String, String>>::from_request(req, state)
            .await
            .map(|axum::Form(m)| {
                use unicode_normalization::UnicodeNormalization;
                FormData(m.into_iter().map(|(k, v)| (k, v.nfc().collect())).collect())
            })
            .map_err(|e| {
                tracing::info!(error = %e, "hosted form could not be read");
                anonymous_problem(StatusCode::BAD_REQUEST, &headers, "form-unreadable")
            })?;
        // Control characters (a NUL, an escape) cannot be typed into a field: refused here for
        // every field. Format and text-direction characters can be pasted; the fields' own
        // rules name them next to the field.
        if form.0.iter().any(|(k, v)| has_control(k) || has_control(v)) {
            return Err(anonymous_problem(
                StatusCode::BAD_REQUEST,
                &headers,
                "form-control",
            ));
        }
        Ok(form)
    }
}

/// A control character other than a line break or tab.
fn has_control(s: &str) -> bool {
    s.chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
}

/// One refused field: its id (for the link in the error summary) and what to do.
#[derive(Debug, Clone)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

/// Checks a free-text value: at most `max` characters, no invisible, control or text-direction
/// characters but line breaks (the same rule as the API's).
pub fn text_rule(tr: Tr, field: &str, label: &str, value: &str, max: usize) -> Option<FieldError> {
    let mut args = fluent_bundle::FluentArgs::new();
    args.set("label", label);
    let len = value.chars().count();
    if len > max {
        args.set("max", max);
        args.set("len", len);
        return Some(FieldError::new(field, tr.args("error-too-long", &args)));
    }
    if let Some((at, c)) = kyb_domain::invisible_char(value, true) {
        args.set("code", format!("U+{:04X}", u32::from(c)));
        args.set("at", at);
        return Some(FieldError::new(field, tr.args("error-invisible", &args)));
    }
    None
}

/// A calendar date `YYYY-MM-DD` within `[min, max]`.
pub fn date_rule(
    tr: Tr,
    field: &str,
    label: &str,
    value: &str,
    min: chrono::NaiveDate,
    max: chrono::NaiveDate,
) -> Option<FieldError> {
    let mut args = fluent_bundle::FluentArgs::new();
    args.set("label", label);
    match chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        Err(_) => Some(FieldError::new(field, tr.args("error-date-real", &args))),
        Ok(d) if d < min || d > max => {
            args.set("min", tr.date(min));
            args.set("max", tr.date(max));
            Some(FieldError::new(field, tr.args("error-date-range", &args)))
        }
        Ok(_) => None,
    }
}
