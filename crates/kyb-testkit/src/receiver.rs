//! A real HTTP webhook receiver on a local port: it records every request and answers as the
//! test scripts it (status, headers, a delay). Stopping it closes the port, so a sender sees a
//! refused connection, the way a receiver that is down looks.

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

/// How the receiver answers one request.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub delay: Duration,
}

impl Reply {
    pub fn status(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            delay: Duration::ZERO,
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn after(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Hit {
    pub headers: HeaderMap,
    pub body: Bytes,
    /// When the request had arrived (after the scripted delay).
    pub at: std::time::Instant,
    /// The status the receiver answered it with.
    pub status: u16,
}

impl Hit {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("the webhook body is JSON")
    }
}

#[derive(Default)]
struct Shared {
    hits: Mutex<Vec<Hit>>,
    script: Mutex<VecDeque<Reply>>,
    default: Mutex<Option<Reply>>,
    arrived: Notify,
}

pub struct Receiver {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Receiver {
    /// A receiver on a free local port, answering 200.
    pub async fn start() -> Self {
        Self::bind("127.0.0.1:0".parse().expect("a valid address")).await
    }

    /// A receiver on `addr` (to come back on the port of one that was stopped).
    pub async fn bind(addr: SocketAddr) -> Self {
        Self::serve(addr, Arc::new(Shared::default())).await
    }

    async fn serve(addr: SocketAddr, shared: Arc<Shared>) -> Self {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .expect("the receiver binds");
        let addr = listener.local_addr().expect("a bound address");
        let state = shared.clone();
        let app = axum::Router::new().fallback(move |headers: HeaderMap, body: Bytes| {
            let state = state.clone();
            async move {
                let reply = {
                    let scripted = state.script.lock().unwrap().pop_front();
                    scripted
                        .or_else(|| state.default.lock().unwrap().clone())
                        .unwrap_or_else(|| Reply::status(200))
                };
                if !reply.delay.is_zero() {
                    tokio::time::sleep(reply.delay).await;
                }
                state.hits.lock().unwrap().push(Hit {
                    headers,
                    body,
                    at: std::time::Instant::now(),
                    status: reply.status,
                });
                state.arrived.notify_waiters();
                let mut response = (
                    StatusCode::from_u16(reply.status).expect("a valid status"),
                    "ok",
                )
                    .into_response();
                for (k, v) in reply.headers {
                    response.headers_mut().insert(
                        HeaderName::try_from(k).expect("a valid header name"),
                        HeaderValue::try_from(v).expect("a valid header value"),
                    );
                }
                response
            }
        });
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Self {
            addr,
            shared,
            stop: Some(stop),
            task: Some(task),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT/hook`
    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    /// Answers every request not scripted with `reply_next` like this.
    pub fn reply_always(&self, reply: Reply) {
        *self.shared.default.lock().unwrap() = Some(reply);
    }

    /// Answers the next request like this (queued in order).
    pub fn reply_next(&self, reply: Reply) {
        self.shared.script.lock().unwrap().push_back(reply);
    }

    pub fn hits(&self) -> Vec<Hit> {
        self.shared.hits.lock().unwrap().clone()
    }

    /// Waits until `n` requests have arrived; panics after `within`.
    pub async fn wait_for_hits(&self, n: usize, within: Duration) -> Vec<Hit> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let arrived = self.shared.arrived.notified();
            tokio::pin!(arrived);
            arrived.as_mut().enable();
            let hits = self.hits();
            if hits.len() >= n {
                return hits;
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                panic!(
                    "the receiver got {} requests, not {n}, within {within:?}",
                    self.hits().len()
                );
            }
        }
    }

    /// Closes the port (connections are refused from now on); the recorded hits stay.
    pub async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// Opens the same port again, keeping the record.
    pub async fn restart(&mut self) {
        self.stop().await;
        let again = Self::serve(self.addr, self.shared.clone()).await;
        *self = again;
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
