//! `GET /metrics` in the Prometheus text format (`prometheus-client`, one registry per service,
//! so tests need no global state): HTTP requests by route, method and status with latency
//! histograms, webhook attempts by outcome, and, read from the database at scrape time, the
//! webhook and check-job backlogs, sanctions list ages and the connection pool. With
//! `KYB_METRICS_TOKEN` set, a scrape must send `Authorization: Bearer <token>`.
//!
//! Routes are labelled by their pattern (`/kyb/{token}`), never by the path: no token or id
//! ever becomes a label.

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::fmt::Write;

use crate::AppState;

type Labels = Vec<(&'static str, String)>;

pub struct Metrics {
    registry: Registry,
    requests: Family<Labels, Counter>,
    latency: Family<Labels, Histogram>,
    attempts: Family<Labels, Counter>,
    check_runs: Family<Labels, Counter>,
    screening: Histogram,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::default();
        let requests = Family::<Labels, Counter>::default();
        registry.register(
            "kyb_http_requests",
            "HTTP requests answered, by route pattern, method and status",
            requests.clone(),
        );
        let latency = Family::<Labels, Histogram>::new_with_constructor(|| {
            // 1 ms to about 16 s.
            Histogram::new(exponential_buckets(0.001, 2.0, 15))
        });
        registry.register(
            "kyb_http_request_duration_seconds",
            "Time to answer an HTTP request, by route pattern",
            latency.clone(),
        );
        let attempts = Family::<Labels, Counter>::default();
        registry.register(
            "kyb_webhook_attempts",
            "Webhook delivery attempts made by this node, by outcome",
            attempts.clone(),
        );
        let check_runs = Family::<Labels, Counter>::default();
        registry.register(
            "kyb_check_runs",
            "Check job runs made by this node, by outcome (done, retrying, failed)",
            check_runs.clone(),
        );
        // 1 ms to about 4 s.
        let screening = Histogram::new(exponential_buckets(0.001, 2.0, 13));
        registry.register(
            "kyb_screening_duration_seconds",
            "Time to screen one case (the business and every person) against every current sanctions list",
            screening.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            attempts,
            check_runs,
            screening,
        }
    }
}

impl Metrics {
    /// One webhook attempt, by its outcome (`succeeded`, `retrying`, `failed`,
    /// `endpoint_disabled`).
    pub fn attempt(&self, outcome: &'static str) {
        self.attempts
            .get_or_create(&vec![("outcome", outcome.to_owned())])
            .inc();
    }

    /// One run of a check job, by its outcome (`done`, `retrying`, `failed`).
    pub fn check_run(&self, outcome: &'static str) {
        self.check_runs
            .get_or_create(&vec![("outcome", outcome.to_owned())])
            .inc();
    }

    /// The time one case's sanctions screening took.
    pub fn screened(&self, took: std::time::Duration) {
        self.screening.observe(took.as_secs_f64());
    }
}

/// Counts and times every routed request.
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    let m = &state.metrics;
    m.latency
        .get_or_create(&vec![("route", route.clone())])
        .observe(started.elapsed().as_secs_f64());
    m.requests
        .get_or_create(&vec![
            ("route", route),
            ("method", method),
            ("status", response.status().as_u16().to_string()),
        ])
        .inc();
    response
}

pub fn router() -> Router<AppState> {
    Router::new().route("/metrics", get(scrape))
}

async fn scrape(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = &state.config.metrics_token {
        let sent = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        if !kyb_store::secrets::same_secret(sent, token) {
            return (StatusCode::UNAUTHORIZED, "a bearer token is needed\n").into_response();
        }
    }
    let mut text = String::new();
    if let Err(e) = encode(&mut text, &state.metrics.registry) {
        return crate::error::ApiError::internal(e).into_response();
    }
    // The encoder ends with `# EOF`; the backlog is appended before it.
    let body = text
        .trim_end()
        .strip_suffix("# EOF")
        .unwrap_or(&text)
        .to_owned();
    let mut out = body;
    let now = state.clock.now();
    match state.store.backlog(now).await {
        Ok(b) => {
            let age = |t: Option<chrono::DateTime<chrono::Utc>>| {
                t.map_or(0.0, |t| (now - t).num_milliseconds().max(0) as f64 / 1000.0)
            };
            let gauge = |out: &mut String, name: &str, help: &str, value: f64| {
                let _ = writeln!(
                    out,
                    "# HELP {name} {help}.\n# TYPE {name} gauge\n{name} {value}"
                );
            };
            gauge(
                &mut out,
                "kyb_webhook_deliveries_pending",
                "Webhook deliveries waiting to be sent",
                b.deliveries_pending as f64,
            );
            gauge(
                &mut out,
                "kyb_webhook_delivery_lag_seconds",
                "How overdue the most overdue pending delivery is",
                age(b.oldest_due_delivery),
            );
            gauge(
                &mut out,
                "kyb_check_jobs_pending",
                "Automated check jobs waiting or running",
                b.check_jobs_pending as f64,
            );
            gauge(
                &mut out,
                "kyb_check_job_oldest_pending_seconds",
                "Age of the oldest pending check job",
                age(b.oldest_check_job),
            );
            gauge(
                &mut out,
                "kyb_check_jobs_failed",
                "Check jobs that failed every run they were allowed, waiting for a person to run them again",
                b.check_jobs_failed as f64,
            );
            gauge(
                &mut out,
                "kyb_db_pool_connections",
                "Open database connections of this node",
                f64::from(b.pool_size),
            );
            gauge(
                &mut out,
                "kyb_db_pool_idle_connections",
                "Idle database connections of this node",
                f64::from(b.pool_idle),
            );
            let _ = writeln!(out, "# HELP kyb_sanctions_list_age_seconds Time since the newest import of each sanctions list.\n# TYPE kyb_sanctions_list_age_seconds gauge");
            for (source, date, imported) in &b.sanctions_lists {
                let source = source.replace(['"', '\\', '\n'], "_");
                let date = date.replace(['"', '\\', '\n'], "_");
                let _ = writeln!(
                    out,
                    "kyb_sanctions_list_age_seconds{{source=\"{source}\",list_date=\"{date}\"}} {}",
                    age(Some(*imported))
                );
            }
            let _ = writeln!(out, "# HELP kyb_up Whether this node can read its database.\n# TYPE kyb_up gauge\nkyb_up 1");
        }
        Err(e) => {
            tracing::warn!(
                error = format!("{:#}", anyhow::Error::from(e)),
                "metrics: the database could not be read"
            );
            let _ = writeln!(out, "# HELP kyb_up Whether this node can read its database.\n# TYPE kyb_up gauge\nkyb_up 0");
        }
    }
    out.push_str("# EOF\n");
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
        )],
        out,
    )
        .into_response()
}
