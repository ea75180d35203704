//! `GET /livez` (the process serves) and `GET /readyz` (it can do its work: the database answers
//! within [`READY_TIMEOUT`], every migration this binary knows is applied, every background
//! worker this node runs is alive). Outside `/v2`, unauthenticated, never cached; for load
//! balancers and orchestrators.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::AppState;

/// How long `/readyz` waits for the database.
pub const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// The background workers of this node, each alive until its task ends (returns or panics).
#[derive(Default)]
pub struct Workers(Mutex<Vec<(&'static str, Arc<AtomicBool>)>>);

impl Workers {
    /// Watches a worker's task: its flag turns false when the task ends, however it ends.
    pub fn watch(
        &self,
        name: &'static str,
        task: tokio::task::JoinHandle<()>,
    ) -> tokio::task::JoinHandle<()> {
        let alive = Arc::new(AtomicBool::new(true));
        self.0
            .lock()
            .expect("worker table")
            .push((name, alive.clone()));
        tokio::spawn(async move {
            let ended = task.await;
            alive.store(false, Ordering::SeqCst);
            if let Err(e) = ended {
                tracing::error!(worker = name, error = %e, "background worker died");
            }
        })
    }

    fn states(&self) -> Vec<(&'static str, bool)> {
        self.0
            .lock()
            .expect("worker table")
            .iter()
            .map(|(name, alive)| (*name, alive.load(Ordering::SeqCst)))
            .collect()
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/livez", get(|| async { Json(json!({ "status": "ok" })) }))
        .route("/readyz", get(ready))
}

async fn ready(State(state): State<AppState>) -> Response {
    let database = match tokio::time::timeout(READY_TIMEOUT, state.store.pending_migrations()).await
    {
        Ok(Ok(0)) => json!("ok"),
        Ok(Ok(n)) => json!(format!("{n} migrations not applied: run `kyb migrate`")),
        Ok(Err(e)) => {
            tracing::warn!(
                error = format!("{:#}", anyhow::Error::from(e)),
                "readiness: database check failed"
            );
            json!("unreachable")
        }
        Err(_) => json!(format!("no answer within {} s", READY_TIMEOUT.as_secs())),
    };
    let workers = state.workers.states();
    let ready = database == "ok" && workers.iter().all(|(_, alive)| *alive);
    let body = json!({
        "status": if ready { "ok" } else { "unavailable" },
        "database": database,
        "workers": workers
            .iter()
            .map(|(name, alive)| (name.to_string(), json!(if *alive { "ok" } else { "stopped" })))
            .collect::<serde_json::Map<_, _>>(),
    });
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}
