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

/// The path as it may be logged: a KYB link's token (`/kyb/<token>`, `/kyb/<token>/start`)
/// and an operator's password reset token (`/console/reset/<token>`) become `{token}`, since
/// the token alone opens the link.
pub fn loggable_path(path: &str) -> std::borrow::Cow<'_, str> {
    if path.starts_with("/console/reset/") {
        return "/console/reset/{token}".into();
    }
    let Some(rest) = path.strip_prefix("/kyb/") else {
        return path.into();
    };
    let (segment, tail) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    if matches!(segment, "static" | "flow" | "") {
        return path.into();
    }
    format!("/kyb/{{token}}{tail}").into()
}

pub async fn middleware(mut request: Request, next: Next) -> Response {
    let id = RequestId::generate();
    request.extensions_mut().insert(id.clone());
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %request.method(),
        path = %loggable_path(request.uri().path()),
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

#[cfg(test)]
mod tests {
    use super::loggable_path;

    #[test]
    fn link_tokens_never_reach_the_log() {
        assert_eq!(loggable_path("/kyb/abcDEF123_-"), "/kyb/{token}");
        assert_eq!(
            loggable_path("/kyb/abcDEF123_-/start"),
            "/kyb/{token}/start"
        );
        assert_eq!(loggable_path("/kyb/flow/people"), "/kyb/flow/people");
        assert_eq!(
            loggable_path("/console/reset/abcDEF123_-"),
            "/console/reset/{token}"
        );
        assert_eq!(loggable_path("/kyb/static/app.css"), "/kyb/static/app.css");
        assert_eq!(
            loggable_path("/v2/business_customer"),
            "/v2/business_customer"
        );
    }
}
