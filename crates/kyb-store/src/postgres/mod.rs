//! The PostgreSQL backend: a connection pool; concurrent writers are ordinary transactions,
//! and idempotency keys in flight are held with transaction-scoped advisory locks so that
//! several nodes behave like one.

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use std::str::FromStr;

use crate::StoreError;

pub type Db = sqlx::Postgres;
pub const BACKEND: &str = "postgres";

// The same source compiled for each database on purpose: see repo.rs.
#[allow(clippy::duplicate_mod)]
#[path = "../repo.rs"]
mod repo;
pub use repo::Backend;

#[allow(clippy::duplicate_mod)]
#[path = "../repo_hosted.rs"]
mod repo_hosted;

#[allow(clippy::duplicate_mod)]
#[path = "../repo_webhooks.rs"]
mod repo_webhooks;

#[allow(clippy::duplicate_mod)]
#[path = "../repo_sanctions.rs"]
mod repo_sanctions;

#[allow(clippy::duplicate_mod)]
#[path = "../repo_checks.rs"]
mod repo_checks;

#[allow(clippy::duplicate_mod)]
#[path = "../repo_verdicts.rs"]
mod repo_verdicts;

#[allow(clippy::duplicate_mod)]
#[path = "../repo_console.rs"]
mod repo_console;

#[allow(clippy::duplicate_mod)]
#[path = "../repo_casework.rs"]
mod repo_casework;

#[allow(clippy::duplicate_mod)]
#[path = "../repo_queue.rs"]
mod repo_queue;

#[allow(clippy::duplicate_mod)]
#[path = "../repo_operators.rs"]
mod repo_operators;

#[allow(clippy::duplicate_mod)]
#[path = "../repo_scrub.rs"]
mod repo_scrub;

#[allow(clippy::duplicate_mod)]
#[path = "../repo_branding.rs"]
mod repo_branding;
#[allow(clippy::duplicate_mod)]
#[path = "../repo_tlog.rs"]
mod repo_tlog;

#[allow(clippy::duplicate_mod)]
#[path = "../repo_sandbox.rs"]
mod repo_sandbox;

#[allow(clippy::duplicate_mod)]
#[path = "../repo_prefill.rs"]
mod repo_prefill;

pub(crate) static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// PostgreSQL needs no in-process gate: row locks and advisory locks do the work.
pub(crate) struct WriteGate;

/// Nothing to hold; a type of its own so that dropping it reads like the SQLite guard.
pub(crate) struct WriteGuard;

impl WriteGate {
    pub(crate) fn new() -> Self {
        Self
    }

    pub(crate) async fn enter(&self) -> WriteGuard {
        WriteGuard
    }

    /// Runs `body` in a transaction of its own: committed if it keeps its work, rolled back
    /// otherwise. (SQLite's gate groups such writes; PostgreSQL has concurrent writers.)
    pub(crate) async fn grouped<T, F, Fut>(
        &self,
        pool: &sqlx::Pool<Db>,
        body: F,
    ) -> Result<T, StoreError>
    where
        F: FnOnce(sqlx::Transaction<'static, Db>) -> Fut,
        Fut: std::future::Future<
            Output = (
                sqlx::Transaction<'static, Db>,
                Result<crate::Step<T>, StoreError>,
            ),
        >,
    {
        let tx = pool.begin_with(BEGIN_WRITE).await?;
        let (tx, result) = body(tx).await;
        match result {
            Ok(crate::Step::Keep(value)) => {
                tx.commit().await?;
                Ok(value)
            }
            ended => {
                // Now, not when the dropped connection is next used: until then PostgreSQL
                // holds the idempotency key's advisory lock, and a retry right after this one
                // would be told the key is still in use.
                if let Err(e) = tx.rollback().await {
                    tracing::warn!(error = %e, "rolling back a write failed");
                }
                ended.map(crate::Step::into_inner)
            }
        }
    }
}

/// Two statements of a transaction sent as one (one round trip): `{BATCH_OPEN}first{BATCH_THEN}second`.
/// PostgreSQL runs a data-modifying statement inside `WITH` (whether or not the second reads it).
pub(crate) const BATCH_OPEN: &str = "WITH first AS (";
pub(crate) const BATCH_THEN: &str = ") ";

pub(crate) const BEGIN_WRITE: &str = "BEGIN";
/// A read-only transaction that sees the database as of one instant: one snapshot for every
/// statement of the transaction.
pub(crate) const BEGIN_SNAPSHOT: &str = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";

pub async fn connect(url: &str, store: &crate::StoreOptions) -> Result<Backend, StoreError> {
    let statement_ms = store.statement_timeout.as_millis().to_string();
    let options =
        PgConnectOptions::from_str(url)?.options([("statement_timeout", statement_ms.as_str())]);
    // A ping before each checkout (one local round trip, well under a millisecond): a
    // connection the server dropped (restart, failover, pg_terminate_backend) is replaced
    // before a request uses it, so no request fails once the database is back.
    let pool = PgPoolOptions::new()
        .max_connections(32)
        .test_before_acquire(true)
        .acquire_timeout(store.acquire_timeout)
        // A connection that comes back still inside a transaction (its rollback failed, e.g.
        // on a full disk) is closed, not pooled: otherwise every later `BEGIN` on it fails.
        .after_release(|conn, _| {
            use sqlx::Connection;
            let clean = !conn.is_in_transaction();
            Box::pin(async move { Ok(clean) })
        })
        .connect_with(options)
        .await?;
    Ok(Backend::new(pool))
}

/// Locks the selected rows of one table of a query (not the nullable side of its joins).
pub(crate) fn lock_rows(alias: &str) -> String {
    format!(" FOR UPDATE OF {alias}")
}

/// Takes the key's advisory lock for the rest of the transaction, without waiting: `false`
/// means another transaction (on any node) is running a request with this key right now.
pub(crate) async fn try_lock_key(
    tx: &mut sqlx::Transaction<'static, Db>,
    lock_id: i64,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
        .bind(lock_id)
        .fetch_one(&mut **tx)
        .await
}

/// Locks the claimed rows and passes over rows another worker holds locked.
pub(crate) fn skip_locked(alias: &str) -> String {
    format!(" FOR UPDATE OF {alias} SKIP LOCKED")
}
