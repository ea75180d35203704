//! The SQLite backend: one file under the data directory, WAL journal, and one writer at a time
//! inside the process (the write gate, `gate.rs`) so concurrent requests queue instead of failing
//! with `SQLITE_BUSY`, and idempotent writes queued together commit as one transaction.
//! `BEGIN IMMEDIATE` keeps other processes (the CLI) safe as well.

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::str::FromStr;
use std::time::Duration;

use crate::StoreError;

pub type Db = sqlx::Sqlite;
pub const BACKEND: &str = "sqlite";

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

pub(crate) static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

mod gate;
pub(crate) use gate::{WriteGate, WriteGuard};

/// Two statements of a transaction sent as one (one hand-off to the connection's thread):
/// `{BATCH_OPEN}first{BATCH_THEN}second`. The driver prepares and runs each statement of the text in
/// turn, the `?` parameters numbered across both.
pub(crate) const BATCH_OPEN: &str = "";
pub(crate) const BATCH_THEN: &str = "; ";

pub(crate) const BEGIN_WRITE: &str = "BEGIN IMMEDIATE";
/// A read-only transaction that sees the database as of one instant: a deferred transaction
/// reads one snapshot (WAL) from its first read.
pub(crate) const BEGIN_SNAPSHOT: &str = "BEGIN";

pub async fn connect(url: &str, store: &crate::StoreOptions) -> Result<Backend, StoreError> {
    // FULL syncs the WAL at every commit: what was acknowledged survives an OS crash.
    let synchronous = if store.sqlite_durable {
        SqliteSynchronous::Full
    } else {
        SqliteSynchronous::Normal
    };
    let options = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(synchronous)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10));
    // A local file has no connection to lose: skip the ping before each checkout.
    let mut pool = SqlitePoolOptions::new()
        .max_connections(8)
        .test_before_acquire(false)
        .acquire_timeout(store.acquire_timeout)
        // A connection that comes back still inside a transaction (its rollback failed, e.g.
        // on a full disk) is closed, not pooled: otherwise every later `BEGIN` on it fails.
        .after_release(|conn, _| {
            use sqlx::Connection;
            let clean = !conn.is_in_transaction();
            Box::pin(async move { Ok(clean) })
        });
    if let Some(limit) = store.sqlite_page_limit.clone() {
        pool = pool.before_acquire(move |conn, _| {
            let pragma = format!("PRAGMA max_page_count = {}", limit.pages());
            Box::pin(async move {
                sqlx::query(&pragma).execute(&mut *conn).await?;
                Ok(true)
            })
        });
    }
    let pool = pool.connect_with(options).await?;
    Ok(Backend::new(pool))
}

/// SQLite serialises writers already (and the write gate serialises them in the process), so a
/// second request with the same idempotency key cannot be inside a transaction at the same time.
pub(crate) async fn try_lock_key(
    _tx: &mut sqlx::Transaction<'static, Db>,
    _lock_id: i64,
) -> Result<bool, sqlx::Error> {
    Ok(true)
}

/// `SELECT ... FOR UPDATE` has no meaning in SQLite, whose writers are already serialised.
pub(crate) fn lock_rows(_alias: &str) -> String {
    String::new()
}

/// SQLite has one writer at a time: a claim cannot meet another claim's locks.
pub(crate) fn skip_locked(_alias: &str) -> String {
    String::new()
}
