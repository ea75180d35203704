//! Rendering: every page is an askama template with the platform's name; problems (bad link,
//! ended session) get a page that says what happened and what to do.

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;

use crate::web::{page, unavailable};

#[derive(Template)]
#[template(path = "hosted/problem.html")]
pub struct Problem {
    pub brand: super::brand::Brand,
    pub title: &'static str,
    pub what: String,
    pub next: String,
}

/// A problem page for a customer, naming the platform when it is known.
pub fn problem(
    status: StatusCode,
    platform: Option<&str>,
    title: &'static str,
    what: String,
    next: String,
) -> Response {
    let brand = super::brand::Brand::named(platform.unwrap_or("Business verification"));
    page(
        status,
        &Problem {
            brand,
            title,
            what,
            next,
        },
    )
}

/// A 500 page (503 when the database is unavailable); the error is logged with its whole cause chain and the request id.
pub fn internal_error(err: impl Into<anyhow::Error>) -> Response {
    let err = err.into();
    tracing::error!(
        error = format!("{err:#}"),
        request_id = crate::request_id::current().unwrap_or_default(),
        "hosted page failed"
    );
    if unavailable(&err) {
        let mut r = problem(
            StatusCode::SERVICE_UNAVAILABLE,
            None,
            "We cannot save your answers right now",
            "The service is briefly unable to reach its storage. Nothing you saved before is lost."
                .into(),
            "Wait a minute, then go back and send the page again.".into(),
        );
        r.headers_mut().insert(
            axum::http::header::RETRY_AFTER,
            axum::http::HeaderValue::from(5),
        );
        return r;
    }
    problem(
        StatusCode::INTERNAL_SERVER_ERROR,
        None,
        "Something went wrong",
        "We could not complete this step. Nothing you saved before is lost.".into(),
        "Try again in a moment. If it keeps happening, contact the business that sent you the link.".into(),
    )
}

#[derive(Template)]
#[template(path = "hosted/confirm.html")]
struct Confirm<'a> {
    brand: &'a super::brand::Brand,
    title: &'a str,
    what: &'a str,
    action: &'a str,
    csrf: &'a str,
    button: &'a str,
    back: &'a str,
}

/// Asks before something that cannot be undone (removing a person, deleting a document): the
/// same form again with `confirm=yes`, or back. Works without JavaScript.
pub struct Confirmation<'a> {
    pub brand: &'a super::brand::Brand,
    pub title: &'a str,
    pub what: &'a str,
    pub action: &'a str,
    pub csrf: &'a str,
    pub button: &'a str,
    pub back: &'a str,
}

impl Confirmation<'_> {
    pub fn page(&self) -> Response {
        page(
            StatusCode::OK,
            &Confirm {
                brand: self.brand,
                title: self.title,
                what: self.what,
                action: self.action,
                csrf: self.csrf,
                button: self.button,
                back: self.back,
            },
        )
    }
}
