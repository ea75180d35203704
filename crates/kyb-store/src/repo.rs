//! The repository, written once and compiled once per database: `sqlite/mod.rs` and
//! `postgres/mod.rs` each include this file with their own `Db` and dialect hooks.

use chrono::{DateTime, Utc};
use kyb_domain::kyb::{BusinessProfile, PersonFacts};
use kyb_domain::{
    transition, Action, CustomerId, KeyId, Mode, PlatformId, Progress, VerificationStatus,
};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use sqlx::types::Json;
use sqlx::{Pool, Transaction};

use super::{
    lock_rows, try_lock_key, Db, WriteGate, WriteGuard, BACKEND, BATCH_OPEN, BATCH_THEN,
    BEGIN_WRITE, MIGRATOR,
};
use crate::model::*;
use crate::{Step, StoreError};

pub(super) type Tx = Transaction<'static, Db>;

pub struct Backend {
    pub(super) pool: Pool<Db>,
    pub(super) gate: WriteGate,
}

pub(super) const CUSTOMER_COLUMNS: &str = "c.id, c.platform_id, c.livemode, c.business_name, c.business_email, \
     c.phone_number, c.registered_address, c.registered_country, c.verification_status, c.progress, \
     c.created_at, c.updated_at, c.rejection_reasons, c.info_request, c.review_flag, \
     l.id AS link_id, l.created_at AS link_created_at, l.expires_at AS link_expires_at";

/// Joins each customer to its current link: the newest one not used, revoked or expired at `$1`.
pub(super) const CURRENT_LINK_JOIN: &str = "LEFT JOIN kyb_links l ON l.id = (\
     SELECT cl.id FROM kyb_links cl WHERE cl.customer_id = c.id AND cl.used_at IS NULL \
     AND cl.revoked_at IS NULL AND cl.expires_at > $1 ORDER BY cl.created_at DESC LIMIT 1)";

#[derive(sqlx::FromRow)]
pub(super) struct CustomerRow {
    id: String,
    platform_id: String,
    livemode: bool,
    business_name: String,
    business_email: String,
    phone_number: String,
    registered_address: String,
    registered_country: String,
    verification_status: String,
    progress: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    rejection_reasons: Option<String>,
    info_request: Option<String>,
    review_flag: Option<String>,
    link_id: Option<String>,
    link_created_at: Option<DateTime<Utc>>,
    link_expires_at: Option<DateTime<Utc>>,
}

impl TryFrom<CustomerRow> for Customer {
    type Error = StoreError;

    fn try_from(r: CustomerRow) -> Result<Self, StoreError> {
        let verification_status =
            VerificationStatus::parse(&r.verification_status).ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "customer {} has status {:?}",
                    r.id, r.verification_status
                ))
            })?;
        let progress = Progress::parse(&r.progress).ok_or_else(|| {
            StoreError::Corrupt(format!("customer {} has progress {:?}", r.id, r.progress))
        })?;
        let profile = BusinessProfile::prefilled(&r.business_name, &r.registered_address);
        let corrupt = |what: &str| StoreError::Corrupt(format!("customer {} has bad {what}", r.id));
        let review = ReviewState {
            rejection_reasons: r
                .rejection_reasons
                .as_deref()
                .map(serde_json::from_str)
                .transpose()
                .map_err(|_| corrupt("rejection_reasons"))?
                .unwrap_or_default(),
            info_request: r
                .info_request
                .as_deref()
                .map(serde_json::from_str)
                .transpose()
                .map_err(|_| corrupt("info_request"))?,
            review_flag: r.review_flag.clone(),
        };
        Ok(Customer {
            id: CustomerId::from_trusted(r.id),
            platform_id: PlatformId::from_trusted(r.platform_id),
            mode: Mode::from_live(r.livemode),
            business_name: r.business_name,
            business_email: r.business_email,
            phone_number: r.phone_number,
            registered_address: r.registered_address,
            registered_country: r.registered_country,
            verification_status,
            progress,
            created_at: r.created_at,
            updated_at: r.updated_at,
            current_link: link_summary(r.link_id, r.link_created_at, r.link_expires_at),
            review,
            facts: KybFacts {
                profile,
                ..KybFacts::default()
            },
        })
    }
}

#[derive(sqlx::FromRow)]
struct KeyRow {
    id: String,
    platform_id: String,
    livemode: bool,
    lookup_prefix: String,
    description: Option<String>,
    created_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
}

impl From<KeyRow> for ApiKeyRecord {
    fn from(r: KeyRow) -> Self {
        key_record(
            r.id,
            r.platform_id,
            r.livemode,
            r.lookup_prefix,
            r.description,
            r.created_at,
            r.revoked_at,
        )
    }
}

pub(super) const AUDIT_SELECT: &str =
    "SELECT seq, platform_id, platform_seq, id, livemode, actor_type, actor_id, action, \
     target_type, target_id, request_id, client_addr, details, created_at, prev_hash, hash FROM";

/// An audit row as `AUDIT_SELECT` reads it.
#[derive(sqlx::FromRow)]
pub(super) struct ChainRecord {
    /// The row's number in its table (the order rows were committed in, near enough).
    pub(super) seq: i64,
    platform_id: String,
    platform_seq: Option<i64>,
    id: String,
    livemode: Option<bool>,
    actor_type: String,
    actor_id: Option<String>,
    action: String,
    target_type: String,
    target_id: String,
    request_id: Option<String>,
    client_addr: Option<String>,
    details: Json<Value>,
    created_at: DateTime<Utc>,
    prev_hash: Option<String>,
    hash: Option<String>,
}

impl ChainRecord {
    pub(super) fn into_row(self) -> crate::audit::ChainRow {
        crate::audit::ChainRow {
            platform_id: self.platform_id,
            platform_seq: self.platform_seq,
            id: self.id,
            livemode: self.livemode,
            actor_type: self.actor_type,
            actor_id: self.actor_id,
            action: self.action,
            target_type: self.target_type,
            target_id: self.target_id,
            request_id: self.request_id,
            client_addr: self.client_addr,
            details: self.details.0,
            created_at: self.created_at,
            prev_hash: self.prev_hash,
            hash: self.hash,
        }
    }
}

const KEY_COLUMNS: &str =
    "k.id, k.platform_id, k.livemode, k.lookup_prefix, k.description, k.created_at, k.revoked_at";

#[derive(sqlx::FromRow)]
struct PlatformRow {
    id: String,
    name: String,
    active: bool,
    created_at: DateTime<Utc>,
}

impl From<PlatformRow> for Platform {
    fn from(r: PlatformRow) -> Self {
        Platform {
            id: PlatformId::from_trusted(r.id),
            name: r.name,
            active: r.active,
            created_at: r.created_at,
        }
    }
}

#[derive(sqlx::FromRow)]
struct IdempotencyRow {
    request_hash: String,
    response_status: i32,
    response_body: Vec<u8>,
    expires_at: DateTime<Utc>,
}

/// A 64-bit lock number for an idempotency key, the same on every node.
fn key_lock_id(platform_id: &PlatformId, key: &str) -> i64 {
    let digest = Sha256::new()
        .chain_update(platform_id.as_str())
        .chain_update([0u8])
        .chain_update(key)
        .finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(first)
}

impl Backend {
    pub(crate) fn new(pool: Pool<Db>) -> Self {
        Self {
            pool,
            gate: WriteGate::new(),
        }
    }

    pub fn name(&self) -> &'static str {
        BACKEND
    }

    /// The pool, for tests that need to look at or tamper with rows directly.
    pub fn pool(&self) -> &Pool<Db> {
        &self.pool
    }

    /// Queue depths and list ages for `/metrics`: counts over indexed, bounded sets only (pending
    /// rows, the newest list of each source), never over the kept history, which grows.
    pub async fn backlog(&self, now: DateTime<Utc>) -> Result<Backlog, StoreError> {
        let (deliveries_pending, oldest_due_delivery): (i64, Option<DateTime<Utc>>) =
            sqlx::query_as(
                "SELECT COUNT(*), MIN(CASE WHEN next_attempt_at <= $1 THEN next_attempt_at END) \
                 FROM webhook_deliveries WHERE status = 'pending'",
            )
            .bind(now)
            .fetch_one(&self.pool)
            .await?;
        let (check_jobs_pending, oldest_check_job): (i64, Option<DateTime<Utc>>) = sqlx::query_as(
            "SELECT COUNT(*), MIN(created_at) FROM check_jobs WHERE status = 'pending'",
        )
        .fetch_one(&self.pool)
        .await?;
        let check_jobs_failed: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM check_jobs WHERE status = 'failed'")
                .fetch_one(&self.pool)
                .await?;
        let sanctions_lists: Vec<(String, String, DateTime<Utc>)> = sqlx::query_as(
            "SELECT l.source, l.list_date, l.imported_at FROM sanctions_lists l \
             WHERE l.seq = (SELECT MAX(m.seq) FROM sanctions_lists m WHERE m.source = l.source) \
             ORDER BY l.source",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(Backlog {
            deliveries_pending,
            oldest_due_delivery,
            check_jobs_pending,
            oldest_check_job,
            check_jobs_failed,
            sanctions_lists,
            pool_size: self.pool.size(),
            pool_idle: u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX),
        })
    }

    pub async fn pending_migrations(&self) -> Result<usize, StoreError> {
        let applied: Vec<i64> =
            sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
                .fetch_all(&self.pool)
                .await?;
        Ok(MIGRATOR
            .iter()
            .filter(|m| !applied.contains(&m.version))
            .count())
    }

    pub async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.pool).await?;
        self.migrate_data().await
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub(super) async fn begin_write(&self) -> Result<(Tx, WriteGuard), StoreError> {
        let guard = self.gate.enter().await;
        let tx = self.pool.begin_with(BEGIN_WRITE).await?;
        Ok((tx, guard))
    }

    // ----- platforms -----------------------------------------------------------------------

    pub async fn create_platform(
        &self,
        name: &str,
        ctx: &AuditContext,
    ) -> Result<Platform, StoreError> {
        let platform = Platform {
            id: PlatformId::generate(),
            name: name.to_owned(),
            active: true,
            created_at: ctx.at,
        };
        let (mut tx, _guard) = self.begin_write().await?;
        sqlx::query("INSERT INTO platforms (id, name, active, created_at) VALUES ($1, $2, $3, $4)")
            .bind(platform.id.as_str())
            .bind(&platform.name)
            .bind(true)
            .bind(platform.created_at)
            .execute(&mut *tx)
            .await?;
        let target = Target::new("platform", platform.id.as_str());
        insert_audit(
            &mut tx,
            &platform.id,
            None,
            ctx,
            AuditEntry::single("platform.created", target, json!({ "name": name })),
        )
        .await?;
        tx.commit().await?;
        Ok(platform)
    }

    pub async fn list_platforms(&self) -> Result<Vec<Platform>, StoreError> {
        let rows: Vec<PlatformRow> = sqlx::query_as(
            "SELECT id, name, active, created_at FROM platforms ORDER BY created_at, id",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(Platform::from).collect())
    }

    pub async fn get_platform(&self, id: &PlatformId) -> Result<Option<Platform>, StoreError> {
        let row: Option<PlatformRow> =
            sqlx::query_as("SELECT id, name, active, created_at FROM platforms WHERE id = $1")
                .bind(id.as_str())
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(Platform::from))
    }

    /// Activates or deactivates a platform: the keys of an inactive platform get 403. Setting
    /// the state it already has writes nothing.
    pub async fn set_platform_active(
        &self,
        id: &PlatformId,
        active: bool,
        ctx: &AuditContext,
    ) -> Result<Platform, StoreError> {
        let (mut tx, _guard) = self.begin_write().await?;
        let row: PlatformRow = sqlx::query_as(&format!(
            "SELECT p.id, p.name, p.active, p.created_at FROM platforms p WHERE p.id = $1{}",
            lock_rows("p")
        ))
        .bind(id.as_str())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?;
        let mut platform = Platform::from(row);
        if platform.active != active {
            sqlx::query("UPDATE platforms SET active = $1 WHERE id = $2")
                .bind(active)
                .bind(id.as_str())
                .execute(&mut *tx)
                .await?;
            platform.active = active;
            let action = if active {
                "platform.activated"
            } else {
                "platform.deactivated"
            };
            let mut ended = 0;
            if !active {
                // Its customers' sessions end now; its links stay refused while it is inactive.
                ended = sqlx::query(
                    "UPDATE kyb_sessions SET ended_at = $1 WHERE platform_id = $2 AND ended_at IS NULL",
                )
                .bind(ctx.at)
                .bind(id.as_str())
                .execute(&mut *tx)
                .await?
                .rows_affected();
            }
            let target = Target::new("platform", id.as_str());
            let entries = AuditEntry::single(
                action,
                target,
                json!({ "active": active, "ended_sessions": ended }),
            );
            insert_audit(&mut tx, id, None, ctx, entries).await?;
        }
        tx.commit().await?;
        Ok(platform)
    }

    // ----- API keys ------------------------------------------------------------------------

    pub async fn create_key(
        &self,
        platform_id: &PlatformId,
        mode: Mode,
        lookup_prefix: &str,
        secret_hash: &str,
        description: Option<&str>,
        ctx: &AuditContext,
    ) -> Result<ApiKeyRecord, StoreError> {
        let (mut tx, _guard) = self.begin_write().await?;
        let exists: Option<String> = sqlx::query_scalar("SELECT id FROM platforms WHERE id = $1")
            .bind(platform_id.as_str())
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_none() {
            return Err(StoreError::NotFound);
        }
        let record = ApiKeyRecord {
            id: KeyId::generate(),
            platform_id: platform_id.clone(),
            mode,
            lookup_prefix: lookup_prefix.to_owned(),
            description: description.map(str::to_owned),
            created_at: ctx.at,
            revoked_at: None,
        };
        sqlx::query(
            "INSERT INTO api_keys (id, platform_id, livemode, lookup_prefix, secret_hash, description, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(record.id.as_str())
        .bind(platform_id.as_str())
        .bind(mode.is_live())
        .bind(lookup_prefix)
        .bind(secret_hash)
        .bind(description)
        .bind(ctx.at)
        .execute(&mut *tx)
        .await?;
        let details = json!({ "lookup_prefix": lookup_prefix, "description": description });
        let target = Target::new("api_key", record.id.as_str());
        insert_audit(
            &mut tx,
            platform_id,
            Some(mode),
            ctx,
            AuditEntry::single("api_key.created", target, details),
        )
        .await?;
        tx.commit().await?;
        Ok(record)
    }

    pub async fn list_keys(
        &self,
        platform_id: Option<&PlatformId>,
    ) -> Result<Vec<ApiKeyRecord>, StoreError> {
        let sql = format!(
            "SELECT {KEY_COLUMNS} FROM api_keys k WHERE ($1 IS NULL OR k.platform_id = $1) \
             ORDER BY k.created_at, k.id"
        );
        let rows: Vec<KeyRow> = sqlx::query_as(&sql)
            .bind(platform_id.map(PlatformId::as_str))
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(ApiKeyRecord::from).collect())
    }

    /// Revokes a key. Revoking twice keeps the first revocation time and writes no second row.
    pub async fn revoke_key(
        &self,
        key_id: &KeyId,
        ctx: &AuditContext,
    ) -> Result<ApiKeyRecord, StoreError> {
        let (mut tx, _guard) = self.begin_write().await?;
        let sql = format!(
            "SELECT {KEY_COLUMNS} FROM api_keys k WHERE k.id = $1{}",
            lock_rows("k")
        );
        let row: KeyRow = sqlx::query_as(&sql)
            .bind(key_id.as_str())
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        let mut record = ApiKeyRecord::from(row);
        if record.revoked_at.is_none() {
            sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2")
                .bind(ctx.at)
                .bind(key_id.as_str())
                .execute(&mut *tx)
                .await?;
            record.revoked_at = Some(ctx.at);
            let target = Target::new("api_key", key_id.as_str());
            let details = json!({ "lookup_prefix": record.lookup_prefix });
            insert_audit(
                &mut tx,
                &record.platform_id,
                Some(record.mode),
                ctx,
                AuditEntry::single("api_key.revoked", target, details),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(record)
    }

    pub async fn find_key_for_auth(
        &self,
        lookup_prefix: &str,
    ) -> Result<Option<KeyForAuth>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            key: KeyRow,
            secret_hash: String,
            platform_active: bool,
            link_ttl_secs: Option<i64>,
        }
        let sql = format!(
            "SELECT {KEY_COLUMNS}, k.secret_hash, p.active AS platform_active, p.link_ttl_secs \
             FROM api_keys k JOIN platforms p ON p.id = k.platform_id WHERE k.lookup_prefix = $1"
        );
        let row: Option<Row> = sqlx::query_as(&sql)
            .bind(lookup_prefix)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| KeyForAuth {
            key: r.key.into(),
            secret_hash: r.secret_hash,
            platform_active: r.platform_active,
            link_ttl_secs: r.link_ttl_secs,
        }))
    }

    // ----- business customers --------------------------------------------------------------

    /// Creates a customer and its first link, with the idempotency record, audit rows and outbox
    /// events, all in one transaction.
    pub async fn create_customer(
        &self,
        scope: &Scope,
        new: NewCustomer,
        idem: &IdempotencyRequest,
        ctx: &AuditContext,
        finish: impl FnOnce(&Customer) -> WriteResult,
    ) -> Result<Idempotent<StoredResponse>, StoreError> {
        let email_key = new.fields.business_email.key();
        let key = email_key.as_str();
        self.idempotent(scope, idem, ctx.at, |mut tx| async move {
            let outcome =
                async { create_customer_in(&mut tx, scope, new, key, idem, ctx, finish).await }
                    .await;
            (tx, outcome)
        })
        .await
    }

    /// Issues a fresh link for a customer and revokes every older one.
    pub async fn issue_link(
        &self,
        scope: &Scope,
        customer_id: &CustomerId,
        link: NewLink,
        idem: &IdempotencyRequest,
        ctx: &AuditContext,
        finish: impl FnOnce(&Customer) -> WriteResult,
    ) -> Result<Idempotent<StoredResponse>, StoreError> {
        self.idempotent(scope, idem, ctx.at, |mut tx| async move {
            let outcome = async {
                let sql = format!(
                    "SELECT {CUSTOMER_COLUMNS} FROM business_customers c {CURRENT_LINK_JOIN} \
                     WHERE c.platform_id = $2 AND c.livemode = $3 AND c.id = $4{}",
                    lock_rows("c")
                );
                let row: CustomerRow = sqlx::query_as(&sql)
                    .bind(ctx.at)
                    .bind(scope.platform_id.as_str())
                    .bind(scope.mode.is_live())
                    .bind(customer_id.as_str())
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or(StoreError::NotFound)?;
                let mut customer = Customer::try_from(row)?;
                transition(customer.verification_status, Action::IssueLink)?;
                load_facts(&mut tx, std::slice::from_mut(&mut customer)).await?;

                let revoked = replace_link(&mut tx, scope, customer_id, &link, ctx.at).await?;
                sqlx::query("UPDATE business_customers SET updated_at = $1 WHERE id = $2")
                    .bind(ctx.at)
                    .bind(customer_id.as_str())
                    .execute(&mut *tx)
                    .await?;
                customer.updated_at = ctx.at;
                customer.current_link = Some(LinkSummary {
                    id: link.id.clone(),
                    created_at: ctx.at,
                    expires_at: link.expires_at,
                });
                let result = finish(&customer);
                insert_events(&mut tx, scope, &result.events, ctx.at).await?;
                let details = json!({
                    "customer_id": customer_id, "expires_at": link.expires_at, "revoked_links": revoked,
                    "return_url": link.return_url,
                });
                let target = Target::new("kyb_link", link.id.as_str());
                let entries = AuditEntry::single("kyb_link.created", target, details);
                finish_idempotent(&mut tx, scope, idem, result.response, ctx, entries).await
            }
            .await;
            (tx, outcome)
        })
        .await
    }

    pub async fn get_customer(
        &self,
        scope: &Scope,
        id: &CustomerId,
        now: DateTime<Utc>,
    ) -> Result<Option<Customer>, StoreError> {
        let sql = format!(
            "SELECT {CUSTOMER_COLUMNS} FROM business_customers c {CURRENT_LINK_JOIN} \
             WHERE c.platform_id = $2 AND c.livemode = $3 AND c.id = $4"
        );
        let row: Option<CustomerRow> = sqlx::query_as(&sql)
            .bind(now)
            .bind(scope.platform_id.as_str())
            .bind(scope.mode.is_live())
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await?;
        let Some(mut customer) = row.map(Customer::try_from).transpose()? else {
            return Ok(None);
        };
        let mut conn = self.pool.acquire().await?;
        load_facts(&mut conn, std::slice::from_mut(&mut customer)).await?;
        Ok(Some(customer))
    }

    /// The `seq` of the row `id` of `table` in this scope, for `starting_after`; `CursorNotFound`
    /// when the scope has no such row. `table` is one of our own names, never input.
    pub(super) async fn cursor_seq(
        &self,
        table: &'static str,
        scope: &Scope,
        id: Option<&str>,
    ) -> Result<Option<i64>, StoreError> {
        let Some(id) = id else { return Ok(None) };
        let sql =
            format!("SELECT seq FROM {table} WHERE platform_id = $1 AND livemode = $2 AND id = $3");
        let seq: Option<i64> = sqlx::query_scalar(&sql)
            .bind(scope.platform_id.as_str())
            .bind(scope.mode.is_live())
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        seq.map(Some).ok_or(StoreError::CursorNotFound)
    }

    /// Newest first; `starting_after` continues after that customer.
    pub async fn list_customers(
        &self,
        scope: &Scope,
        query: &ListCustomers,
        now: DateTime<Utc>,
    ) -> Result<CustomerPage, StoreError> {
        let cursor = self
            .cursor_seq(
                "business_customers",
                scope,
                query.starting_after.as_ref().map(|c| c.as_str()),
            )
            .await?;
        // Keyset pages that an index serves whatever the page: the cursor is always a bound
        // (no cursor: past the last row), and the status, one of five values of our own, is
        // written into the statement. PostgreSQL plans a prepared statement generically after a
        // few runs; with `$n IS NULL OR …`, or a bound status, that plan walked the platform's
        // customers newest first for a status none of them had (0.4 s at a million,
        // BENCHMARKS.md). With the value in the statement each status gets its own plan.
        let statuses = match query.statuses.as_slice() {
            [] => String::new(),
            list => format!(
                "AND c.verification_status IN ({})",
                list.iter()
                    .map(|s| format!("'{}'", s.as_str()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        // The other filters are bound, numbered after the five fixed parameters.
        let mut filters = String::new();
        let mut n = 5;
        let mut filter = |sql: &str| {
            n += 1;
            filters.push_str(&sql.replace("$n", &format!("${n}")));
        };
        if query.email_key.is_some() {
            filter(" AND c.email_key = $n");
        }
        if query.created_gte.is_some() {
            filter(" AND c.created_at >= $n");
        }
        if query.created_lt.is_some() {
            filter(" AND c.created_at < $n");
        }
        if query.updated_gte.is_some() {
            filter(" AND c.updated_at >= $n");
        }
        let sql = format!(
            "SELECT {CUSTOMER_COLUMNS} FROM business_customers c {CURRENT_LINK_JOIN} \
             WHERE c.platform_id = $2 AND c.livemode = $3 AND c.seq < $4 {statuses}{filters} \
             ORDER BY c.seq DESC LIMIT $5"
        );
        let mut q = sqlx::query_as::<_, CustomerRow>(&sql)
            .bind(now)
            .bind(scope.platform_id.as_str())
            .bind(scope.mode.is_live())
            .bind(cursor.unwrap_or(i64::MAX))
            .bind(i64::from(query.limit) + 1);
        if let Some(key) = &query.email_key {
            q = q.bind(key.as_str());
        }
        for at in [query.created_gte, query.created_lt, query.updated_gte]
            .into_iter()
            .flatten()
        {
            q = q.bind(at);
        }
        let rows: Vec<CustomerRow> = q.fetch_all(&self.pool).await?;
        let has_more = rows.len() > query.limit as usize;
        let mut customers: Vec<Customer> = rows
            .into_iter()
            .take(query.limit as usize)
            .map(Customer::try_from)
            .collect::<Result<_, _>>()?;
        let mut conn = self.pool.acquire().await?;
        load_facts(&mut conn, &mut customers).await?;
        Ok(CustomerPage {
            customers,
            has_more,
        })
    }

    pub async fn count_customers(&self, scope: &Scope) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM business_customers WHERE platform_id = $1 AND livemode = $2",
        )
        .bind(scope.platform_id.as_str())
        .bind(scope.mode.is_live())
        .fetch_one(&self.pool)
        .await?)
    }

    // ----- idempotency, audit, events ------------------------------------------------------

    /// Deletes idempotency records past their retention; returns how many.
    pub async fn purge_idempotency(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let (mut tx, _guard) = self.begin_write().await?;
        let n = sqlx::query("DELETE FROM idempotency_keys WHERE expires_at <= $1")
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(n)
    }

    pub async fn count_idempotency_records(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM idempotency_keys")
            .fetch_one(&self.pool)
            .await?)
    }

    pub async fn list_audit(&self, platform_id: &PlatformId) -> Result<Vec<AuditRow>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            seq: i64,
            id: String,
            platform_id: String,
            livemode: Option<bool>,
            actor_type: String,
            actor_id: Option<String>,
            action: String,
            target_type: String,
            target_id: String,
            request_id: Option<String>,
            client_addr: Option<String>,
            details: Json<Value>,
            created_at: DateTime<Utc>,
        }
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT seq, id, platform_id, livemode, actor_type, actor_id, action, target_type, target_id, \
             request_id, client_addr, details, created_at FROM audit_log WHERE platform_id = $1 ORDER BY seq",
        )
        .bind(platform_id.as_str())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| AuditRow {
                seq: r.seq,
                id: r.id,
                platform_id: r.platform_id,
                livemode: r.livemode,
                actor_type: r.actor_type,
                actor_id: r.actor_id,
                action: r.action,
                target_type: r.target_type,
                target_id: r.target_id,
                request_id: r.request_id,
                client_addr: r.client_addr,
                details: r.details.0,
                created_at: r.created_at,
            })
            .collect())
    }

    /// Every row of a log, in its order (sealed rows, then the ones not sealed yet), with its
    /// old chain's head: all in memory, for tests and small logs (export and verify read pages).
    pub async fn audit_chain(
        &self,
        chain: &crate::audit::AuditChain,
    ) -> Result<(Vec<crate::audit::ChainRow>, Option<(i64, String)>), StoreError> {
        let mut rows = Vec::new();
        let mut cursor = Some(crate::audit::AuditCursor::default());
        while let Some(at) = cursor {
            let (page, next) = self.audit_rows_page(chain, at, 1000).await?;
            rows.extend(page);
            cursor = next;
        }
        let (_, heads) = chain.tables();
        let head: Option<(i64, String)> = sqlx::query_as(&format!(
            "SELECT seq, hash FROM {heads} WHERE platform_id = $1"
        ))
        .bind(chain.key())
        .fetch_optional(&self.pool)
        .await?;
        Ok((rows, head))
    }

    /// Up to `limit` rows of the log in its order from `cursor`, and where the next page
    /// starts (`None`: that was the last).
    pub async fn audit_rows_page(
        &self,
        chain: &crate::audit::AuditChain,
        cursor: crate::audit::AuditCursor,
        limit: i64,
    ) -> Result<
        (
            Vec<crate::audit::ChainRow>,
            Option<crate::audit::AuditCursor>,
        ),
        StoreError,
    > {
        use crate::audit::AuditCursor::{Pending, Sealed};
        let (log, _) = chain.tables();
        let (condition, after) = match cursor {
            Sealed(after) => ("platform_seq > $2 ORDER BY platform_seq", after),
            Pending(after) => ("platform_seq IS NULL AND seq > $2 ORDER BY seq", after),
        };
        let records: Vec<ChainRecord> = sqlx::query_as(&format!(
            "{AUDIT_SELECT} {log} WHERE platform_id = $1 AND {condition} LIMIT $3"
        ))
        .bind(chain.key())
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let full = records.len() as i64 == limit;
        let next = match (cursor, records.last()) {
            (Sealed(_), Some(last)) if full => Some(Sealed(last.platform_seq.unwrap_or(0))),
            (Sealed(_), _) => Some(Pending(0)),
            (Pending(_), Some(last)) if full => Some(Pending(last.seq)),
            (Pending(_), _) => None,
        };
        Ok((
            records.into_iter().map(ChainRecord::into_row).collect(),
            next,
        ))
    }

    /// One page of the audit rows a platform may see in a mode (that mode's and the
    /// platform-wide ones), newest written first; `starting_after` continues after that row.
    pub async fn list_audit_page(
        &self,
        scope: &Scope,
        limit: u32,
        starting_after: Option<&str>,
    ) -> Result<(Vec<crate::audit::ChainRow>, bool), StoreError> {
        let cursor: Option<i64> = match starting_after {
            None => None,
            Some(id) => Some(
                sqlx::query_scalar::<_, i64>(
                    "SELECT seq FROM audit_log WHERE platform_id = $1 AND id = $2 \
                     AND (livemode IS NULL OR livemode = $3)",
                )
                .bind(scope.platform_id.as_str())
                .bind(id)
                .bind(scope.mode.is_live())
                .fetch_optional(&self.pool)
                .await?
                .ok_or(StoreError::CursorNotFound)?,
            ),
        };
        let rows: Vec<ChainRecord> = sqlx::query_as(&format!(
            "{AUDIT_SELECT} audit_log WHERE platform_id = $1 AND (livemode IS NULL OR livemode = $2) \
             AND seq < $3 ORDER BY seq DESC LIMIT $4"
        ))
        .bind(scope.platform_id.as_str())
        .bind(scope.mode.is_live())
        .bind(cursor.unwrap_or(i64::MAX))
        .bind(i64::from(limit) + 1)
        .fetch_all(&self.pool)
        .await?;
        let has_more = rows.len() > limit as usize;
        Ok((
            rows.into_iter()
                .take(limit as usize)
                .map(ChainRecord::into_row)
                .collect(),
            has_more,
        ))
    }

    /// One page of a platform's events, newest first; `starting_after` continues after that event.
    pub async fn list_events_page(
        &self,
        scope: &Scope,
        query: &ListEvents,
    ) -> Result<(Vec<serde_json::Value>, bool), StoreError> {
        let cursor = self
            .cursor_seq(
                "events",
                scope,
                query.starting_after.as_ref().map(|e| e.as_str()),
            )
            .await?;
        // As for customers: a bound cursor, and the type (one of the API's own names) written
        // into the statement, so that a rare type's page is planned on the index events_type.
        let event_type = query
            .event_type
            .map(|t| format!("AND type = '{t}'"))
            .unwrap_or_default();
        let customer = if query.customer_id.is_some() {
            "AND customer_id = $5"
        } else {
            ""
        };
        let sql = format!(
            "SELECT data FROM events WHERE platform_id = $1 AND livemode = $2 AND seq < $3 \
             {event_type} {customer} ORDER BY seq DESC LIMIT $4"
        );
        let mut q = sqlx::query_as::<_, (Json<Value>,)>(&sql)
            .bind(scope.platform_id.as_str())
            .bind(scope.mode.is_live())
            .bind(cursor.unwrap_or(i64::MAX))
            .bind(i64::from(query.limit) + 1);
        if let Some(id) = &query.customer_id {
            q = q.bind(id.as_str());
        }
        let rows = q.fetch_all(&self.pool).await?;
        let has_more = rows.len() > query.limit as usize;
        Ok((
            rows.into_iter()
                .take(query.limit as usize)
                .map(|(j,)| j.0)
                .collect(),
            has_more,
        ))
    }

    /// One event of the platform, as delivered.
    pub async fn get_event(
        &self,
        scope: &Scope,
        id: &kyb_domain::EventId,
    ) -> Result<Option<Value>, StoreError> {
        let row: Option<(Json<Value>,)> = sqlx::query_as(
            "SELECT data FROM events WHERE platform_id = $1 AND livemode = $2 AND id = $3",
        )
        .bind(scope.platform_id.as_str())
        .bind(scope.mode.is_live())
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(j,)| j.0))
    }

    pub async fn list_events(&self, scope: &Scope) -> Result<Vec<EventRow>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            seq: i64,
            id: String,
            platform_id: String,
            livemode: bool,
            #[sqlx(rename = "type")]
            event_type: String,
            customer_id: Option<String>,
            data: Json<Value>,
            created_at: DateTime<Utc>,
        }
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT seq, id, platform_id, livemode, type, customer_id, data, created_at FROM events \
             WHERE platform_id = $1 AND livemode = $2 ORDER BY seq",
        )
        .bind(scope.platform_id.as_str())
        .bind(scope.mode.is_live())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| EventRow {
                seq: r.seq,
                id: r.id,
                platform_id: r.platform_id,
                livemode: r.livemode,
                event_type: r.event_type,
                customer_id: r.customer_id,
                payload: r.data.0,
                created_at: r.created_at,
            })
            .collect())
    }
}

pub(super) async fn customer_with_email<'c, E: sqlx::Executor<'c, Database = Db>>(
    executor: E,
    scope: &Scope,
    email_key: &str,
) -> Result<Option<CustomerId>, StoreError> {
    let id: Option<String> = sqlx::query_scalar(
        "SELECT id FROM business_customers WHERE platform_id = $1 AND livemode = $2 AND email_key = $3",
    )
    .bind(scope.platform_id.as_str())
    .bind(scope.mode.is_live())
    .bind(email_key)
    .fetch_optional(executor)
    .await?;
    Ok(id.map(CustomerId::from_trusted))
}

/// Fills in the hosted-flow facts of the given customers: three queries, whatever their number.
pub(super) async fn load_facts(
    conn: &mut <Db as sqlx::Database>::Connection,
    customers: &mut [Customer],
) -> Result<(), StoreError> {
    if customers.is_empty() {
        return Ok(());
    }
    fn ids_in<'a>(sql: &str, customers: &'a [Customer]) -> sqlx::QueryBuilder<'a, Db> {
        let mut q = sqlx::QueryBuilder::<Db>::new(sql);
        q.push(" (");
        let mut list = q.separated(", ");
        for c in customers {
            list.push_bind(c.id.as_str());
        }
        list.push_unseparated(")");
        q
    }
    #[derive(sqlx::FromRow)]
    struct ProfileRow {
        customer_id: String,
        legal_name: String,
        trading_name: String,
        entity_type: String,
        registration_number: String,
        date_of_incorporation: String,
        tax_id: String,
        website: String,
        business_description: String,
        operating_address: String,
    }
    let profiles: Vec<ProfileRow> = ids_in(
        "SELECT customer_id, legal_name, trading_name, entity_type, registration_number, date_of_incorporation, \
         tax_id, website, business_description, operating_address FROM business_profiles WHERE customer_id IN",
        customers,
    )
    .build_query_as()
    .fetch_all(&mut *conn)
    .await?;
    let mut people = ids_in(
        "SELECT customer_id, is_control_person, ownership_bp, id, updated_at FROM people WHERE customer_id IN",
        customers,
    );
    people.push(" ORDER BY id");
    let people: Vec<(String, bool, i32, String, DateTime<Utc>)> =
        people.build_query_as().fetch_all(&mut *conn).await?;
    let mut documents = ids_in(
        "SELECT customer_id, kind, id FROM documents WHERE customer_id IN",
        customers,
    );
    documents.push(" AND deleted_at IS NULL ORDER BY uploaded_at, id");
    let documents: Vec<(String, String, String)> =
        documents.build_query_as().fetch_all(&mut *conn).await?;
    for c in customers.iter_mut() {
        let id = c.id.as_str();
        if let Some(p) = profiles.iter().find(|p| p.customer_id == id) {
            c.facts.profile = BusinessProfile {
                legal_name: p.legal_name.clone(),
                trading_name: p.trading_name.clone(),
                entity_type: p.entity_type.clone(),
                registration_number: p.registration_number.clone(),
                date_of_incorporation: p.date_of_incorporation.clone(),
                tax_id: p.tax_id.clone(),
                website: p.website.clone(),
                business_description: p.business_description.clone(),
                operating_address: p.operating_address.clone(),
            };
        }
        let theirs: Vec<_> = people.iter().filter(|p| p.0 == id).collect();
        c.facts.people = theirs
            .iter()
            .map(|(_, control, bp, _, _)| PersonFacts {
                is_control_person: *control,
                ownership_bp: u16::try_from(*bp).unwrap_or(u16::MAX),
            })
            .collect();
        c.facts.people_version = theirs
            .iter()
            .map(|(_, _, _, pid, at)| format!("{pid}@{}", at.timestamp_micros()))
            .collect::<Vec<_>>()
            .join(",");
        c.facts.documents = documents
            .iter()
            .filter(|(cid, _, _)| cid == id)
            .map(|(_, kind, doc)| (kind.clone(), doc.clone()))
            .collect();
        c.facts.document_kinds = c.facts.documents.iter().map(|(k, _)| k.clone()).collect();
    }
    Ok(())
}

/// The stored outcome of a key still kept: a replay of the same request, or a mismatch.
/// `Expired` when a record is there but past its retention.
enum Stored {
    Answer(Idempotent<StoredResponse>),
    Expired,
    None,
}

async fn read_key(
    conn: &mut <Db as sqlx::Database>::Connection,
    scope: &Scope,
    idem: &IdempotencyRequest,
    now: DateTime<Utc>,
) -> Result<Stored, StoreError> {
    let row: Option<IdempotencyRow> = sqlx::query_as(
        "SELECT request_hash, response_status, response_body, expires_at FROM idempotency_keys \
         WHERE platform_id = $1 AND idempotency_key = $2",
    )
    .bind(scope.platform_id.as_str())
    .bind(idem.key.as_str())
    .fetch_optional(&mut *conn)
    .await?;
    Ok(match row {
        Some(r) if r.expires_at > now => {
            if r.request_hash == idem.request_hash {
                let status = u16::try_from(r.response_status).map_err(|_| {
                    StoreError::Corrupt(format!("stored status {}", r.response_status))
                })?;
                Stored::Answer(Idempotent::Replayed(StoredResponse {
                    status,
                    body: r.response_body,
                }))
            } else {
                Stored::Answer(Idempotent::Mismatch)
            }
        }
        Some(_) => Stored::Expired,
        None => Stored::None,
    })
}

/// The stored answer of a key, outside any transaction.
async fn stored_answer(
    conn: &mut <Db as sqlx::Database>::Connection,
    scope: &Scope,
    idem: &IdempotencyRequest,
    now: DateTime<Utc>,
) -> Result<Option<Idempotent<StoredResponse>>, StoreError> {
    Ok(match read_key(conn, scope, idem, now).await? {
        Stored::Answer(a) => Some(a),
        Stored::Expired | Stored::None => None,
    })
}

/// Looks the key up inside the write transaction. `Some` ends the request here: a replay, a
/// mismatch, or a concurrent request holding the key. An expired record is removed and ignored.
async fn idempotency_begin(
    tx: &mut Tx,
    scope: &Scope,
    idem: &IdempotencyRequest,
    now: DateTime<Utc>,
) -> Result<Option<Idempotent<StoredResponse>>, StoreError> {
    if !try_lock_key(tx, key_lock_id(&scope.platform_id, idem.key.as_str())).await? {
        return Ok(Some(Idempotent::InFlight));
    }
    match read_key(tx, scope, idem, now).await? {
        Stored::Answer(a) => Ok(Some(a)),
        Stored::Expired => {
            sqlx::query(
                "DELETE FROM idempotency_keys WHERE platform_id = $1 AND idempotency_key = $2",
            )
            .bind(scope.platform_id.as_str())
            .bind(idem.key.as_str())
            .execute(&mut **tx)
            .await?;
            Ok(None)
        }
        Stored::None => Ok(None),
    }
}

/// The statement that stores a write's response under its key.
fn push_idempotency_insert(
    q: &mut sqlx::QueryBuilder<'_, Db>,
    scope: &Scope,
    idem: &IdempotencyRequest,
    response: &StoredResponse,
    now: DateTime<Utc>,
) {
    q.push(
        "INSERT INTO idempotency_keys (platform_id, idempotency_key, request_hash, response_status, \
         response_body, created_at, expires_at) ",
    );
    q.push_values(std::iter::once(()), |mut b, ()| {
        b.push_bind(scope.platform_id.as_str().to_owned())
            .push_bind(idem.key.as_str().to_owned())
            .push_bind(idem.request_hash.clone())
            .push_bind(i32::from(response.status))
            .push_bind(response.body.clone())
            .push_bind(now)
            .push_bind(now + idem.retention);
    });
}

/// The body of `create_customer`, inside the idempotent write's transaction.
async fn create_customer_in(
    tx: &mut Tx,
    scope: &Scope,
    new: NewCustomer,
    email_key: &str,
    idem: &IdempotencyRequest,
    ctx: &AuditContext,
    finish: impl FnOnce(&Customer) -> WriteResult,
) -> Result<StoredResponse, StoreError> {
    let customer = insert_new_customer(tx, scope, &new, email_key, ctx).await?;
    finish_created(tx, scope, &customer, &new.link, idem, ctx, finish).await
}

/// The customer row and its first link of a create; `CustomerExists` when the e-mail is taken.
pub(super) async fn insert_new_customer(
    tx: &mut Tx,
    scope: &Scope,
    new: &NewCustomer,
    email_key: &str,
    ctx: &AuditContext,
) -> Result<Customer, StoreError> {
    let f = &new.fields;
    // The e-mail check is the insert itself: a customer of this platform and mode with the same
    // e-mail key makes it insert nothing (on PostgreSQL, after waiting for a concurrent insert
    // of that key to commit or roll back), and the one that has it is looked up then. One
    // statement per create instead of a look-up and an insert.
    let inserted = sqlx::query(
        "INSERT INTO business_customers (id, platform_id, livemode, business_name, business_email, email_key, \
         phone_number, registered_address, registered_country, verification_status, progress, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) \
         ON CONFLICT (platform_id, livemode, email_key) DO NOTHING",
    )
    .bind(new.id.as_str())
    .bind(scope.platform_id.as_str())
    .bind(scope.mode.is_live())
    .bind(f.business_name.as_str())
    .bind(f.business_email.as_str())
    .bind(email_key)
    .bind(f.phone_number.as_str())
    .bind(f.registered_address.as_str())
    .bind(f.registered_country.as_str())
    .bind(VerificationStatus::Pending.as_str())
    .bind(Progress::NotStarted.as_str())
    .bind(ctx.at)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if inserted == 0 {
        let existing = customer_with_email(&mut **tx, scope, email_key)
            .await?
            .ok_or_else(|| {
                StoreError::Corrupt("an e-mail key conflicted with no customer of it".into())
            })?;
        return Err(StoreError::CustomerExists(existing));
    }
    insert_link(tx, scope, &new.id, &new.link, ctx.at).await?;

    let customer = Customer {
        id: new.id.clone(),
        platform_id: scope.platform_id.clone(),
        mode: scope.mode,
        business_name: f.business_name.to_string(),
        business_email: f.business_email.to_string(),
        phone_number: f.phone_number.to_string(),
        registered_address: f.registered_address.to_string(),
        registered_country: f.registered_country.to_string(),
        verification_status: VerificationStatus::Pending,
        progress: Progress::NotStarted,
        created_at: ctx.at,
        updated_at: ctx.at,
        current_link: Some(LinkSummary {
            id: new.link.id.clone(),
            created_at: ctx.at,
            expires_at: new.link.expires_at,
        }),
        review: ReviewState::default(),
        facts: KybFacts {
            profile: BusinessProfile::prefilled(
                f.business_name.as_str(),
                f.registered_address.as_str(),
            ),
            ..KybFacts::default()
        },
    };
    Ok(customer)
}

/// The rest of a create, once the customer (and what the platform gave with it) is written:
/// events, audit rows and the idempotency record.
pub(super) async fn finish_created(
    tx: &mut Tx,
    scope: &Scope,
    customer: &Customer,
    link: &NewLink,
    idem: &IdempotencyRequest,
    ctx: &AuditContext,
    finish: impl FnOnce(&Customer) -> WriteResult,
) -> Result<StoredResponse, StoreError> {
    let result = finish(customer);
    let target = Target::new("business_customer", customer.id.as_str());
    let details = json!({
        "business_name": customer.business_name,
        "business_email": customer.business_email,
        "phone_number": customer.phone_number,
        "registered_address": customer.registered_address,
        "registered_country": customer.registered_country,
        "verification_status": customer.verification_status,
    });
    let link_details =
        json!({ "customer_id": customer.id, "expires_at": link.expires_at, "revoked_links": 0 });
    let entries = vec![
        AuditEntry {
            action: "business_customer.created",
            target,
            details,
        },
        AuditEntry {
            action: "kyb_link.created",
            target: Target::new("kyb_link", link.id.as_str()),
            details: link_details,
        },
    ];
    insert_events(tx, scope, &result.events, ctx.at).await?;
    finish_idempotent(tx, scope, idem, result.response, ctx, entries).await
}

/// Issues a new link to an existing customer. It replaces what came before (`close_access`):
/// whoever holds an older link or a session started from one must open the new link. Returns
/// how many links it revoked.
pub(super) async fn replace_link(
    tx: &mut Tx,
    scope: &Scope,
    customer_id: &CustomerId,
    link: &NewLink,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let revoked = close_access(tx, customer_id, now).await?;
    insert_link(tx, scope, customer_id, link, now).await?;
    Ok(revoked)
}

/// Ends every way into a customer's hosted flow: its sessions end, and its links not yet used
/// are revoked (a submission; a new link). Returns how many links it revoked.
pub(super) async fn close_access(
    tx: &mut Tx,
    customer_id: &CustomerId,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    sqlx::query(
        "UPDATE kyb_sessions SET ended_at = $1 WHERE customer_id = $2 AND ended_at IS NULL",
    )
    .bind(now)
    .bind(customer_id.as_str())
    .execute(&mut **tx)
    .await?;
    Ok(sqlx::query(
        "UPDATE kyb_links SET revoked_at = $1 WHERE customer_id = $2 AND used_at IS NULL AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(customer_id.as_str())
    .execute(&mut **tx)
    .await?
    .rows_affected())
}

/// Stores a link. A customer created in this transaction has no sessions to end, so create
/// calls this alone (one statement fewer per create); every other caller goes through
/// [`replace_link`].
async fn insert_link(
    tx: &mut Tx,
    scope: &Scope,
    customer_id: &CustomerId,
    link: &NewLink,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO kyb_links (id, customer_id, platform_id, token_hash, created_at, expires_at, return_url) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(link.id.as_str())
    .bind(customer_id.as_str())
    .bind(scope.platform_id.as_str())
    .bind(&link.token_hash)
    .bind(now)
    .bind(link.expires_at)
    .bind(link.return_url.as_deref())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub(super) struct Target<'a> {
    kind: &'static str,
    id: &'a str,
}

impl<'a> Target<'a> {
    pub(super) fn new(kind: &'static str, id: &'a str) -> Self {
        Self { kind, id }
    }
}

/// One audit row to write; who, when and from where come from the `AuditContext`.
pub(super) struct AuditEntry<'a> {
    pub(super) action: &'static str,
    pub(super) target: Target<'a>,
    pub(super) details: Value,
}

impl<'a> AuditEntry<'a> {
    /// The entries of a write that records one action.
    pub(super) fn single(action: &'static str, target: Target<'a>, details: Value) -> Vec<Self> {
        vec![Self {
            action,
            target,
            details,
        }]
    }
}

/// Appends audit rows to the platform's log, in the order given. Nothing shared is read or
/// locked: the rows have no place in the log until the sealer numbers them after commit, so no
/// write waits for another one's commit.
pub(super) async fn insert_audit(
    tx: &mut Tx,
    platform_id: &PlatformId,
    mode: Option<Mode>,
    ctx: &AuditContext,
    entries: Vec<AuditEntry<'_>>,
) -> Result<(), StoreError> {
    let chain = crate::audit::AuditChain::Platform(platform_id.clone());
    append_to_log(tx, &chain, mode, ctx, entries).await
}

/// Appends audit rows to the installation's log (operator accounts), like `insert_audit`.
pub(super) async fn insert_installation_audit(
    tx: &mut Tx,
    ctx: &AuditContext,
    entries: Vec<AuditEntry<'_>>,
) -> Result<(), StoreError> {
    append_to_log(
        tx,
        &crate::audit::AuditChain::Installation,
        None,
        ctx,
        entries,
    )
    .await
}

async fn append_to_log(
    tx: &mut Tx,
    chain: &crate::audit::AuditChain,
    mode: Option<Mode>,
    ctx: &AuditContext,
    entries: Vec<AuditEntry<'_>>,
) -> Result<(), StoreError> {
    if entries.is_empty() {
        return Ok(());
    }
    let mut insert = sqlx::QueryBuilder::<Db>::new("");
    push_audit_insert(&mut insert, chain, mode, ctx, entries);
    insert.build().execute(&mut **tx).await?;
    Ok(())
}

/// The statement that appends `entries` (not empty) to a log.
fn push_audit_insert(
    q: &mut sqlx::QueryBuilder<'_, Db>,
    chain: &crate::audit::AuditChain,
    mode: Option<Mode>,
    ctx: &AuditContext,
    entries: Vec<AuditEntry<'_>>,
) {
    let (log, _) = chain.tables();
    let request_id = ctx.request_id.as_ref().map(|r| r.to_string());
    q.push(format!(
        "INSERT INTO {log} (id, platform_id, livemode, actor_type, actor_id, action, target_type, \
         target_id, request_id, client_addr, details, created_at) ",
    ));
    q.push_values(entries, |mut b, e| {
        b.push_bind(audit_id())
            .push_bind(chain.key().to_owned())
            .push_bind(mode.map(Mode::is_live))
            .push_bind(ctx.actor.as_str())
            .push_bind(ctx.actor_id.clone())
            .push_bind(e.action)
            .push_bind(e.target.kind)
            .push_bind(e.target.id.to_owned())
            .push_bind(request_id.clone())
            .push_bind(ctx.client_addr.clone())
            .push_bind(Json(e.details))
            .push_bind(ctx.at);
    });
}

/// The statement that writes outbox events (not empty), in the order given.
fn push_events_insert<'a>(
    q: &mut sqlx::QueryBuilder<'a, Db>,
    scope: &'a Scope,
    events: &'a [NewEvent],
    now: DateTime<Utc>,
) {
    q.push("INSERT INTO events (id, platform_id, livemode, type, customer_id, data, created_at) ");
    q.push_values(events, |mut row, e| {
        row.push_bind(e.id.as_str())
            .push_bind(scope.platform_id.as_str())
            .push_bind(scope.mode.is_live())
            .push_bind(e.event_type)
            .push_bind(e.customer_id.as_ref().map(|c| c.as_str()))
            .push_bind(Json(&e.payload))
            .push_bind(now);
    });
}

/// Writes outbox events with no fan-out: the caller queues their deliveries itself (a test
/// event goes to one endpoint only).
pub(super) async fn insert_events_alone(
    tx: &mut Tx,
    scope: &Scope,
    events: &[NewEvent],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let mut q = sqlx::QueryBuilder::<Db>::new("");
    push_events_insert(&mut q, scope, events, now);
    q.build().execute(&mut **tx).await?;
    Ok(())
}

/// Writes outbox events in one statement, in the order given, and queues their deliveries to
/// the platform's endpoints. The insert and the read of the endpoints go to the database as one
/// batch ([`BATCH_OPEN`]).
pub(super) async fn insert_events(
    tx: &mut Tx,
    scope: &Scope,
    events: &[NewEvent],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    if events.is_empty() {
        return Ok(());
    }
    let mut q = sqlx::QueryBuilder::<Db>::new(BATCH_OPEN);
    push_events_insert(&mut q, scope, events, now);
    q.push(BATCH_THEN);
    super::repo_webhooks::push_live_endpoints(&mut q, scope);
    let endpoints = q.build_query_as().fetch_all(&mut **tx).await?;
    super::repo_webhooks::fan_out(tx, scope, events, endpoints, now).await
}

impl Backend {
    /// Every idempotent write goes through here: the key is looked up (a replay, a mismatch or
    /// a request still running ends it, and the transaction is rolled back), `body` runs in the
    /// transaction and ends with [`finish_idempotent`], then the commit. Any error of `body`
    /// rolls its work back before it is returned. On SQLite such writes queued together share
    /// one transaction and commit (the write gate's group commit); none answers before its
    /// commit.
    ///
    /// `body` owns the transaction and hands it back with its outcome (a closure over `&mut Tx`
    /// would make the future's `Send` unprovable for axum's handlers).
    pub(super) async fn idempotent<F, Fut>(
        &self,
        scope: &Scope,
        idem: &IdempotencyRequest,
        at: DateTime<Utc>,
        body: F,
    ) -> Result<Idempotent<StoredResponse>, StoreError>
    where
        F: FnOnce(Tx) -> Fut,
        Fut: std::future::Future<Output = (Tx, Result<StoredResponse, StoreError>)>,
    {
        self.gate
            .grouped(&self.pool, |mut tx| async move {
                match idempotency_begin(&mut tx, scope, idem, at).await {
                    Err(e) => (tx, Err(e)),
                    Ok(Some(done)) => (tx, Ok(Step::Discard(done))),
                    Ok(None) => {
                        let (tx, outcome) = body(tx).await;
                        (tx, outcome.map(|r| Step::Keep(Idempotent::Fresh(r))))
                    }
                }
            })
            .await
    }

    /// The outcome stored for this key, if the same request was answered before (or a
    /// mismatch): read before any check that depends on the outside world (DNS, rules that
    /// change), so a replay answers exactly as the first time. Takes no lock: the write that
    /// follows looks again under the key's lock.
    pub async fn stored_outcome(
        &self,
        scope: &Scope,
        idem: &IdempotencyRequest,
        now: DateTime<Utc>,
    ) -> Result<Option<Idempotent<StoredResponse>>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        stored_answer(&mut conn, scope, idem, now).await
    }
}

/// The end of an idempotent write's body: the stored response and the audit rows, sent as one
/// batch ([`BATCH_OPEN`]).
pub(super) async fn finish_idempotent(
    tx: &mut Tx,
    scope: &Scope,
    idem: &IdempotencyRequest,
    response: StoredResponse,
    ctx: &AuditContext,
    entries: Vec<AuditEntry<'_>>,
) -> Result<StoredResponse, StoreError> {
    let chain = crate::audit::AuditChain::Platform(scope.platform_id.clone());
    let mut q = sqlx::QueryBuilder::<Db>::new("");
    if !entries.is_empty() {
        q.push(BATCH_OPEN);
        push_audit_insert(&mut q, &chain, Some(scope.mode), ctx, entries);
        q.push(BATCH_THEN);
    }
    push_idempotency_insert(&mut q, scope, idem, &response, ctx.at);
    q.build().execute(&mut **tx).await?;
    Ok(response)
}
