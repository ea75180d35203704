//! Webhook endpoints, the fan-out of outbox events into deliveries, and the leases workers take
//! on deliveries. Compiled once per database, like `repo.rs`.

use chrono::{DateTime, Utc};
use kyb_domain::{DeliveryId, EventId, Mode, PlatformId, WebhookEndpointId};
use serde_json::{json, Value};
use sqlx::types::Json;

use super::repo::{finish_idempotent, insert_audit, AuditEntry, Backend, Target, Tx};
use super::{lock_rows, skip_locked, Db};
use crate::model::*;
use crate::StoreError;

const ENDPOINT_COLUMNS: &str = "e.id, e.platform_id, e.livemode, e.url, e.description, e.enabled_events, \
     e.status, e.disabled_reason, e.secret_enc, e.previous_secret_enc, e.previous_secret_expires_at, \
     e.created_at, e.updated_at";

const DELIVERY_COLUMNS: &str = "d.id, d.endpoint_id, d.event_id, d.event_type, d.livemode, d.status, \
     d.attempt_count, d.next_attempt_at, d.last_status_code, d.last_error, d.created_at, d.updated_at, \
     d.completed_at";

#[derive(sqlx::FromRow)]
struct EndpointRow {
    id: String,
    platform_id: String,
    livemode: bool,
    url: String,
    description: Option<String>,
    enabled_events: String,
    status: String,
    disabled_reason: Option<String>,
    secret_enc: String,
    previous_secret_enc: Option<String>,
    previous_secret_expires_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<EndpointRow> for WebhookEndpoint {
    type Error = StoreError;

    fn try_from(r: EndpointRow) -> Result<Self, StoreError> {
        let enabled_events = parse_events(&r.id, &r.enabled_events)?;
        Ok(WebhookEndpoint {
            id: WebhookEndpointId::from_trusted(r.id),
            platform_id: PlatformId::from_trusted(r.platform_id),
            mode: Mode::from_live(r.livemode),
            url: r.url,
            description: r.description,
            enabled_events,
            enabled: r.status == "enabled",
            disabled_reason: r.disabled_reason,
            secret_enc: r.secret_enc,
            previous_secret_enc: r.previous_secret_enc,
            previous_secret_expires_at: r.previous_secret_expires_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

fn parse_events(id: &str, raw: &str) -> Result<Vec<String>, StoreError> {
    serde_json::from_str(raw)
        .map_err(|_| StoreError::Corrupt(format!("endpoint {id} has enabled_events {raw:?}")))
}

fn events_json(events: &[String]) -> String {
    serde_json::to_string(events).expect("a list of strings serialises")
}

#[derive(sqlx::FromRow)]
struct DeliveryRow {
    id: String,
    endpoint_id: String,
    event_id: String,
    event_type: String,
    livemode: bool,
    status: String,
    attempt_count: i32,
    next_attempt_at: Option<DateTime<Utc>>,
    last_status_code: Option<i32>,
    last_error: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    completed_at: Option<DateTime<Utc>>,
}

impl TryFrom<DeliveryRow> for Delivery {
    type Error = StoreError;

    fn try_from(r: DeliveryRow) -> Result<Self, StoreError> {
        let status = DeliveryStatus::parse(&r.status).ok_or_else(|| {
            StoreError::Corrupt(format!("delivery {} has status {:?}", r.id, r.status))
        })?;
        Ok(Delivery {
            id: DeliveryId::from_trusted(r.id),
            endpoint_id: WebhookEndpointId::from_trusted(r.endpoint_id),
            event_id: EventId::from_trusted(r.event_id),
            event_type: r.event_type,
            mode: Mode::from_live(r.livemode),
            status,
            attempt_count: r.attempt_count,
            next_attempt_at: r.next_attempt_at,
            last_status_code: r.last_status_code,
            last_error: r.last_error,
            created_at: r.created_at,
            updated_at: r.updated_at,
            completed_at: r.completed_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct AttemptRow {
    id: String,
    delivery_id: String,
    attempt_number: i32,
    started_at: DateTime<Utc>,
    duration_ms: i64,
    status_code: Option<i32>,
    error: Option<String>,
    response_excerpt: Option<String>,
    outcome: String,
    next_attempt_at: Option<DateTime<Utc>>,
}

impl From<AttemptRow> for Attempt {
    fn from(r: AttemptRow) -> Self {
        Attempt {
            id: kyb_domain::AttemptId::from_trusted(r.id),
            delivery_id: DeliveryId::from_trusted(r.delivery_id),
            attempt_number: r.attempt_number,
            started_at: r.started_at,
            duration_ms: r.duration_ms,
            status_code: r.status_code,
            error: r.error,
            response_excerpt: r.response_excerpt,
            outcome: r.outcome,
            next_attempt_at: r.next_attempt_at,
        }
    }
}

/// What the audit log keeps of an endpoint: never a secret.
fn endpoint_details(e: &WebhookEndpoint) -> Value {
    json!({
        "url": e.url,
        "description": e.description,
        "enabled_events": e.enabled_events,
        "status": if e.enabled { "enabled" } else { "disabled" },
    })
}

/// The statement that reads the scope's endpoints (id and enabled events, oldest first), for
/// [`fan_out`]: on its own or after the insert of the events it fans out.
pub(super) fn push_live_endpoints(q: &mut sqlx::QueryBuilder<'_, Db>, scope: &Scope) {
    q.push("SELECT id, enabled_events FROM webhook_endpoints WHERE platform_id = ")
        .push_bind(scope.platform_id.as_str().to_owned())
        .push(" AND livemode = ")
        .push_bind(scope.mode.is_live())
        .push(" AND deleted_at IS NULL ORDER BY seq");
}

/// Queues a delivery of each event to each of `endpoints` (read by [`push_live_endpoints`])
/// that takes its type, in the transaction that writes the events. A disabled endpoint's
/// deliveries queue too, and wait until it is enabled again: disabling pauses an endpoint, it
/// does not drop its events.
pub(super) async fn fan_out(
    tx: &mut Tx,
    scope: &Scope,
    events: &[NewEvent],
    endpoints: Vec<(String, String)>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let mut rows = Vec::new();
    for (endpoint_id, raw) in &endpoints {
        let enabled = parse_events(endpoint_id, raw)?;
        for event in events
            .iter()
            .filter(|e| events_match(&enabled, e.event_type))
        {
            rows.push(Queued::of(endpoint_id, event));
        }
    }
    queue_deliveries(tx, scope, &rows, now).await
}

/// One delivery to queue: its id, the endpoint, and the event's id, type and ordering key (its
/// customer, or the event itself).
struct Queued<'a> {
    id: DeliveryId,
    endpoint_id: &'a str,
    event_id: &'a str,
    event_type: &'a str,
    ordering_key: &'a str,
}

impl<'a> Queued<'a> {
    fn of(endpoint_id: &'a str, event: &'a NewEvent) -> Self {
        Self::new(
            endpoint_id,
            event.id.as_str(),
            event.event_type,
            event.customer_id.as_ref().map(|c| c.as_str()),
        )
    }

    fn new(
        endpoint_id: &'a str,
        event_id: &'a str,
        event_type: &'a str,
        customer_id: Option<&'a str>,
    ) -> Self {
        Self {
            id: DeliveryId::generate(),
            endpoint_id,
            event_id,
            event_type,
            ordering_key: customer_id.unwrap_or(event_id),
        }
    }
}

/// Queues the given deliveries, due now.
async fn queue_deliveries(
    tx: &mut Tx,
    scope: &Scope,
    rows: &[Queued<'_>],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut insert = sqlx::QueryBuilder::<Db>::new(
        "INSERT INTO webhook_deliveries (id, platform_id, livemode, endpoint_id, event_id, event_type, \
         ordering_key, status, next_attempt_at, created_at, updated_at) ",
    );
    insert.push_values(rows, |mut b, q| {
        b.push_bind(q.id.as_str())
            .push_bind(scope.platform_id.as_str())
            .push_bind(scope.mode.is_live())
            .push_bind(q.endpoint_id)
            .push_bind(q.event_id)
            .push_bind(q.event_type)
            .push_bind(q.ordering_key)
            .push_bind(DeliveryStatus::Pending.as_str())
            .push_bind(now)
            .push_bind(now)
            .push_bind(now);
    });
    insert.build().execute(&mut **tx).await?;
    Ok(())
}

impl Backend {
    // ----- endpoints -----------------------------------------------------------------------

    pub async fn create_endpoint(
        &self,
        scope: &Scope,
        new: NewEndpoint,
        idem: &IdempotencyRequest,
        ctx: &AuditContext,
        finish: impl FnOnce(&WebhookEndpoint) -> StoredResponse,
    ) -> Result<Idempotent<StoredResponse>, StoreError> {
        self.idempotent(scope, idem, ctx.at, |mut tx| async move {
            let outcome = async {
                sqlx::query(
                    "INSERT INTO webhook_endpoints (id, platform_id, livemode, url, description, enabled_events, \
                     status, secret_enc, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 'enabled', $7, $8, $8)",
                )
                .bind(new.id.as_str())
                .bind(scope.platform_id.as_str())
                .bind(scope.mode.is_live())
                .bind(&new.url)
                .bind(new.description.as_deref())
                .bind(events_json(&new.enabled_events))
                .bind(&new.secret_enc)
                .bind(ctx.at)
                .execute(&mut *tx)
                .await?;
                let endpoint = WebhookEndpoint {
                    id: new.id,
                    platform_id: scope.platform_id.clone(),
                    mode: scope.mode,
                    url: new.url,
                    description: new.description,
                    enabled_events: new.enabled_events,
                    enabled: true,
                    disabled_reason: None,
                    secret_enc: new.secret_enc,
                    previous_secret_enc: None,
                    previous_secret_expires_at: None,
                    created_at: ctx.at,
                    updated_at: ctx.at,
                };
                let response = finish(&endpoint);
                let target = Target::new("webhook_endpoint", endpoint.id.as_str());
                let entries = AuditEntry::single(
                    "webhook_endpoint.created",
                    target,
                    endpoint_details(&endpoint),
                );
                finish_idempotent(&mut tx, scope, idem, response, ctx, entries).await
            }
            .await;
            (tx, outcome)
        })
        .await
    }

    pub async fn get_endpoint(
        &self,
        scope: &Scope,
        id: &WebhookEndpointId,
    ) -> Result<Option<WebhookEndpoint>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        load_endpoint(&mut conn, scope, id, false).await
    }

    /// Newest first; `starting_after` continues after that endpoint.
    pub async fn list_endpoints(
        &self,
        scope: &Scope,
        limit: u32,
        starting_after: Option<&WebhookEndpointId>,
    ) -> Result<(Vec<WebhookEndpoint>, bool), StoreError> {
        let cursor = self
            .cursor_seq(
                "webhook_endpoints",
                scope,
                starting_after.map(WebhookEndpointId::as_str),
            )
            .await?;
        let sql = format!(
            "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints e WHERE e.platform_id = $1 \
             AND e.livemode = $2 AND e.deleted_at IS NULL AND ($3 IS NULL OR e.seq < $3) \
             ORDER BY e.seq DESC LIMIT $4"
        );
        let rows: Vec<EndpointRow> = sqlx::query_as(&sql)
            .bind(scope.platform_id.as_str())
            .bind(scope.mode.is_live())
            .bind(cursor)
            .bind(i64::from(limit) + 1)
            .fetch_all(&self.pool)
            .await?;
        let mut endpoints = rows
            .into_iter()
            .map(WebhookEndpoint::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        let has_more = endpoints.len() > limit as usize;
        endpoints.truncate(limit as usize);
        Ok((endpoints, has_more))
    }

    pub async fn update_endpoint(
        &self,
        scope: &Scope,
        id: &WebhookEndpointId,
        patch: EndpointPatch,
        idem: &IdempotencyRequest,
        ctx: &AuditContext,
        finish: impl FnOnce(&WebhookEndpoint) -> StoredResponse,
    ) -> Result<Idempotent<StoredResponse>, StoreError> {
        self.idempotent(scope, idem, ctx.at, |mut tx| async move {
            let outcome = async {
                let before = load_endpoint(&mut tx, scope, id, true)
                    .await?
                    .ok_or(StoreError::NotFound)?;
                let mut after = before.clone();
                if let Some(url) = patch.url {
                    after.url = url;
                }
                if let Some(description) = patch.description {
                    after.description = description;
                }
                if let Some(events) = patch.enabled_events {
                    after.enabled_events = events;
                }
                if let Some(enabled) = patch.enabled {
                    if enabled != after.enabled {
                        after.enabled = enabled;
                        after.disabled_reason = (!enabled).then(|| "disabled by the platform".to_owned());
                    }
                }
                after.updated_at = ctx.at;
                sqlx::query(
                    "UPDATE webhook_endpoints SET url = $1, description = $2, enabled_events = $3, status = $4, \
                     disabled_reason = $5, updated_at = $6 WHERE id = $7",
                )
                .bind(&after.url)
                .bind(after.description.as_deref())
                .bind(events_json(&after.enabled_events))
                .bind(if after.enabled { "enabled" } else { "disabled" })
                .bind(after.disabled_reason.as_deref())
                .bind(ctx.at)
                .bind(id.as_str())
                .execute(&mut *tx)
                .await?;
                let response = finish(&after);
                let target = Target::new("webhook_endpoint", id.as_str());
                let details =
                    json!({ "before": endpoint_details(&before), "after": endpoint_details(&after) });
                let entries = AuditEntry::single("webhook_endpoint.updated", target, details);
                finish_idempotent(&mut tx, scope, idem, response, ctx, entries).await
            }
            .await;
            (tx, outcome)
        })
        .await
    }

    /// Deletes an endpoint: it disappears from the API and its pending deliveries are cancelled.
    /// Its rows stay for the audit trail.
    pub async fn delete_endpoint(
        &self,
        scope: &Scope,
        id: &WebhookEndpointId,
        idem: &IdempotencyRequest,
        ctx: &AuditContext,
        finish: impl FnOnce(&WebhookEndpoint) -> StoredResponse,
    ) -> Result<Idempotent<StoredResponse>, StoreError> {
        self.idempotent(scope, idem, ctx.at, |mut tx| async move {
            let outcome = async {
                let endpoint = load_endpoint(&mut tx, scope, id, true)
                    .await?
                    .ok_or(StoreError::NotFound)?;
                sqlx::query(
                    "UPDATE webhook_endpoints SET deleted_at = $1, updated_at = $1, status = 'disabled', \
                     disabled_reason = 'deleted' WHERE id = $2",
                )
                .bind(ctx.at)
                .bind(id.as_str())
                .execute(&mut *tx)
                .await?;
                let cancelled = sqlx::query(
                    "UPDATE webhook_deliveries SET status = 'cancelled', next_attempt_at = NULL, lease_owner = NULL, \
                     lease_expires_at = NULL, completed_at = $1, updated_at = $1, last_error = 'endpoint deleted' \
                     WHERE endpoint_id = $2 AND status = 'pending'",
                )
                .bind(ctx.at)
                .bind(id.as_str())
                .execute(&mut *tx)
                .await?
                .rows_affected();
                let response = finish(&endpoint);
                let target = Target::new("webhook_endpoint", id.as_str());
                let mut details = endpoint_details(&endpoint);
                details["cancelled_deliveries"] = json!(cancelled);
                let entries = AuditEntry::single("webhook_endpoint.deleted", target, details);
                finish_idempotent(&mut tx, scope, idem, response, ctx, entries).await
            }
            .await;
            (tx, outcome)
        })
        .await
    }

    /// Replaces the signing secret; the replaced one keeps signing until `previous_expires_at`.
    pub async fn rotate_endpoint_secret(
        &self,
        scope: &Scope,
        id: &WebhookEndpointId,
        rotation: SecretRotation,
        idem: &IdempotencyRequest,
        ctx: &AuditContext,
        finish: impl FnOnce(&WebhookEndpoint) -> StoredResponse,
    ) -> Result<Idempotent<StoredResponse>, StoreError> {
        self.idempotent(scope, idem, ctx.at, |mut tx| async move {
            let outcome = async {
                let mut endpoint = load_endpoint(&mut tx, scope, id, true)
                    .await?
                    .ok_or(StoreError::NotFound)?;
                let keep_previous = rotation.previous_expires_at > ctx.at;
                endpoint.previous_secret_enc =
                    keep_previous.then(|| std::mem::take(&mut endpoint.secret_enc));
                endpoint.previous_secret_expires_at =
                    keep_previous.then_some(rotation.previous_expires_at);
                endpoint.secret_enc = rotation.secret_enc;
                endpoint.updated_at = ctx.at;
                sqlx::query(
                    "UPDATE webhook_endpoints SET secret_enc = $1, previous_secret_enc = $2, \
                     previous_secret_expires_at = $3, updated_at = $4 WHERE id = $5",
                )
                .bind(&endpoint.secret_enc)
                .bind(endpoint.previous_secret_enc.as_deref())
                .bind(endpoint.previous_secret_expires_at)
                .bind(ctx.at)
                .bind(id.as_str())
                .execute(&mut *tx)
                .await?;
                let response = finish(&endpoint);
                let target = Target::new("webhook_endpoint", id.as_str());
                let details =
                    json!({ "previous_secret_expires_at": endpoint.previous_secret_expires_at });
                let entries =
                    AuditEntry::single("webhook_endpoint.secret_rotated", target, details);
                finish_idempotent(&mut tx, scope, idem, response, ctx, entries).await
            }
            .await;
            (tx, outcome)
        })
        .await
    }

    // ----- deliveries ----------------------------------------------------------------------

    /// Newest first; `starting_after` continues after that delivery.
    pub async fn list_deliveries(
        &self,
        scope: &Scope,
        endpoint_id: &WebhookEndpointId,
        query: &ListDeliveries,
    ) -> Result<(Vec<Delivery>, bool), StoreError> {
        self.get_endpoint(scope, endpoint_id)
            .await?
            .ok_or(StoreError::NotFound)?;
        let cursor = self
            .cursor_seq(
                "webhook_deliveries",
                scope,
                query.starting_after.as_ref().map(DeliveryId::as_str),
            )
            .await?;
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries d WHERE d.platform_id = $1 \
             AND d.livemode = $2 AND d.endpoint_id = $3 AND ($4 IS NULL OR d.seq < $4) \
             AND ($5 IS NULL OR d.status = $5) ORDER BY d.seq DESC LIMIT $6"
        );
        let rows: Vec<DeliveryRow> = sqlx::query_as(&sql)
            .bind(scope.platform_id.as_str())
            .bind(scope.mode.is_live())
            .bind(endpoint_id.as_str())
            .bind(cursor)
            .bind(query.status.map(DeliveryStatus::as_str))
            .bind(i64::from(query.limit) + 1)
            .fetch_all(&self.pool)
            .await?;
        let mut deliveries = rows
            .into_iter()
            .map(Delivery::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        let has_more = deliveries.len() > query.limit as usize;
        deliveries.truncate(query.limit as usize);
        Ok((deliveries, has_more))
    }

    pub async fn get_delivery(
        &self,
        scope: &Scope,
        endpoint_id: &WebhookEndpointId,
        id: &DeliveryId,
    ) -> Result<Option<Delivery>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        load_delivery(&mut conn, scope, endpoint_id, id, false).await
    }

    /// Every attempt of a delivery, oldest first.
    pub async fn list_attempts(
        &self,
        scope: &Scope,
        endpoint_id: &WebhookEndpointId,
        delivery_id: &DeliveryId,
    ) -> Result<Vec<Attempt>, StoreError> {
        self.get_delivery(scope, endpoint_id, delivery_id)
            .await?
            .ok_or(StoreError::NotFound)?;
        let rows: Vec<AttemptRow> = sqlx::query_as(
            "SELECT id, delivery_id, attempt_number, started_at, duration_ms, status_code, error, \
             response_excerpt, outcome, next_attempt_at FROM webhook_attempts WHERE delivery_id = $1 \
             ORDER BY seq",
        )
        .bind(delivery_id.as_str())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(Attempt::from).collect())
    }

    /// Sends a delivery again from the start of the schedule, whatever its state. It goes out
    /// before the customer's later deliveries, which wait for it.
    pub async fn retry_delivery(
        &self,
        scope: &Scope,
        endpoint_id: &WebhookEndpointId,
        id: &DeliveryId,
        idem: &IdempotencyRequest,
        ctx: &AuditContext,
        finish: impl FnOnce(&Delivery) -> StoredResponse,
    ) -> Result<Idempotent<StoredResponse>, StoreError> {
        self.idempotent(scope, idem, ctx.at, |mut tx| async move {
            let outcome = async {
                enabled_endpoint(&mut tx, scope, endpoint_id, false, "retrying its deliveries").await?;
                let mut delivery = load_delivery(&mut tx, scope, endpoint_id, id, true)
                    .await?
                    .ok_or(StoreError::NotFound)?;
                let previous = delivery.status;
                sqlx::query(
                    "UPDATE webhook_deliveries SET status = 'pending', round_attempts = 0, next_attempt_at = $1, \
                     lease_owner = NULL, lease_expires_at = NULL, completed_at = NULL, updated_at = $1 WHERE id = $2",
                )
                .bind(ctx.at)
                .bind(id.as_str())
                .execute(&mut *tx)
                .await?;
                delivery.status = DeliveryStatus::Pending;
                delivery.next_attempt_at = Some(ctx.at);
                delivery.completed_at = None;
                delivery.updated_at = ctx.at;
                let response = finish(&delivery);
                let target = Target::new("webhook_delivery", id.as_str());
                let details = json!({
                    "endpoint_id": endpoint_id,
                    "event_id": delivery.event_id,
                    "previous_status": previous,
                });
                let entries = AuditEntry::single("webhook_delivery.retried", target, details);
                finish_idempotent(&mut tx, scope, idem, response, ctx, entries).await
            }
            .await;
            (tx, outcome)
        })
        .await
    }

    /// Sends a test event (`ping`) to one endpoint and no other: the event is stored like any
    /// other and goes out through the dispatcher, signed and retried like every delivery, so a
    /// platform sees its endpoint receive and verify kyb's webhooks before a customer exists.
    pub async fn send_test_event(
        &self,
        scope: &Scope,
        endpoint_id: &WebhookEndpointId,
        event: NewEvent,
        idem: &IdempotencyRequest,
        ctx: &AuditContext,
        finish: impl FnOnce(&Delivery) -> StoredResponse,
    ) -> Result<Idempotent<StoredResponse>, StoreError> {
        self.idempotent(scope, idem, ctx.at, |mut tx| async move {
            let outcome = async {
                enabled_endpoint(&mut tx, scope, endpoint_id, true, "sending it a test event")
                    .await?;
                super::repo::insert_events_alone(
                    &mut tx,
                    scope,
                    std::slice::from_ref(&event),
                    ctx.at,
                )
                .await?;
                let queued = Queued::of(endpoint_id.as_str(), &event);
                let id = queued.id.clone();
                queue_deliveries(&mut tx, scope, &[queued], ctx.at).await?;
                let delivery = load_delivery(&mut tx, scope, endpoint_id, &id, false)
                    .await?
                    .ok_or_else(|| StoreError::Corrupt(format!("delivery {id} was not stored")))?;
                let response = finish(&delivery);
                let target = Target::new("webhook_endpoint", endpoint_id.as_str());
                let details = json!({ "event_id": event.id, "delivery_id": id });
                let entries = AuditEntry::single("webhook_endpoint.tested", target, details);
                finish_idempotent(&mut tx, scope, idem, response, ctx, entries).await
            }
            .await;
            (tx, outcome)
        })
        .await
    }

    /// Queues again, to one endpoint, the platform's events from `from` on (oldest first, at
    /// most `limit` looked at; those of the types the endpoint takes, test events excepted), as
    /// new deliveries due now. One replay per endpoint every `every`: a sooner one is
    /// [`StoreError::TooSoon`].
    #[allow(clippy::too_many_arguments)]
    pub async fn replay_events(
        &self,
        scope: &Scope,
        endpoint_id: &WebhookEndpointId,
        from: &ReplayFrom,
        limit: u32,
        every: chrono::Duration,
        idem: &IdempotencyRequest,
        ctx: &AuditContext,
        finish: impl FnOnce(&Replayed) -> StoredResponse,
    ) -> Result<Idempotent<StoredResponse>, StoreError> {
        self.idempotent(scope, idem, ctx.at, |mut tx| async move {
            let outcome = async {
                let endpoint =
                    enabled_endpoint(&mut tx, scope, endpoint_id, true, "replaying events to it")
                        .await?;
                let last: Option<DateTime<Utc>> = sqlx::query_scalar(
                    "SELECT last_replayed_at FROM webhook_endpoints WHERE id = $1",
                )
                .bind(endpoint_id.as_str())
                .fetch_one(&mut *tx)
                .await?;
                if let Some(wait) = last
                    .map(|l| l + every - ctx.at)
                    .filter(|w| *w > chrono::Duration::zero())
                {
                    return Err(StoreError::TooSoon(wait.to_std().unwrap_or_default()));
                }
                #[derive(sqlx::FromRow)]
                struct Row {
                    id: String,
                    #[sqlx(rename = "type")]
                    event_type: String,
                    customer_id: Option<String>,
                }
                let mut q = sqlx::QueryBuilder::<Db>::new(
                    "SELECT id, type, customer_id FROM events WHERE platform_id = ",
                );
                q.push_bind(scope.platform_id.as_str())
                    .push(" AND livemode = ")
                    .push_bind(scope.mode.is_live());
                match from {
                    ReplayFrom::Time(at) => {
                        q.push(" AND created_at >= ")
                            .push_bind(*at)
                            .push(" ORDER BY created_at, seq");
                    }
                    ReplayFrom::After(event) => {
                        let seq: i64 = sqlx::query_scalar(
                            "SELECT seq FROM events WHERE platform_id = $1 AND livemode = $2 AND id = $3",
                        )
                        .bind(scope.platform_id.as_str())
                        .bind(scope.mode.is_live())
                        .bind(event.as_str())
                        .fetch_optional(&mut *tx)
                        .await?
                        .ok_or(StoreError::CursorNotFound)?;
                        q.push(" AND seq > ").push_bind(seq).push(" ORDER BY seq");
                    }
                }
                q.push(" LIMIT ").push_bind(i64::from(limit) + 1);
                let mut rows: Vec<Row> = q.build_query_as().fetch_all(&mut *tx).await?;
                let has_more = rows.len() > limit as usize;
                rows.truncate(limit as usize);
                let queued: Vec<Queued> = rows
                    .iter()
                    .filter(|r| r.event_type != TEST_EVENT && endpoint.receives(&r.event_type))
                    .map(|r| {
                        Queued::new(endpoint_id.as_str(), &r.id, &r.event_type, r.customer_id.as_deref())
                    })
                    .collect();
                queue_deliveries(&mut tx, scope, &queued, ctx.at).await?;
                sqlx::query("UPDATE webhook_endpoints SET last_replayed_at = $1 WHERE id = $2")
                    .bind(ctx.at)
                    .bind(endpoint_id.as_str())
                    .execute(&mut *tx)
                    .await?;
                let replayed = Replayed {
                    events_queued: queued.len(),
                    last_event_id: rows.last().map(|r| EventId::from_trusted(r.id.clone())),
                    has_more,
                };
                let response = finish(&replayed);
                let target = Target::new("webhook_endpoint", endpoint_id.as_str());
                let details = json!({
                    "from": match from {
                        ReplayFrom::Time(at) => json!({ "since": at }),
                        ReplayFrom::After(event) => json!({ "since_event": event }),
                    },
                    "events_queued": replayed.events_queued,
                    "last_event_id": replayed.last_event_id,
                    "has_more": has_more,
                });
                let entries = AuditEntry::single("webhook_endpoint.replayed", target, details);
                finish_idempotent(&mut tx, scope, idem, response, ctx, entries).await
            }
            .await;
            (tx, outcome)
        })
        .await
    }

    // ----- the dispatcher's side -----------------------------------------------------------

    /// Leases up to `limit` due deliveries to `owner` until `lease_until`. Only the oldest
    /// pending delivery of a customer to an endpoint is ever due, so a customer's events go out
    /// one at a time, in order. On PostgreSQL rows another worker is claiming are skipped.
    pub async fn claim_deliveries(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<ClaimedDelivery>, StoreError> {
        // Looked at without the write lock first (the partial index of pending deliveries):
        // most wake-ups find nothing due, and on SQLite a write transaction would hold the one
        // writer that requests wait for.
        let due: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM webhook_deliveries WHERE status = 'pending' \
             AND next_attempt_at <= $1 AND (lease_expires_at IS NULL OR lease_expires_at <= $1))",
        )
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        if !due {
            return Ok(Vec::new());
        }
        let (mut tx, _guard) = self.begin_write().await?;
        let sql = format!(
            "SELECT d.id FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id \
             WHERE d.status = 'pending' AND d.next_attempt_at <= $1 \
             AND (d.lease_expires_at IS NULL OR d.lease_expires_at <= $1) \
             AND e.status = 'enabled' AND e.deleted_at IS NULL \
             AND NOT EXISTS (SELECT 1 FROM webhook_deliveries p WHERE p.endpoint_id = d.endpoint_id \
               AND p.ordering_key = d.ordering_key AND p.status = 'pending' AND p.seq < d.seq) \
             ORDER BY d.next_attempt_at, d.seq LIMIT $2{}",
            skip_locked("d")
        );
        let ids: Vec<String> = sqlx::query_scalar(&sql)
            .bind(now)
            .bind(i64::from(limit))
            .fetch_all(&mut *tx)
            .await?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut lease =
            sqlx::QueryBuilder::<Db>::new("UPDATE webhook_deliveries SET lease_owner = ");
        lease
            .push_bind(owner)
            .push(", lease_expires_at = ")
            .push_bind(lease_until)
            .push(" WHERE id IN (");
        let mut list = lease.separated(", ");
        for id in &ids {
            list.push_bind(id.as_str());
        }
        lease.push(")");
        lease.build().execute(&mut *tx).await?;

        #[derive(sqlx::FromRow)]
        struct Row {
            delivery_id: String,
            event_id: String,
            payload: Json<Value>,
            round_attempts: i32,
            attempt_count: i32,
            #[sqlx(flatten)]
            endpoint: EndpointRow,
        }
        let mut select = sqlx::QueryBuilder::<Db>::new(format!(
            "SELECT d.id AS delivery_id, d.event_id, ev.data AS payload, d.round_attempts, \
             d.attempt_count, {ENDPOINT_COLUMNS} FROM webhook_deliveries d \
             JOIN webhook_endpoints e ON e.id = d.endpoint_id JOIN events ev ON ev.id = d.event_id \
             WHERE d.id IN ("
        ));
        let mut list = select.separated(", ");
        for id in &ids {
            list.push_bind(id.as_str());
        }
        select.push(") ORDER BY d.next_attempt_at, d.seq");
        let rows: Vec<Row> = select.build_query_as().fetch_all(&mut *tx).await?;
        tx.commit().await?;
        rows.into_iter()
            .map(|r| {
                Ok(ClaimedDelivery {
                    id: DeliveryId::from_trusted(r.delivery_id),
                    event_id: EventId::from_trusted(r.event_id),
                    payload: r.payload.0,
                    round_attempts: r.round_attempts,
                    attempt_count: r.attempt_count,
                    endpoint: r.endpoint.try_into()?,
                })
            })
            .collect()
    }

    /// Records one attempt and moves its delivery on. Returns `false` when the lease had been
    /// lost (another worker took the delivery over): the attempt is recorded, the delivery left
    /// to its new owner.
    pub async fn record_attempt(&self, report: &AttemptReport) -> Result<bool, StoreError> {
        let (mut tx, guard) = self.begin_write().await?;
        let now = report.finished_at;
        let next_attempt_at = match &report.result {
            AttemptResult::Retry(at) => Some(*at),
            _ => None,
        };
        sqlx::query(
            "INSERT INTO webhook_attempts (id, delivery_id, endpoint_id, attempt_number, started_at, \
             duration_ms, status_code, error, response_excerpt, outcome, next_attempt_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(kyb_domain::AttemptId::generate().as_str())
        .bind(report.delivery_id.as_str())
        .bind(report.endpoint_id.as_str())
        .bind(report.attempt_number)
        .bind(report.started_at)
        .bind(report.duration_ms)
        .bind(report.status_code)
        .bind(report.error.as_deref())
        .bind(report.response_excerpt.as_deref())
        .bind(report.result.outcome())
        .bind(next_attempt_at)
        .execute(&mut *tx)
        .await?;
        let status = match report.result {
            AttemptResult::Succeeded => DeliveryStatus::Succeeded,
            AttemptResult::Retry(_) => DeliveryStatus::Pending,
            AttemptResult::Failed | AttemptResult::DisableEndpoint(_) => DeliveryStatus::Failed,
        };
        let completed_at = (status != DeliveryStatus::Pending).then_some(now);
        let owned = sqlx::query(
            "UPDATE webhook_deliveries SET status = $1, attempt_count = attempt_count + 1, \
             round_attempts = round_attempts + 1, next_attempt_at = $2, lease_owner = NULL, \
             lease_expires_at = NULL, last_status_code = $3, last_error = $4, completed_at = $5, \
             updated_at = $6 WHERE id = $7 AND lease_owner = $8 AND status = 'pending'",
        )
        .bind(status.as_str())
        .bind(next_attempt_at)
        .bind(report.status_code)
        .bind(report.error.as_deref())
        .bind(completed_at)
        .bind(now)
        .bind(report.delivery_id.as_str())
        .bind(&report.lease_owner)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        match &report.result {
            AttemptResult::DisableEndpoint(reason) if owned => {
                let disabled = sqlx::query(
                    "UPDATE webhook_endpoints SET status = 'disabled', disabled_reason = $1, updated_at = $2 \
                     WHERE id = $3 AND status = 'enabled'",
                )
                .bind(reason)
                .bind(now)
                .bind(report.endpoint_id.as_str())
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if disabled == 1 {
                    let mode: bool =
                        sqlx::query_scalar("SELECT livemode FROM webhook_endpoints WHERE id = $1")
                            .bind(report.endpoint_id.as_str())
                            .fetch_one(&mut *tx)
                            .await?;
                    let target = Target::new("webhook_endpoint", report.endpoint_id.as_str());
                    let details = json!({ "reason": reason, "delivery_id": report.delivery_id });
                    let entries = AuditEntry::single("webhook_endpoint.disabled", target, details);
                    let ctx = AuditContext::system(now);
                    let mode = Some(Mode::from_live(mode));
                    insert_audit(&mut tx, &report.platform_id, mode, &ctx, entries).await?;
                }
            }
            _ => {}
        }
        tx.commit().await?;
        // The write gate (SQLite) is released before the second transaction takes it.
        #[allow(clippy::drop_non_drop)]
        drop(guard);
        if owned && matches!(report.result, AttemptResult::Succeeded) {
            // The receiver is answering again: what waits on a retry for it goes out now. In a
            // transaction of its own, after the attempt is committed, taking only rows nobody
            // holds (SKIP LOCKED, in id order): two dispatchers recording successes for one
            // endpoint at once used to lock each other's rows in opposite orders and deadlock,
            // losing the record of a 200 and sending the event again. Best effort: a row
            // skipped here goes out at its own time.
            if let Err(e) = self.pull_forward(report.endpoint_id.as_str(), now).await {
                tracing::warn!(
                    error = anyhow_chain(&e),
                    endpoint_id = %report.endpoint_id,
                    "could not bring an endpoint's waiting retries forward"
                );
            }
        }
        Ok(owned)
    }

    async fn pull_forward(&self, endpoint_id: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        let (mut tx, _guard) = self.begin_write().await?;
        let sql = format!(
            "UPDATE webhook_deliveries SET next_attempt_at = $1 WHERE id IN (\
             SELECT d.id FROM webhook_deliveries d WHERE d.endpoint_id = $2 AND d.status = 'pending' \
             AND d.round_attempts > 0 AND d.next_attempt_at > $1 ORDER BY d.id{})",
            skip_locked("d")
        );
        sqlx::query(&sql)
            .bind(now)
            .bind(endpoint_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// An error with its causes, for a log line.
fn anyhow_chain(e: &StoreError) -> String {
    let mut out = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

async fn load_endpoint(
    conn: &mut <Db as sqlx::Database>::Connection,
    scope: &Scope,
    id: &WebhookEndpointId,
    lock: bool,
) -> Result<Option<WebhookEndpoint>, StoreError> {
    let sql = format!(
        "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints e WHERE e.platform_id = $1 \
         AND e.livemode = $2 AND e.id = $3 AND e.deleted_at IS NULL{}",
        if lock { lock_rows("e") } else { String::new() }
    );
    let row: Option<EndpointRow> = sqlx::query_as(&sql)
        .bind(scope.platform_id.as_str())
        .bind(scope.mode.is_live())
        .bind(id.as_str())
        .fetch_optional(&mut *conn)
        .await?;
    row.map(WebhookEndpoint::try_from).transpose()
}

/// The endpoint, if it exists and is enabled: a disabled one is a conflict whose message says
/// how to enable it before `doing`.
async fn enabled_endpoint(
    conn: &mut <Db as sqlx::Database>::Connection,
    scope: &Scope,
    id: &WebhookEndpointId,
    lock: bool,
    doing: &str,
) -> Result<WebhookEndpoint, StoreError> {
    let endpoint = load_endpoint(conn, scope, id, lock)
        .await?
        .ok_or(StoreError::NotFound)?;
    if !endpoint.enabled {
        return Err(StoreError::Conflict(format!(
            "webhook endpoint {id} is disabled; enable it (POST /v2/webhook_endpoints/{id} \
             with \"disabled\": false) before {doing}"
        )));
    }
    Ok(endpoint)
}

async fn load_delivery(
    conn: &mut <Db as sqlx::Database>::Connection,
    scope: &Scope,
    endpoint_id: &WebhookEndpointId,
    id: &DeliveryId,
    lock: bool,
) -> Result<Option<Delivery>, StoreError> {
    let sql = format!(
        "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries d WHERE d.platform_id = $1 \
         AND d.livemode = $2 AND d.endpoint_id = $3 AND d.id = $4{}",
        if lock { lock_rows("d") } else { String::new() }
    );
    let row: Option<DeliveryRow> = sqlx::query_as(&sql)
        .bind(scope.platform_id.as_str())
        .bind(scope.mode.is_live())
        .bind(endpoint_id.as_str())
        .bind(id.as_str())
        .fetch_optional(&mut *conn)
        .await?;
    row.map(Delivery::try_from).transpose()
}
