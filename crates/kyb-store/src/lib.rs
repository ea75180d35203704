//! kyb's persistence: one `Store` in front of SQLite or PostgreSQL, with migrations, tenant-scoped
//! repositories, idempotency records, the event outbox and the audit log.
#![forbid(unsafe_code)]

pub mod audit;
mod inflight;
pub mod model;
pub mod postgres;
pub mod secrets;
pub mod sqlite;

use chrono::{DateTime, Utc};
use kyb_domain::{
    CustomerId, DeliveryId, KeyId, Mode, PlatformId, TransitionError, WebhookEndpointId,
};
use std::sync::Arc;

pub use inflight::InFlight;
pub use model::*;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error")]
    Database(#[from] sqlx::Error),
    #[error("migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("not found")]
    NotFound,
    #[error("a customer with this business_email already exists: {0}")]
    CustomerExists(CustomerId),
    #[error(transparent)]
    InvalidTransition(#[from] TransitionError),
    #[error("the starting_after customer does not exist")]
    CursorNotFound,
    #[error("total ownership would be {}.{:02} %, over 100 %", total_bp / 100, total_bp % 100)]
    OwnershipExceeded { total_bp: i64 },
    #[error("the case is incomplete: {}", .0.join(", "))]
    Incomplete(Vec<String>),
    /// The request is valid but the resource's state does not allow it; the message says why.
    #[error("{0}")]
    Conflict(String),
    /// A rule refused the action: a stable code for screens to look up, and the sentence.
    #[error("{message}")]
    Refused { code: &'static str, message: String },
    #[error("stored data is not what kyb wrote: {0}")]
    Corrupt(String),
    #[error("unsupported database URL: {0}")]
    UnsupportedUrl(String),
    /// A call ran past its deadline (the acquire timeout plus the statement timeout): the
    /// database, or the network to it, stopped answering in the middle of the work.
    #[error("the database did not answer within {0:?}")]
    Deadline(std::time::Duration),
    /// The write was done in a transaction shared with others (SQLite's group commit) whose
    /// commit failed, or which a member abandoned: nothing of it was kept. The reason is the
    /// committer's error, as text.
    #[error("the write was not committed: {0}")]
    NotCommitted(std::sync::Arc<str>),
    /// The platform would change an item (`business_details.<field>`, `people`) that the
    /// customer changed in the hosted flow.
    #[error("the customer changed {0} in the hosted flow")]
    Changed(String),
    /// The same action was taken too recently; it may be taken again after this long.
    #[error("too soon; retry in {0:?}")]
    TooSoon(std::time::Duration),
}

impl StoreError {
    /// A rule refused the action: its stable code and the sentence.
    pub fn refused(code: &'static str, message: &str) -> Self {
        StoreError::Refused {
            code,
            message: message.to_owned(),
        }
    }

    /// Whether the database could not do the work for now, through no fault of the request: it
    /// is unreachable, the pool has no connection within its timeout, a statement ran past its
    /// timeout, PostgreSQL is shutting down or out of resources, or SQLite's disk is full, its
    /// file busy past the timeout or unreadable. Answered 503 with `Retry-After`; retrying
    /// later can succeed.
    pub fn is_unavailable(&self) -> bool {
        let e = match self {
            StoreError::Database(e) => e,
            StoreError::Deadline(_) | StoreError::NotCommitted(_) => return true,
            _ => return false,
        };
        match e {
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::WorkerCrashed
            | sqlx::Error::BeginFailed => true,
            sqlx::Error::Database(db) => {
                let code = db.code().unwrap_or_default();
                // By the backend, not by the code's look: most SQLSTATEs (57014, 08006, 53300)
                // are digits too, and read as SQLite codes they mean nothing.
                if db
                    .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                    .is_none()
                {
                    // SQLITE_BUSY, SQLITE_IOERR, SQLITE_FULL, SQLITE_CANTOPEN (primary codes).
                    code.parse::<i32>()
                        .is_ok_and(|sqlite| matches!(sqlite & 0xff, 5 | 10 | 13 | 14))
                } else {
                    // Connection exceptions, insufficient resources, operator intervention
                    // (shutdown, query_canceled by statement_timeout), system errors.
                    code.starts_with("08")
                        || code.starts_with("53")
                        || code.starts_with("57")
                        || code.starts_with("58")
                }
            }
            _ => false,
        }
    }
}

/// How a write's work ends: kept (committed) or taken back (rolled back), with its answer
/// either way.
pub(crate) enum Step<T> {
    Keep(T),
    Discard(T),
}

impl<T> Step<T> {
    pub(crate) fn into_inner(self) -> T {
        match self {
            Step::Keep(t) | Step::Discard(t) => t,
        }
    }
}

/// Whether `e` broke the named unique constraint. PostgreSQL reports the constraint name;
/// SQLite reports the columns (`table.column`) in its message instead.
pub(crate) fn unique_violation(e: &sqlx::Error, pg_constraint: &str, sqlite_column: &str) -> bool {
    match e {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            db.constraint() == Some(pg_constraint) || db.message().contains(sqlite_column)
        }
        _ => false,
    }
}

enum Backend {
    Sqlite(sqlite::Backend),
    Postgres(postgres::Backend),
}

/// Runs the same call on whichever backend is configured, within the store's deadline.
macro_rules! on_backend {
    ($self:expr, $b:ident => $call:expr) => {
        $self
            .within_deadline(async {
                match &$self.inner.backend {
                    Backend::Sqlite($b) => $call,
                    Backend::Postgres($b) => $call,
                }
            })
            .await
    };
}

/// The same without a deadline: for what is not a database call, or must not be cut short.
macro_rules! on_backend_unbounded {
    ($self:expr, $b:ident => $call:expr) => {
        match &$self.inner.backend {
            Backend::Sqlite($b) => $call,
            Backend::Postgres($b) => $call,
        }
    };
}

struct Inner {
    backend: Backend,
    inflight: InFlight,
    /// Signalled after a commit that may have queued webhook deliveries, to wake the dispatcher.
    outbox: tokio::sync::Notify,
    /// Signalled after a commit that may have queued check jobs, to wake the check runner.
    jobs: tokio::sync::Notify,
    /// The longest one store call may take, see [`StoreOptions::deadline`].
    deadline: std::time::Duration,
}

/// The store. Cheap to clone; every clone shares the pool and the in-flight registry.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

/// How the store talks to its database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreOptions {
    /// SQLite: `synchronous=FULL`, so that a write acknowledged survives an OS crash or power
    /// loss (the default). `false`: `NORMAL`, faster, and the last writes before such a crash
    /// may be lost (never the database itself: WAL stays consistent).
    pub sqlite_durable: bool,
    /// The longest a request waits for a pooled connection.
    pub acquire_timeout: std::time::Duration,
    /// PostgreSQL: the longest one statement may run (`statement_timeout`).
    pub statement_timeout: std::time::Duration,
    /// Tests only: SQLite's `max_page_count`, applied to every connection as it is checked out,
    /// so that a test can fill the "disk" (`SQLITE_FULL`) and give the space back.
    #[doc(hidden)]
    pub sqlite_page_limit: Option<PageLimit>,
}

impl StoreOptions {
    /// The longest one store call may take, from asking for a connection to its last answer:
    /// the acquire timeout plus the statement timeout. The statement timeout is enforced by
    /// PostgreSQL, which cannot help when the network to it is gone: sqlx sets no TCP
    /// keepalive (launchbadge/sqlx#3540), so without this a request would wait for the kernel
    /// to give up on the connection, many minutes later. Past the deadline the call is
    /// dropped (its transaction is rolled back, or was committed: idempotency keys make a
    /// retry safe) and answered [`StoreError::Deadline`], a 503.
    pub fn deadline(&self) -> std::time::Duration {
        self.acquire_timeout + self.statement_timeout
    }
}

/// A page limit shared between a test and the store's connections; `0` means none.
#[doc(hidden)]
#[derive(Debug, Clone, Default)]
pub struct PageLimit(Arc<std::sync::atomic::AtomicU32>);

impl PageLimit {
    pub fn set(&self, pages: u32) {
        self.0.store(pages, std::sync::atomic::Ordering::SeqCst);
    }

    /// The value for `PRAGMA max_page_count`: the limit, or SQLite's largest page number.
    pub fn pages(&self) -> u32 {
        match self.0.load(std::sync::atomic::Ordering::SeqCst) {
            0 => u32::MAX - 1,
            n => n,
        }
    }
}

impl PartialEq for PageLimit {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for PageLimit {}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            sqlite_durable: true,
            acquire_timeout: std::time::Duration::from_secs(5),
            // Long enough for a sanctions import's batches and `kyb audit verify`.
            statement_timeout: std::time::Duration::from_secs(30),
            sqlite_page_limit: None,
        }
    }
}

impl Store {
    /// Connects to `sqlite://PATH` (created if missing) or `postgres://…` with the default
    /// options. Does not migrate.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with(url, &StoreOptions::default()).await
    }

    /// Connects with these options. Does not migrate.
    pub async fn connect_with(url: &str, options: &StoreOptions) -> Result<Self, StoreError> {
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres(postgres::connect(url, options).await?)
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite(sqlite::connect(url, options).await?)
        } else {
            return Err(StoreError::UnsupportedUrl(redact_url(url)));
        };
        Ok(Self {
            inner: Arc::new(Inner {
                backend,
                inflight: InFlight::default(),
                outbox: tokio::sync::Notify::new(),
                jobs: tokio::sync::Notify::new(),
                deadline: options.deadline(),
            }),
        })
    }

    /// Runs one call of the store, or gives up on it at the deadline (see
    /// [`StoreOptions::deadline`]).
    async fn within_deadline<T>(
        &self,
        call: impl std::future::Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        let deadline = self.inner.deadline;
        tokio::time::timeout(deadline, call)
            .await
            .unwrap_or(Err(StoreError::Deadline(deadline)))
    }

    /// `sqlite` or `postgres`.
    pub fn backend_name(&self) -> &'static str {
        on_backend_unbounded!(self, b => b.name())
    }

    pub fn as_sqlite(&self) -> Option<&sqlite::Backend> {
        match &self.inner.backend {
            Backend::Sqlite(b) => Some(b),
            Backend::Postgres(_) => None,
        }
    }

    pub fn as_postgres(&self) -> Option<&postgres::Backend> {
        match &self.inner.backend {
            Backend::Postgres(b) => Some(b),
            Backend::Sqlite(_) => None,
        }
    }

    /// Queue depths, list ages and pool use, for `/metrics`.
    pub async fn backlog(&self, now: DateTime<Utc>) -> Result<Backlog, StoreError> {
        on_backend!(self, b => b.backlog(now).await)
    }

    /// How many migrations this binary knows that the database has not applied; a round trip,
    /// so also the readiness check that the database answers.
    pub async fn pending_migrations(&self) -> Result<usize, StoreError> {
        on_backend!(self, b => b.pending_migrations().await)
    }

    /// Migrations may run long on a large database: no deadline.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        on_backend_unbounded!(self, b => b.migrate().await)
    }

    pub async fn close(&self) {
        on_backend_unbounded!(self, b => b.close().await)
    }

    pub async fn create_platform(
        &self,
        name: &str,
        ctx: &AuditContext,
    ) -> Result<Platform, StoreError> {
        on_backend!(self, b => b.create_platform(name, ctx).await)
    }

    pub async fn list_platforms(&self) -> Result<Vec<Platform>, StoreError> {
        on_backend!(self, b => b.list_platforms().await)
    }

    pub async fn set_platform_active(
        &self,
        id: &PlatformId,
        active: bool,
        ctx: &AuditContext,
    ) -> Result<Platform, StoreError> {
        on_backend!(self, b => b.set_platform_active(id, active, ctx).await)
    }

    pub async fn get_platform(&self, id: &PlatformId) -> Result<Option<Platform>, StoreError> {
        on_backend!(self, b => b.get_platform(id).await)
    }

    pub async fn create_key(
        &self,
        platform_id: &PlatformId,
        mode: Mode,
        lookup_prefix: &str,
        secret_hash: &str,
        description: Option<&str>,
        ctx: &AuditContext,
    ) -> Result<ApiKeyRecord, StoreError> {
        on_backend!(self, b => b.create_key(platform_id, mode, lookup_prefix, secret_hash, description, ctx).await)
    }

    pub async fn list_keys(
        &self,
        platform_id: Option<&PlatformId>,
    ) -> Result<Vec<ApiKeyRecord>, StoreError> {
        on_backend!(self, b => b.list_keys(platform_id).await)
    }

    pub async fn revoke_key(
        &self,
        key_id: &KeyId,
        ctx: &AuditContext,
    ) -> Result<ApiKeyRecord, StoreError> {
        on_backend!(self, b => b.revoke_key(key_id, ctx).await)
    }

    pub async fn find_key_for_auth(
        &self,
        lookup_prefix: &str,
    ) -> Result<Option<KeyForAuth>, StoreError> {
        on_backend!(self, b => b.find_key_for_auth(lookup_prefix).await)
    }

    /// The outcome already stored for an idempotency key (a replay, or a mismatch), read
    /// without a lock: for checks that depend on the outside world (DNS), which must not run,
    /// or change the answer, on a replay. The write itself looks again under the key's lock.
    pub async fn stored_outcome(
        &self,
        scope: &Scope,
        idem: &IdempotencyRequest,
        now: DateTime<Utc>,
    ) -> Result<Option<Idempotent<StoredResponse>>, StoreError> {
        on_backend!(self, b => b.stored_outcome(scope, idem, now).await)
    }

    /// See [`Idempotent`] and [`Store::once`].
    pub async fn create_customer(
        &self,
        scope: &Scope,
        new: NewCustomer,
        idem: &IdempotencyRequest,
        ctx: &AuditContext,
        finish: impl FnOnce(&Customer) -> WriteResult,
    ) -> Result<Idempotent<StoredResponse>, StoreError> {
        self.once_queueing(scope, idem, || async {
            on_backend!(self, b => b.create_customer(scope, new, idem, ctx, finish).await)
        })
        .await
    }

    pub async fn issue_link(
        &self,
        scope: &Scope,
        customer_id: &CustomerId,
        link: NewLink,
        idem: &IdempotencyRequest,
        ctx: &AuditContext,
        finish: impl FnOnce(&Customer) -> WriteResult,
    ) -> Result<Idempotent<StoredResponse>, StoreError> {
        self.once_queueing(scope, idem, || async {
            on_backend!(self, b => b.issue_link(scope, customer_id, link, idem, ctx, finish).await)
        })
        .await
    }

    /// Wakes a dispatcher waiting in [`Store::outbox_wait`] (or the next one to wait).
    pub fn outbox_written(&self) {
        self.inner.outbox.notify_one();
    }

    /// Completes when a write may have queued webhook deliveries since the last call.
    pub async fn outbox_wait(&self) {
        self.inner.outbox.notified().await;
    }

    /// Creates a customer with what the platform prefills (see `Prefill`).
    #[allow(clippy::too_many_arguments)]
    pub async fn create_customer_prefilled(
        &self,
        scope: &Scope,
        new: NewCustomer,
        prefill: &Prefill,
        caps: &CustomerCaps,
        idem: &IdempotencyRequest,
        ctx: &AuditContext,
        finish: impl FnOnce(&Customer) -> WriteResult,
    ) -> Result<Idempotent<StoredResponse>, StoreError> {
        self.once_queueing(scope, idem, || async {
            on_backend!(self, b => b.create_customer_prefilled(scope, new, prefill, caps, idem, ctx, finish).await)
        })
        .await
    }

    /// A platform's update of a customer before submission.
    #[allow(clippy::too_many_arguments)]
    pub async fn update_customer(
        &self,
        scope: &Scope,
        customer_id: &CustomerId,
        update: &CustomerUpdate,
        caps: &CustomerCaps,
        idem: &IdempotencyRequest,
        ctx: &AuditContext,
        finish: impl FnOnce(&Customer, &serde_json::Map<String, serde_json::Value>) -> WriteResult,
    ) -> Result<Idempotent<StoredResponse>, StoreError> {
        self.once_queueing(scope, idem, || async {
            on_backend!(self, b => b.update_customer(scope, customer_id, update, caps, idem, ctx, finish).await)
        })
        .await
    }

    /// A document the platform gives before submission (its bytes already stored).
    #[allow(clippy::too_many_arguments)]
    pub async fn add_customer_document(
        &self,
        scope: &Scope,
        customer_id: &CustomerId,
        doc: &Document,
        caps: &CustomerCaps,
        idem: &IdempotencyRequest,
        ctx: &AuditContext,
        respond: impl FnOnce(&Customer) -> StoredResponse,
    ) -> Result<Idempotent<StoredResponse>, StoreError> {
        self.once(scope, idem, || async {
            on_backend!(self, b => b.add_customer_document(scope, customer_id, doc, caps, idem, ctx, respond).await)
        })
        .await
    }

    /// A step of the real flow on a test-mode customer (`NotFound` in live mode): see
    /// `Simulation`.
    #[allow(clippy::too_many_arguments)]
    pub async fn simulate(
        &self,
        scope: &Scope,
        customer_id: &CustomerId,
        simulation: Simulation<'_>,
        idem: &IdempotencyRequest,
        ctx: &AuditContext,
        events: impl FnOnce(&Customer, kyb_domain::VerificationStatus, bool) -> Vec<NewEvent>,
        respond: impl FnOnce(&Customer) -> StoredResponse,
    ) -> Result<Idempotent<StoredResponse>, StoreError> {
        let done = self
            .once(scope, idem, || async {
                on_backend!(self, b => b.simulate(scope, customer_id, simulation, idem, ctx, events, respond).await)
            })
            .await;
        // A submission queues a check job; every step may queue deliveries.
        self.outbox_written();
        self.jobs_written();
        done
    }

    /// `once`, for a write that may queue webhook deliveries: wakes the dispatcher after it.
    async fn once_queueing<
        F: std::future::Future<Output = Result<Idempotent<StoredResponse>, StoreError>>,
    >(
        &self,
        scope: &Scope,
        idem: &IdempotencyRequest,
        write: impl FnOnce() -> F,
    ) -> Result<Idempotent<StoredResponse>, StoreError> {
        let done = self.once(scope, idem, write).await;
        self.outbox_written();
        done
    }

    /// Runs an idempotent write unless a request with the same key is running in this process:
    /// that one gets `InFlight` at once; across nodes the database lock decides.
    async fn once<
        F: std::future::Future<Output = Result<Idempotent<StoredResponse>, StoreError>>,
    >(
        &self,
        scope: &Scope,
        idem: &IdempotencyRequest,
        write: impl FnOnce() -> F,
    ) -> Result<Idempotent<StoredResponse>, StoreError> {
        let Some(_running) = self
            .inner
            .inflight
            .enter(&scope.platform_id, idem.key.as_str())
        else {
            return Ok(Idempotent::InFlight);
        };
        write().await
    }

    // ----- sanctions lists -----

    pub async fn import_sanctions(
        &self,
        source: &str,
        list_date: &str,
        sha256: &str,
        entries: &[kyb_screening::ListEntry],
        at: DateTime<Utc>,
    ) -> Result<Imported, StoreError> {
        let done = on_backend!(self, b => b.import_sanctions(source, list_date, sha256, entries, at).await);
        self.jobs_written();
        done
    }

    pub async fn sanctions_lists(&self) -> Result<Vec<SanctionsList>, StoreError> {
        on_backend!(self, b => b.sanctions_lists().await)
    }

    /// A customer's documents (not deleted), oldest first.
    pub async fn documents_of(
        &self,
        platform_id: &PlatformId,
        customer_id: &CustomerId,
    ) -> Result<Vec<Document>, StoreError> {
        on_backend!(self, b => b.documents_of(platform_id, customer_id).await)
    }

    pub async fn current_sanctions(
        &self,
        source: &str,
    ) -> Result<Option<(SanctionsList, Vec<kyb_screening::ListEntry>)>, StoreError> {
        on_backend!(self, b => b.current_sanctions(source).await)
    }

    /// The current version of every source that has one.
    pub async fn current_sanctions_all(
        &self,
    ) -> Result<Vec<(SanctionsList, Vec<kyb_screening::ListEntry>)>, StoreError> {
        on_backend!(self, b => b.current_sanctions_all().await)
    }

    // ----- verdicts on sanctions hits -----

    pub async fn hit_verdicts(
        &self,
        platform_id: &PlatformId,
        customer_id: &CustomerId,
    ) -> Result<Vec<HitVerdict>, StoreError> {
        on_backend!(self, b => b.hit_verdicts(platform_id, customer_id).await)
    }

    #[allow(clippy::too_many_arguments)]
    pub async fn record_verdict(
        &self,
        platform_id: &PlatformId,
        customer_id: &CustomerId,
        operator: &Operator,
        list: &str,
        entry_id: &str,
        verdict: Verdict,
        reason: &str,
        ctx: &AuditContext,
    ) -> Result<VerdictOutcome, StoreError> {
        on_backend!(self, b => b.record_verdict(platform_id, customer_id, operator, list, entry_id, verdict, reason, ctx).await)
    }

    // ----- automated checks -----

    pub fn jobs_written(&self) {
        self.inner.jobs.notify_one();
    }

    pub async fn jobs_wait(&self) {
        self.inner.jobs.notified().await;
    }

    pub async fn claim_check_jobs(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
        max_attempts: u32,
    ) -> Result<Vec<ClaimedJob>, StoreError> {
        on_backend!(self, b => b.claim_check_jobs(owner, now, lease_until, limit, max_attempts).await)
    }

    pub async fn case_facts(
        &self,
        platform_id: &PlatformId,
        customer_id: &CustomerId,
        now: DateTime<Utc>,
    ) -> Result<CaseFacts, StoreError> {
        on_backend!(self, b => b.case_facts(platform_id, customer_id, now).await)
    }

    pub async fn complete_check_job(
        &self,
        done: &JobCompletion,
        events: impl FnOnce(&Customer, kyb_domain::VerificationStatus) -> Vec<NewEvent>,
    ) -> Result<bool, StoreError> {
        let r = on_backend!(self, b => b.complete_check_job(done, events).await);
        self.outbox_written();
        r
    }

    pub async fn retry_check_job(
        &self,
        job_id: &kyb_domain::CheckJobId,
        owner: &str,
        error: &str,
        retry: JobRetry,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        on_backend!(self, b => b.retry_check_job(job_id, owner, error, retry, now).await)
    }

    pub async fn failed_check_jobs(
        &self,
        platform_id: &PlatformId,
        customer_id: &CustomerId,
    ) -> Result<Vec<FailedJob>, StoreError> {
        on_backend!(self, b => b.failed_check_jobs(platform_id, customer_id).await)
    }

    pub async fn rerun_failed_checks(
        &self,
        platform_id: &PlatformId,
        customer_id: &CustomerId,
        operator: &Operator,
        ctx: &AuditContext,
    ) -> Result<usize, StoreError> {
        let r = on_backend!(self, b => b.rerun_failed_checks(platform_id, customer_id, operator, ctx).await);
        if r.is_ok() {
            self.jobs_written();
        }
        r
    }

    pub async fn list_checks(
        &self,
        platform_id: &PlatformId,
        customer_id: &CustomerId,
    ) -> Result<Vec<CheckResult>, StoreError> {
        on_backend!(self, b => b.list_checks(platform_id, customer_id).await)
    }

    pub async fn pending_check_jobs(&self, customer_id: &CustomerId) -> Result<i64, StoreError> {
        on_backend!(self, b => b.pending_check_jobs(customer_id).await)
    }

    pub async fn set_policy(
        &self,
        platform_id: &PlatformId,
        policy: &PlatformPolicy,
        ctx: &AuditContext,
    ) -> Result<(), StoreError> {
        on_backend!(self, b => b.set_policy(platform_id, policy, ctx).await)
    }

    // ----- a platform's brand on the hosted pages -----

    pub async fn platform_branding(
        &self,
        platform_id: &PlatformId,
    ) -> Result<kyb_domain::branding::Branding, StoreError> {
        on_backend!(self, b => b.platform_branding(platform_id).await)
    }

    /// The platform's logo, if it has one.
    pub async fn platform_logo(
        &self,
        platform_id: &PlatformId,
    ) -> Result<Option<Logo>, StoreError> {
        on_backend!(self, b => b.platform_logo(platform_id).await)
    }

    /// Changes the brand (values or logo) from the command line; refused
    /// (`branding_invalid`) when the result breaks a rule (a logo must be a PNG or JPEG of at
    /// most 256 KiB by its content).
    pub async fn change_platform_branding(
        &self,
        platform_id: &PlatformId,
        update: BrandingUpdate<'_>,
        ctx: &AuditContext,
    ) -> Result<kyb_domain::branding::Branding, StoreError> {
        on_backend!(self, b => b.change_platform_branding(platform_id, update, ctx).await)
    }

    /// The same for the platform itself, through the API: idempotent.
    pub async fn change_platform_branding_idempotent(
        &self,
        scope: &Scope,
        update: BrandingUpdate<'_>,
        idem: &IdempotencyRequest,
        ctx: &AuditContext,
        finish: impl FnOnce(&kyb_domain::branding::Branding) -> StoredResponse,
    ) -> Result<Idempotent<StoredResponse>, StoreError> {
        on_backend!(self, b => b.change_platform_branding_idempotent(scope, update, idem, ctx, finish).await)
    }

    // ----- each audit log's transparency log -----

    /// Appends up to `max` committed rows of the log to its tree, holding its lease as
    /// `holder` until `at + lease`, and stores a checkpoint of the new size signed by
    /// `sign(origin, size, root)`. A log made now is named `new_origin`; an older one keeps
    /// its name.
    #[allow(clippy::too_many_arguments)]
    pub async fn seal_audit(
        &self,
        chain: &audit::AuditChain,
        new_origin: &str,
        holder: &str,
        lease: chrono::Duration,
        max: i64,
        at: DateTime<Utc>,
        sign: impl Fn(&str, u64, kyb_tlog::Hash) -> Result<String, String>,
    ) -> Result<Sealing, StoreError> {
        on_backend!(self, b => b.seal_audit(chain, new_origin, holder, lease, max, at, sign).await)
    }

    /// Gives up the log's lease if `holder` holds it.
    pub async fn release_audit_lease(
        &self,
        chain: &audit::AuditChain,
        holder: &str,
    ) -> Result<(), StoreError> {
        on_backend!(self, b => b.release_audit_lease(chain, holder).await)
    }

    /// The log's newest checkpoint, or the one of exactly `tree_size` leaves.
    pub async fn audit_checkpoint(
        &self,
        chain: &audit::AuditChain,
        tree_size: Option<u64>,
    ) -> Result<Option<StoredCheckpoint>, StoreError> {
        on_backend!(self, b => b.audit_checkpoint(chain.key(), tree_size).await)
    }

    /// One audit row the scope may see, by id.
    pub async fn audit_row(
        &self,
        scope: &Scope,
        id: &str,
    ) -> Result<Option<audit::ChainRow>, StoreError> {
        on_backend!(self, b => b.audit_row(scope.platform_id.as_str(), scope.mode.is_live(), id).await)
    }

    /// Stored hashes of the log's tree (what a root or a proof reads; see `kyb_tlog::needed`).
    pub async fn audit_tree_hashes(
        &self,
        chain: &audit::AuditChain,
        indexes: &[u64],
    ) -> Result<kyb_tlog::Hashes, StoreError> {
        on_backend!(self, b => b.audit_tree_hashes(chain.key(), indexes).await)
    }

    /// Checks one log as of one instant, streaming it: rows, tree, checkpoints (`open(origin,
    /// note)` checks a note's signature by the key of the log of that origin and returns the
    /// size and root it signs), the old hash chain.
    pub async fn verify_audit_log(
        &self,
        chain: &audit::AuditChain,
        open: &dyn Fn(&str, &str) -> audit::Opened,
    ) -> Result<Result<audit::LogReport, audit::LogBreak>, StoreError> {
        on_backend!(self, b => b.verify_audit_log(chain, open).await)
    }

    /// Up to `limit` rows of the log in its order from `cursor` (sealed rows by place, then
    /// rows not sealed yet as written), and where the next page starts (`None`: the end).
    pub async fn audit_rows_page(
        &self,
        chain: &audit::AuditChain,
        cursor: audit::AuditCursor,
        limit: i64,
    ) -> Result<(Vec<audit::ChainRow>, Option<audit::AuditCursor>), StoreError> {
        on_backend!(self, b => b.audit_rows_page(chain, cursor, limit).await)
    }

    // ----- operator accounts (each change is a row of the installation's audit chain) -----

    /// Creates an account, limited to `platforms` (empty: every platform) in the same
    /// transaction.
    pub async fn create_operator(
        &self,
        email: &str,
        role: OperatorRole,
        password_hash: &str,
        platforms: &[PlatformId],
        ctx: &AuditContext,
    ) -> Result<Operator, StoreError> {
        on_backend!(self, b => b.create_operator(email, role, password_hash, platforms, ctx).await)
    }

    pub async fn list_operators(&self) -> Result<Vec<(Operator, bool)>, StoreError> {
        on_backend!(self, b => b.list_operators().await)
    }

    /// Disables an account (its sessions and reset links end) or enables it again.
    pub async fn set_operator_disabled(
        &self,
        email: &str,
        disabled: bool,
        ctx: &AuditContext,
    ) -> Result<Operator, StoreError> {
        on_backend!(self, b => b.set_operator_disabled(email, disabled, ctx).await)
    }

    /// Every account, with whether it is disabled and the platforms it is limited to: two
    /// queries, however many accounts.
    pub async fn operator_accounts(&self) -> Result<Vec<OperatorAccount>, StoreError> {
        let operators = self.list_operators().await?;
        let scopes = on_backend!(self, b => b.all_operator_platforms().await)?;
        Ok(operators
            .into_iter()
            .map(|(operator, disabled)| OperatorAccount {
                platforms: scopes
                    .iter()
                    .filter(|(o, _)| *o == operator.id)
                    .map(|(_, p)| p.clone())
                    .collect(),
                operator,
                disabled,
            })
            .collect())
    }

    /// The platforms an operator may see; empty: every platform.
    pub async fn operator_platforms(
        &self,
        operator_id: &str,
    ) -> Result<Vec<PlatformId>, StoreError> {
        on_backend!(self, b => b.operator_platforms(operator_id).await)
    }

    /// Limits an operator to these platforms (empty: every platform); their sessions end.
    pub async fn set_operator_platforms(
        &self,
        email: &str,
        platforms: &[PlatformId],
        ctx: &AuditContext,
    ) -> Result<Operator, StoreError> {
        on_backend!(self, b => b.set_operator_platforms(email, platforms, ctx).await)
    }

    /// Gives an operator another role; their sessions and reset links end.
    pub async fn set_operator_role(
        &self,
        email: &str,
        role: OperatorRole,
        ctx: &AuditContext,
    ) -> Result<Operator, StoreError> {
        on_backend!(self, b => b.set_operator_role(email, role, ctx).await)
    }

    /// Sets an operator's password and ends their sessions but `keep` (by id hash).
    pub async fn set_operator_password(
        &self,
        operator_id: &str,
        password_hash: &str,
        keep: Option<&str>,
        ctx: &AuditContext,
    ) -> Result<(), StoreError> {
        on_backend!(self, b => b.set_operator_password(operator_id, password_hash, keep, ctx).await)
    }

    /// Records a one-time password reset link (its token's hash) made by the context's
    /// operator; older unused ones end.
    pub async fn create_password_reset(
        &self,
        operator_id: &str,
        id_hash: &str,
        expires_at: DateTime<Utc>,
        ctx: &AuditContext,
    ) -> Result<Operator, StoreError> {
        on_backend!(self, b => b.create_password_reset(operator_id, id_hash, expires_at, ctx).await)
    }

    /// The operator a reset link is for, while it can be used.
    pub async fn find_password_reset(
        &self,
        id_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Operator>, StoreError> {
        on_backend!(self, b => b.find_password_reset(id_hash, now).await)
    }

    /// Uses a reset link; `None` when it cannot be used.
    pub async fn redeem_password_reset(
        &self,
        id_hash: &str,
        password_hash: &str,
        ctx: &AuditContext,
    ) -> Result<Option<Operator>, StoreError> {
        on_backend!(self, b => b.redeem_password_reset(id_hash, password_hash, ctx).await)
    }

    // ----- the review console -----

    pub async fn operator_for_login(
        &self,
        email: &str,
    ) -> Result<Option<OperatorLogin>, StoreError> {
        on_backend!(self, b => b.operator_for_login(email).await)
    }

    pub async fn start_console_session(
        &self,
        operator_id: &str,
        id_hash: &str,
        csrf_token: &str,
        at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        on_backend!(self, b => b.start_console_session(operator_id, id_hash, csrf_token, at, expires_at).await)
    }

    pub async fn find_console_session(
        &self,
        id_hash: &str,
        now: DateTime<Utc>,
        idle: chrono::Duration,
    ) -> Result<Option<ConsoleSession>, StoreError> {
        on_backend!(self, b => b.find_console_session(id_hash, now, idle).await)
    }

    pub async fn end_console_session(
        &self,
        id_hash: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        on_backend!(self, b => b.end_console_session(id_hash, at).await)
    }

    /// One page of the review queue, and how many cases match in all.
    pub async fn review_queue(
        &self,
        query: &QueueQuery,
        now: DateTime<Utc>,
    ) -> Result<QueuePage, StoreError> {
        on_backend!(self, b => b.review_queue(query, now).await)
    }

    pub async fn customer_platform(
        &self,
        customer_id: &CustomerId,
    ) -> Result<Option<(PlatformId, String)>, StoreError> {
        on_backend!(self, b => b.customer_platform(customer_id).await)
    }

    /// A case's decisions, oldest first.
    pub async fn decisions(
        &self,
        platform_id: &PlatformId,
        customer_id: &CustomerId,
    ) -> Result<Vec<DecisionRecord>, StoreError> {
        on_backend!(self, b => b.decisions(platform_id, customer_id).await)
    }

    pub async fn clear_review_flag(
        &self,
        platform_id: &PlatformId,
        customer_id: &CustomerId,
        operator: &Operator,
        note: &str,
        ctx: &AuditContext,
    ) -> Result<(), StoreError> {
        on_backend!(self, b => b.clear_review_flag(platform_id, customer_id, operator, note, ctx).await)
    }

    /// Where an approval of the case stands for `operator`: the refusal it would meet, if any
    /// (the rule of [`Store::decide`], read only, so the console offers only what it would
    /// take), and the admins' approvals so far.
    pub async fn approval_standing(
        &self,
        platform_id: &PlatformId,
        customer_id: &CustomerId,
        operator: &Operator,
        now: DateTime<Utc>,
    ) -> Result<ApprovalStanding, StoreError> {
        on_backend!(self, b => b.approval_standing(platform_id, customer_id, operator, now).await)
    }

    pub async fn decide(
        &self,
        platform_id: &PlatformId,
        customer_id: &CustomerId,
        operator: &Operator,
        action: DecisionAction,
        ctx: &AuditContext,
        events: impl FnOnce(&Customer, kyb_domain::VerificationStatus, bool) -> Vec<NewEvent>,
    ) -> Result<DecisionOutcome, StoreError> {
        let done = on_backend!(self, b => b.decide(platform_id, customer_id, operator, action, ctx, events).await);
        self.outbox_written();
        done
    }

    // ----- case work -----

    /// Who works on the case, if anyone.
    pub async fn assignee(
        &self,
        platform_id: &PlatformId,
        customer_id: &CustomerId,
    ) -> Result<Option<Assignee>, StoreError> {
        on_backend!(self, b => b.assignee(platform_id, customer_id).await)
    }

    /// Changes who works on a case (see [`Assign`]), with its audit row; the new assignee.
    pub async fn assign_case(
        &self,
        platform_id: &PlatformId,
        customer_id: &CustomerId,
        actor: &Operator,
        change: &Assign,
        ctx: &AuditContext,
    ) -> Result<Option<Assignee>, StoreError> {
        on_backend!(self, b => b.assign_case(platform_id, customer_id, actor, change, ctx).await)
    }

    /// Adds an operator's internal note to a case; the audit row keeps only its digest.
    pub async fn add_case_note(
        &self,
        platform_id: &PlatformId,
        customer_id: &CustomerId,
        operator: &Operator,
        body: &str,
        ctx: &AuditContext,
    ) -> Result<CaseNote, StoreError> {
        on_backend!(self, b => b.add_case_note(platform_id, customer_id, operator, body, ctx).await)
    }

    /// What happened to a case, from the audit log, oldest first.
    pub async fn case_timeline(
        &self,
        platform_id: &PlatformId,
        customer_id: &CustomerId,
    ) -> Result<Vec<TimelineEntry>, StoreError> {
        on_backend!(self, b => b.case_timeline(platform_id, customer_id).await)
    }

    pub async fn case_notes(
        &self,
        platform_id: &PlatformId,
        customer_id: &CustomerId,
    ) -> Result<Vec<CaseNote>, StoreError> {
        on_backend!(self, b => b.case_notes(platform_id, customer_id).await)
    }

    // ----- webhooks -----

    pub async fn create_endpoint(
        &self,
        scope: &Scope,
        new: NewEndpoint,
        idem: &IdempotencyRequest,
        ctx: &AuditContext,
        finish: impl FnOnce(&WebhookEndpoint) -> StoredResponse,
    ) -> Result<Idempotent<StoredResponse>, StoreError> {
        self.once(scope, idem, || async {
            on_backend!(self, b => b.create_endpoint(scope, new, idem, ctx, finish).await)
        })
        .await
    }

    pub async fn get_endpoint(
        &self,
        scope: &Scope,
        id: &WebhookEndpointId,
    ) -> Result<Option<WebhookEndpoint>, StoreError> {
        on_backend!(self, b => b.get_endpoint(scope, id).await)
    }

    pub async fn list_endpoints(
        &self,
        scope: &Scope,
        limit: u32,
        starting_after: Option<&WebhookEndpointId>,
    ) -> Result<(Vec<WebhookEndpoint>, bool), StoreError> {
        on_backend!(self, b => b.list_endpoints(scope, limit, starting_after).await)
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
        let done = self
            .once(scope, idem, || async {
                on_backend!(self, b => b.update_endpoint(scope, id, patch, idem, ctx, finish).await)
            })
            .await;
        // Enabling an endpoint makes its waiting deliveries due.
        self.outbox_written();
        done
    }

    pub async fn delete_endpoint(
        &self,
        scope: &Scope,
        id: &WebhookEndpointId,
        idem: &IdempotencyRequest,
        ctx: &AuditContext,
        finish: impl FnOnce(&WebhookEndpoint) -> StoredResponse,
    ) -> Result<Idempotent<StoredResponse>, StoreError> {
        self.once(scope, idem, || async {
            on_backend!(self, b => b.delete_endpoint(scope, id, idem, ctx, finish).await)
        })
        .await
    }

    pub async fn rotate_endpoint_secret(
        &self,
        scope: &Scope,
        id: &WebhookEndpointId,
        rotation: SecretRotation,
        idem: &IdempotencyRequest,
        ctx: &AuditContext,
        finish: impl FnOnce(&WebhookEndpoint) -> StoredResponse,
    ) -> Result<Idempotent<StoredResponse>, StoreError> {
        self.once(scope, idem, || async {
            on_backend!(self, b => b.rotate_endpoint_secret(scope, id, rotation, idem, ctx, finish).await)
        })
        .await
    }

    pub async fn list_deliveries(
        &self,
        scope: &Scope,
        endpoint_id: &WebhookEndpointId,
        query: &ListDeliveries,
    ) -> Result<(Vec<Delivery>, bool), StoreError> {
        on_backend!(self, b => b.list_deliveries(scope, endpoint_id, query).await)
    }

    pub async fn get_delivery(
        &self,
        scope: &Scope,
        endpoint_id: &WebhookEndpointId,
        id: &DeliveryId,
    ) -> Result<Option<Delivery>, StoreError> {
        on_backend!(self, b => b.get_delivery(scope, endpoint_id, id).await)
    }

    pub async fn list_attempts(
        &self,
        scope: &Scope,
        endpoint_id: &WebhookEndpointId,
        delivery_id: &DeliveryId,
    ) -> Result<Vec<Attempt>, StoreError> {
        on_backend!(self, b => b.list_attempts(scope, endpoint_id, delivery_id).await)
    }

    pub async fn retry_delivery(
        &self,
        scope: &Scope,
        endpoint_id: &WebhookEndpointId,
        id: &DeliveryId,
        idem: &IdempotencyRequest,
        ctx: &AuditContext,
        finish: impl FnOnce(&Delivery) -> StoredResponse,
    ) -> Result<Idempotent<StoredResponse>, StoreError> {
        self.once_queueing(scope, idem, || async {
            on_backend!(self, b => b.retry_delivery(scope, endpoint_id, id, idem, ctx, finish).await)
        })
        .await
    }

    pub async fn send_test_event(
        &self,
        scope: &Scope,
        endpoint_id: &WebhookEndpointId,
        event: NewEvent,
        idem: &IdempotencyRequest,
        ctx: &AuditContext,
        finish: impl FnOnce(&Delivery) -> StoredResponse,
    ) -> Result<Idempotent<StoredResponse>, StoreError> {
        self.once_queueing(scope, idem, || async {
            on_backend!(self, b => b.send_test_event(scope, endpoint_id, event, idem, ctx, finish).await)
        })
        .await
    }

    /// See [`Backend::replay_events`].
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
        self.once_queueing(scope, idem, || async {
            on_backend!(self, b => b.replay_events(scope, endpoint_id, from, limit, every, idem, ctx, finish).await)
        })
        .await
    }

    pub async fn claim_deliveries(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<ClaimedDelivery>, StoreError> {
        on_backend!(self, b => b.claim_deliveries(owner, now, lease_until, limit).await)
    }

    pub async fn record_attempt(&self, report: &AttemptReport) -> Result<bool, StoreError> {
        on_backend!(self, b => b.record_attempt(report).await)
    }

    pub async fn get_customer(
        &self,
        scope: &Scope,
        id: &CustomerId,
        now: DateTime<Utc>,
    ) -> Result<Option<Customer>, StoreError> {
        on_backend!(self, b => b.get_customer(scope, id, now).await)
    }

    pub async fn list_customers(
        &self,
        scope: &Scope,
        query: &ListCustomers,
        now: DateTime<Utc>,
    ) -> Result<CustomerPage, StoreError> {
        on_backend!(self, b => b.list_customers(scope, query, now).await)
    }

    pub async fn count_customers(&self, scope: &Scope) -> Result<i64, StoreError> {
        on_backend!(self, b => b.count_customers(scope).await)
    }

    pub async fn purge_idempotency(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        on_backend!(self, b => b.purge_idempotency(now).await)
    }

    pub async fn count_idempotency_records(&self) -> Result<i64, StoreError> {
        on_backend!(self, b => b.count_idempotency_records().await)
    }

    pub async fn list_audit(&self, platform_id: &PlatformId) -> Result<Vec<AuditRow>, StoreError> {
        on_backend!(self, b => b.list_audit(platform_id).await)
    }

    pub async fn list_events_page(
        &self,
        scope: &Scope,
        query: &ListEvents,
    ) -> Result<(Vec<serde_json::Value>, bool), StoreError> {
        on_backend!(self, b => b.list_events_page(scope, query).await)
    }

    pub async fn get_event(
        &self,
        scope: &Scope,
        id: &kyb_domain::EventId,
    ) -> Result<Option<serde_json::Value>, StoreError> {
        on_backend!(self, b => b.get_event(scope, id).await)
    }

    /// Every row of a log in its order (sealed, then pending), with its old chain's head: all
    /// in memory, for tests and small logs (export and verify read pages).
    pub async fn audit_chain(
        &self,
        chain: &audit::AuditChain,
    ) -> Result<(Vec<audit::ChainRow>, Option<(i64, String)>), StoreError> {
        on_backend!(self, b => b.audit_chain(chain).await)
    }

    /// Every audit chain: the installation's, then each platform's.
    pub async fn audit_chains(&self) -> Result<Vec<audit::AuditChain>, StoreError> {
        let mut chains = vec![audit::AuditChain::Installation];
        chains.extend(
            self.list_platforms()
                .await?
                .into_iter()
                .map(|p| audit::AuditChain::Platform(p.id)),
        );
        Ok(chains)
    }

    pub async fn list_audit_page(
        &self,
        scope: &Scope,
        limit: u32,
        starting_after: Option<&str>,
    ) -> Result<(Vec<audit::ChainRow>, bool), StoreError> {
        on_backend!(self, b => b.list_audit_page(scope, limit, starting_after).await)
    }

    pub async fn list_events(&self, scope: &Scope) -> Result<Vec<EventRow>, StoreError> {
        on_backend!(self, b => b.list_events(scope).await)
    }

    // ----- the hosted flow -----

    pub async fn find_link(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<LinkView>, StoreError> {
        on_backend!(self, b => b.find_link(token_hash, now).await)
    }

    pub async fn start_session(
        &self,
        token_hash: &str,
        new: &NewSession,
        ctx: &AuditContext,
        events: impl FnOnce(&Customer) -> Vec<NewEvent>,
    ) -> Result<Result<Session, LinkState>, StoreError> {
        let done = on_backend!(self, b => b.start_session(token_hash, new, ctx, events).await);
        self.outbox_written();
        done
    }

    /// A session by the hash of its cookie, whatever its state.
    pub async fn session_trace(
        &self,
        id_hash: &str,
        now: DateTime<Utc>,
        idle: chrono::Duration,
    ) -> Result<Option<SessionTrace>, StoreError> {
        on_backend!(self, b => b.session_trace(id_hash, now, idle).await)
    }

    pub async fn find_session(
        &self,
        id_hash: &str,
        now: DateTime<Utc>,
        idle: chrono::Duration,
    ) -> Result<Option<Session>, StoreError> {
        on_backend!(self, b => b.find_session(id_hash, now, idle).await)
    }

    /// The customer confirms an item asked for again as still correct (nothing is written for
    /// an item not asked for, or confirmed already).
    pub async fn confirm_requested_item(
        &self,
        session: &Session,
        item: &str,
        ctx: &AuditContext,
    ) -> Result<(), StoreError> {
        on_backend!(self, b => b.confirm_requested_item(session, item, ctx).await)
    }

    pub async fn save_profile(
        &self,
        session: &Session,
        profile: &kyb_domain::kyb::BusinessProfile,
        ctx: &AuditContext,
    ) -> Result<(), StoreError> {
        on_backend!(self, b => b.save_profile(session, profile, ctx).await)
    }

    pub async fn list_people(&self, session: &Session) -> Result<Vec<Person>, StoreError> {
        on_backend!(self, b => b.list_people(session).await)
    }

    /// Adds or changes a person; a new one beyond `caps.max_people` is refused
    /// (`too_many_people`).
    pub async fn upsert_person(
        &self,
        session: &Session,
        person: &Person,
        caps: &CustomerCaps,
        ctx: &AuditContext,
    ) -> Result<(), StoreError> {
        on_backend!(self, b => b.upsert_person(session, person, caps, ctx).await)
    }

    pub async fn delete_person(
        &self,
        session: &Session,
        person_id: &str,
        ctx: &AuditContext,
    ) -> Result<(), StoreError> {
        on_backend!(self, b => b.delete_person(session, person_id, ctx).await)
    }

    pub async fn list_documents(&self, session: &Session) -> Result<Vec<Document>, StoreError> {
        on_backend!(self, b => b.list_documents(session).await)
    }

    /// Records an uploaded document; beyond `caps` (count or total size) it is refused
    /// (`too_many_documents`, `documents_too_large`).
    pub async fn add_document(
        &self,
        session: &Session,
        doc: &Document,
        caps: &CustomerCaps,
        ctx: &AuditContext,
    ) -> Result<(), StoreError> {
        on_backend!(self, b => b.add_document(session, doc, caps, ctx).await)
    }

    pub async fn delete_document(
        &self,
        session: &Session,
        doc_id: &str,
        ctx: &AuditContext,
    ) -> Result<Document, StoreError> {
        on_backend!(self, b => b.delete_document(session, doc_id, ctx).await)
    }

    pub async fn submit(
        &self,
        session: &Session,
        attested_by: &str,
        ctx: &AuditContext,
        missing: impl FnOnce(&Customer) -> Vec<String>,
        events: impl FnOnce(&Customer, kyb_domain::VerificationStatus) -> Vec<NewEvent>,
    ) -> Result<Customer, StoreError> {
        let done =
            on_backend!(self, b => b.submit(session, attested_by, ctx, missing, events).await);
        self.outbox_written();
        done
    }
}

/// A database URL with any password replaced, safe to print.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        Ok(u) => u.to_string(),
        Err(_) => url.split('@').next_back().unwrap_or_default().to_owned(),
    }
}
