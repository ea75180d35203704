//! The webhook dispatcher: claims due deliveries with a lease, sends each as a signed POST, and
//! records the attempt with what happens next (done, retry at a time, failed, endpoint disabled).
//!
//! Any number of nodes can run one: a delivery is leased to one worker at a time, and only the
//! oldest pending delivery of a customer to an endpoint is ever due, so a customer's events
//! arrive in order. A worker that dies mid-send loses its lease when it expires and the delivery
//! is sent again (at least once).

use chrono::{DateTime, Utc};
use kyb_store::{AttemptReport, AttemptResult, ClaimedDelivery, StoreError};
use rand::Rng;
use secrecy::ExposeSecret;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{watch, Semaphore};

use super::guard::GuardedResolver;
use super::signing::{secret_key, signature_header};
use crate::AppState;

/// How long a woken dispatcher waits before it claims, so that a burst of writes (one wake-up
/// each) costs one claim.
const WAKE_COALESCE: Duration = Duration::from_millis(20);

/// The most of a receiver's answer kept with an attempt.
const EXCERPT_BYTES: usize = 1024;
/// The longest `Retry-After` honoured.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

#[derive(Clone)]
pub struct Dispatcher {
    inner: Arc<Inner>,
}

struct Inner {
    state: AppState,
    client: reqwest::Client,
    owner: String,
}

impl Dispatcher {
    pub fn new(state: AppState) -> anyhow::Result<Self> {
        let settings = &state.config.webhooks;
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            .dns_resolver(Arc::new(GuardedResolver(settings.policy())))
            .user_agent(concat!("kyb-webhooks/", env!("CARGO_PKG_VERSION")))
            .no_proxy()
            .build()?;
        let owner = format!("dispatcher-{:016x}", rand::thread_rng().gen::<u64>());
        Ok(Self {
            inner: Arc::new(Inner {
                state,
                client,
                owner,
            }),
        })
    }

    /// Claims one batch of due deliveries (up to `concurrency`), sends them all and records
    /// the attempts. Returns how many were attempted.
    pub async fn run_once(&self) -> Result<usize, StoreError> {
        let batch = self.claim(self.settings().concurrency).await?;
        let n = batch.len();
        futures_util::future::join_all(batch.into_iter().map(|d| self.deliver(d))).await;
        Ok(n)
    }

    /// Runs until `stop`: keeps up to `concurrency` attempts in flight, sleeps when nothing is
    /// due until a write wakes it or the poll interval passes. On stop, waits for the attempts
    /// in flight (each is bounded by the timeout).
    pub fn spawn(self, mut stop: watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let slots = self.settings().concurrency;
            let permits = Arc::new(Semaphore::new(slots));
            let store = self.inner.state.store.clone();
            loop {
                if *stop.borrow() {
                    break;
                }
                let free = permits.available_permits();
                let claimed = if free == 0 {
                    Ok(Vec::new())
                } else {
                    self.claim(free).await
                };
                let idle = match claimed {
                    Ok(batch) => {
                        let idle = batch.is_empty();
                        for delivery in batch {
                            let permit = permits
                                .clone()
                                .acquire_owned()
                                .await
                                .expect("the semaphore is never closed");
                            let me = self.clone();
                            tokio::spawn(async move {
                                me.deliver(delivery).await;
                                drop(permit);
                                me.inner.state.store.outbox_written();
                            });
                        }
                        idle
                    }
                    Err(e) => {
                        tracing::warn!(
                            error = format!("{:#}", anyhow::Error::from(e)),
                            "claiming webhook deliveries failed"
                        );
                        true
                    }
                };
                if idle {
                    tokio::select! {
                        _ = store.outbox_wait() => {
                            // Wake-ups are coalesced: the writes of the next few milliseconds
                            // are claimed together, not one claim per request.
                            tokio::select! {
                                _ = tokio::time::sleep(WAKE_COALESCE) => {}
                                _ = stop.changed() => {}
                            }
                        }
                        _ = tokio::time::sleep(self.settings().poll_interval) => {}
                        _ = stop.changed() => {}
                    }
                }
            }
            // Let the attempts in flight finish and be recorded.
            let slots = u32::try_from(slots).unwrap_or(u32::MAX);
            let _ = permits.acquire_many(slots).await;
        })
    }

    fn settings(&self) -> &crate::config::WebhookSettings {
        &self.inner.state.config.webhooks
    }

    async fn claim(&self, limit: usize) -> Result<Vec<ClaimedDelivery>, StoreError> {
        let now = self.inner.state.clock.now();
        let lease = chrono::Duration::from_std(self.settings().lease).unwrap_or_default();
        let limit = u32::try_from(limit).unwrap_or(u32::MAX);
        self.inner
            .state
            .store
            .claim_deliveries(&self.inner.owner, now, now + lease, limit)
            .await
    }

    /// One attempt of one delivery, recorded whatever happens.
    async fn deliver(&self, d: ClaimedDelivery) {
        let state = &self.inner.state;
        let started_at = state.clock.now();
        let clock = Instant::now();
        let sent = self.send(&d, started_at).await;
        let finished_at = state.clock.now();
        let round = usize::try_from(d.round_attempts).unwrap_or(0) + 1;
        let (status_code, error, excerpt, result) = match sent {
            Ok(answer) if answer.status.is_success() => (
                Some(answer.status),
                None,
                answer.excerpt,
                AttemptResult::Succeeded,
            ),
            Ok(answer) if answer.status == reqwest::StatusCode::GONE => {
                let reason = format!(
                    "the endpoint answered 410 Gone at {}",
                    finished_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                );
                (
                    Some(answer.status),
                    Some("410 Gone".to_owned()),
                    answer.excerpt,
                    AttemptResult::DisableEndpoint(reason),
                )
            }
            Ok(answer) => {
                let error = format!("the endpoint answered {}", answer.status);
                let result = self.next(round, finished_at, answer.retry_after);
                (Some(answer.status), Some(error), answer.excerpt, result)
            }
            Err(error) => (None, Some(error), None, self.next(round, finished_at, None)),
        };
        let report = AttemptReport {
            delivery_id: d.id.clone(),
            endpoint_id: d.endpoint.id.clone(),
            platform_id: d.endpoint.platform_id.clone(),
            lease_owner: self.inner.owner.clone(),
            attempt_number: d.attempt_count + 1,
            started_at,
            duration_ms: i64::try_from(clock.elapsed().as_millis()).unwrap_or(i64::MAX),
            status_code: status_code.map(|s| i32::from(s.as_u16())),
            error,
            response_excerpt: excerpt,
            result,
            finished_at,
        };
        state.metrics.attempt(report.result.outcome());
        match state.store.record_attempt(&report).await {
            Ok(true) => {}
            Ok(false) => tracing::warn!(
                delivery_id = %d.id,
                "webhook delivery lease was lost during the attempt; its new owner will finish it"
            ),
            Err(e) => tracing::error!(
                delivery_id = %d.id,
                error = format!("{:#}", anyhow::Error::from(e)),
                "recording a webhook attempt failed; the delivery will be sent again when its lease expires"
            ),
        }
    }

    /// What follows a failed attempt, the `round`-th of its schedule.
    fn next(
        &self,
        round: usize,
        now: DateTime<Utc>,
        retry_after: Option<Duration>,
    ) -> AttemptResult {
        match retry_delay(&self.settings().retry_schedule, round, retry_after) {
            Some(delay) => {
                AttemptResult::Retry(now + chrono::Duration::from_std(delay).unwrap_or_default())
            }
            None => AttemptResult::Failed,
        }
    }

    /// The platform's newest audit checkpoint, as every event carries it: its size, root and
    /// signed note (sealed now if the log has none yet). A platform that keeps them can later
    /// prove that the log was rewritten (docs/api.md). A log that cannot be read or sealed
    /// gives `null` (and an error in the service's log) rather than hold the events back.
    async fn checkpoint(&self, platform: &kyb_domain::PlatformId) -> serde_json::Value {
        use base64::Engine;
        let state = &self.inner.state;
        let log = kyb_store::audit::AuditChain::Platform(platform.clone());
        let stored = match state.store.audit_checkpoint(&log, None).await {
            Ok(Some(c)) => Ok(Some(c)),
            Ok(None) => {
                state
                    .audit_logs
                    .seal(&state.store, &state.clock, &log)
                    .await
            }
            Err(e) => Err(e),
        };
        let stored = stored.unwrap_or_else(|e| {
            tracing::error!(log = %log, error = format!("{:#}", anyhow::Error::from(e)), "an event goes out without its audit checkpoint");
            None
        });
        stored.map_or(serde_json::Value::Null, |c| {
            serde_json::json!({
                "tree_size": c.tree_size,
                "root_hash": base64::engine::general_purpose::STANDARD.encode(c.root.0),
                "note": c.note,
            })
        })
    }

    async fn send(&self, d: &ClaimedDelivery, at: DateTime<Utc>) -> Result<Answer, String> {
        let state = &self.inner.state;
        let policy = self.settings().policy();
        let url = policy.check_url(&d.endpoint.url)?;
        let endpoint_id = d.endpoint.id.as_str();
        let mut keys = Vec::with_capacity(2);
        let current = state
            .webhook_secrets
            .open(endpoint_id, &d.endpoint.secret_enc)
            .map_err(|e| e.to_string())?;
        keys.extend(secret_key(current.expose_secret()));
        if let (Some(previous), Some(until)) = (
            &d.endpoint.previous_secret_enc,
            d.endpoint.previous_secret_expires_at,
        ) {
            if until > at {
                let previous = state
                    .webhook_secrets
                    .open(endpoint_id, previous)
                    .map_err(|e| e.to_string())?;
                keys.extend(secret_key(previous.expose_secret()));
            }
        }
        let mut payload = d.payload.clone();
        state.links.reveal_json(&mut payload);
        if let Some(event) = payload.as_object_mut() {
            let checkpoint = self.checkpoint(&d.endpoint.platform_id).await;
            event.insert("audit_checkpoint".into(), checkpoint);
        }
        let body = serde_json::to_vec(&payload).map_err(|e| e.to_string())?;
        let msg_id = d.event_id.as_str();
        let timestamp = at.timestamp();
        let response = self
            .inner
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("webhook-id", msg_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header(
                "webhook-signature",
                signature_header(&keys, msg_id, timestamp, &body),
            )
            .body(body)
            .send()
            .await
            .map_err(describe)?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, Utc::now()));
        let excerpt = read_excerpt(response).await;
        Ok(Answer {
            status,
            retry_after,
            excerpt,
        })
    }
}

struct Answer {
    status: reqwest::StatusCode,
    retry_after: Option<Duration>,
    excerpt: Option<String>,
}

/// The first KiB of an answer, as text; what cannot be read in time is left out.
async fn read_excerpt(mut response: reqwest::Response) -> Option<String> {
    let mut bytes = Vec::new();
    while bytes.len() < EXCERPT_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            _ => break,
        }
    }
    bytes.truncate(EXCERPT_BYTES);
    (!bytes.is_empty()).then(|| String::from_utf8_lossy(&bytes).into_owned())
}

/// A reqwest error with its causes, which hold the useful part (refused, timed out, the guard).
fn describe(e: reqwest::Error) -> String {
    let mut text = if e.is_timeout() {
        "timed out".to_owned()
    } else if e.is_connect() {
        "could not connect".to_owned()
    } else {
        "request failed".to_owned()
    };
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    text
}

/// The delay before the attempt after the `round`-th, or `None` when the schedule is spent.
/// Delays get ±20 % jitter; a `Retry-After` longer than the delay wins (up to a day).
pub fn retry_delay(
    schedule: &[Duration],
    round: usize,
    retry_after: Option<Duration>,
) -> Option<Duration> {
    let base = *schedule.get(round)?;
    let jittered = base.mul_f64(rand::thread_rng().gen_range(0.8..=1.2));
    Some(match retry_after {
        Some(wait) => jittered.max(wait.min(MAX_RETRY_AFTER)),
        None => jittered,
    })
}

/// `Retry-After` as seconds or an HTTP date.
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = DateTime::parse_from_rfc2822(value).ok()?;
    (at.with_timezone(&Utc) - now).to_std().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_has_jitter_and_an_end() {
        let schedule: Vec<Duration> = [0, 5, 300].map(Duration::from_secs).to_vec();
        for _ in 0..100 {
            let d = retry_delay(&schedule, 1, None).unwrap();
            assert!((4.0..=6.0).contains(&d.as_secs_f64()), "{d:?}");
        }
        assert_eq!(retry_delay(&schedule, 3, None), None);
        let long = retry_delay(&schedule, 1, Some(Duration::from_secs(120))).unwrap();
        assert_eq!(long, Duration::from_secs(120));
        let capped = retry_delay(&schedule, 1, Some(Duration::from_secs(10 * 86_400))).unwrap();
        assert_eq!(capped, MAX_RETRY_AFTER);
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let now = DateTime::parse_from_rfc3339("2015-10-21T07:27:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now),
            Some(Duration::from_secs(60))
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
