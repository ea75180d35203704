//! Every request gets a `req_…` id: in the `x-request-id` response header, in error bodies, in the
//! log span and in audit rows. A task-local carries it to code that has no access to the request.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use kyb_domain::RequestId;
use tracing::Instrument;

tokio::task_local! {
    static CURRENT: RequestId;
}

/// The id of the request being handled on this task, if any.
pub fn current() -> Option<String> {
    CURRENT.try_with(|id| id.to_string()).ok()
}

pub async fn middleware(mut request: Request, next: Next) -> Response {
    let id = RequestId::generate();
    request.extensions_mut().insert(id.clone());
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %request.method(),
        path = %request.uri().path(),
    );
    let started = std::time::Instant::now();
    let mut response = CURRENT
        .scope(id.clone(), next.run(request))
        .instrument(span.clone())
        .await;
    span.in_scope(|| {
        tracing::info!(
            status = response.status().as_u16(),
            latency_ms = started.elapsed().as_secs_f64() * 1000.0,
            "request done"
        );
    });
    if let Ok(v) = HeaderValue::from_str(id.as_str()) {
        response.headers_mut().insert("x-request-id", v);
    }
    response
}
