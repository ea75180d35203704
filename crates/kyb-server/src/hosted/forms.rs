//! Form bodies of the hosted pages, and the field errors shown at the top of a page and next to
//! each field.

use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::Response;
use std::collections::HashMap;

use super::pages::problem;

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
        // Every value in Unicode NFC, so that one text is stored in one form.
        let form = axum::Form::<HashMap<String, String>>::from_request(req, state)
            .await
            .map(|axum::Form(m)| {
                use unicode_normalization::UnicodeNormalization;
                FormData(m.into_iter().map(|(k, v)| (k, v.nfc().collect())).collect())
            })
            .map_err(|e| {
                problem(
                    StatusCode::BAD_REQUEST,
                    None,
                    "The form could not be read",
                    format!("The browser sent something this page does not understand ({e})."),
                    "Go back and send the form again.".into(),
                )
            })?;
        // Control characters (a NUL, an escape) cannot be typed into a field: refused here for
        // every field. Format and text-direction characters can be pasted; the fields' own
        // rules name them next to the field.
        if let Some((name, _)) = form
            .0
            .iter()
            .find(|(k, v)| has_control(k) || has_control(v))
        {
            return Err(problem(
                StatusCode::BAD_REQUEST,
                None,
                "The form could not be read",
                format!(
                    "The field `{}` holds control characters that cannot be typed.",
                    name.escape_default()
                ),
                "Go back, type the text again and send the form.".into(),
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
pub fn text_rule(field: &str, label: &str, value: &str, max: usize) -> Option<FieldError> {
    let len = value.chars().count();
    if len > max {
        return Some(FieldError::new(
            field,
            format!("{label} must be {max} characters or fewer (it has {len})"),
        ));
    }
    if let Some((at, c)) = kyb_domain::invisible_char(value, true) {
        return Some(FieldError::new(
            field,
            kyb_domain::invisible_message(label, at, c),
        ));
    }
    None
}

/// A calendar date `YYYY-MM-DD` within `[min, max]`.
pub fn date_rule(
    field: &str,
    label: &str,
    value: &str,
    min: chrono::NaiveDate,
    max: chrono::NaiveDate,
) -> Option<FieldError> {
    match chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        Err(_) => Some(FieldError::new(
            field,
            format!("{label} must be a real date (typed in a text box: year-month-day, like 2019-03-01)"),
        )),
        Ok(d) if d < min || d > max => Some(FieldError::new(
            field,
            format!("{label} must be between {min} and {max}"),
        )),
        Ok(_) => None,
    }
}
