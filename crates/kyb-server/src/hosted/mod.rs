//! The hosted KYB pages under `/kyb`: the start page behind a link, the customer session, the
//! four steps and the submission. Server-rendered (askama templates compiled into the binary),
//! no JavaScript, strict security headers.

mod asked;
pub mod brand;
mod documents;
mod forms;
pub(crate) mod pages;
mod people;
pub mod session;
mod steps;
pub(crate) mod texts;
pub mod ui;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;

use crate::AppState;

pub use session::CustomerSession;

/// The page for an address under `/kyb` that does not exist, in the browser's language.
/// (It is served by the app's fallback, outside this router's layers, so it sets their headers.)
pub fn not_found(headers: &axum::http::HeaderMap) -> axum::response::Response {
    let mut r = pages::anonymous_problem(axum::http::StatusCode::NOT_FOUND, headers, "not-found");
    crate::web::set_page_headers(&mut r);
    r
}

pub fn router(state: &AppState, max_upload_bytes: usize) -> Router<AppState> {
    let pages = Router::new()
        .route("/kyb/static/app.css", get(crate::web::stylesheet))
        .route("/kyb/brand/{platform_id}/style.css", get(brand::stylesheet))
        .route("/kyb/brand/{platform_id}/logo", get(brand::logo))
        .route("/kyb/{token}", get(session::start_page))
        .route("/kyb/{token}/start", post(session::start))
        .route("/kyb/flow", get(steps::resume))
        .route(
            "/kyb/flow/business",
            get(steps::business_page).post(steps::save_business),
        )
        .route(
            "/kyb/flow/people",
            get(people::page_handler).post(people::add),
        )
        .route("/kyb/flow/people/continue", post(people::proceed))
        .route(
            "/kyb/flow/people/{person_id}",
            get(people::edit_page).post(people::update),
        )
        .route("/kyb/flow/people/{person_id}/delete", post(people::remove))
        .route("/kyb/flow/documents", get(documents::page_handler))
        .route(
            "/kyb/flow/documents",
            post(documents::upload).layer(DefaultBodyLimit::max(max_upload_bytes + 64 * 1024)),
        )
        .route(
            "/kyb/flow/documents/{document_id}",
            get(documents::download),
        )
        .route(
            "/kyb/flow/documents/{document_id}/delete",
            post(documents::remove),
        )
        .route("/kyb/flow/confirm", post(asked::confirm))
        .route("/kyb/flow/review", get(steps::review_page))
        .route("/kyb/flow/submit", post(steps::submit))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::i18n::switch::remember_choice,
        ));
    crate::web::with_page_headers(pages)
}
