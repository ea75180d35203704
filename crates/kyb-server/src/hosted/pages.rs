//! Rendering: every page is an askama template with the platform's brand and the customer's
//! language; problems (bad link, ended session) get a page that says what happened and what to
//! do.

use askama::Template;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::ui::Ui;
use crate::i18n::LangPrefs;
use crate::web::{page, unavailable};

#[derive(Template)]
#[template(path = "hosted/problem.html")]
pub struct Problem<'a> {
    pub ui: &'a Ui,
    pub title: String,
    pub what: String,
    pub next: String,
}

/// A problem page: the catalog's `{key}-title`, `{key}-what` and `{key}-next`.
pub fn problem(status: StatusCode, ui: &Ui, key: &str) -> Response {
    page(
        status,
        &Problem {
            ui,
            title: ui.t(&format!("{key}-title")),
            what: ui.t(&format!("{key}-what")),
            next: ui.t(&format!("{key}-next")),
        },
    )
}

/// A problem page where no platform is known, in the language the browser asks for.
pub fn anonymous_problem(status: StatusCode, headers: &HeaderMap, key: &str) -> Response {
    problem(
        status,
        &Ui::anonymous(&LangPrefs::from_headers(headers)),
        key,
    )
}

/// A 500 page (503 when the database is unavailable); the error is logged with its whole cause
/// chain and the request id.
pub fn internal_error(ui: &Ui, err: impl Into<anyhow::Error>) -> Response {
    let err = err.into();
    tracing::error!(
        error = format!("{err:#}"),
        request_id = crate::request_id::current().unwrap_or_default(),
        "hosted page failed"
    );
    if unavailable(&err) {
        let mut r = problem(StatusCode::SERVICE_UNAVAILABLE, ui, "unavailable");
        r.headers_mut().insert(
            axum::http::header::RETRY_AFTER,
            axum::http::HeaderValue::from(5),
        );
        return r;
    }
    problem(StatusCode::INTERNAL_SERVER_ERROR, ui, "failed")
}

/// Asks before something that cannot be undone (removing a person, deleting a document): the
/// same form again with `confirm=yes`, or back. Works without JavaScript.
#[derive(Template)]
#[template(path = "hosted/confirm.html")]
pub struct Confirmation<'a> {
    pub ui: &'a Ui,
    pub title: &'a str,
    pub what: &'a str,
    pub action: &'a str,
    pub csrf: &'a str,
    pub button: &'a str,
    pub back: &'a str,
}

impl Confirmation<'_> {
    pub fn page(&self) -> Response {
        page(StatusCode::OK, self)
    }
}
