//! SQLite's one writer, and group commit.
//!
//! SQLite runs one write transaction at a time. Every write of the process queues at the
//! [`WriteGate`] (an async mutex, fair: first come, first served) instead of spinning in SQLite's
//! busy handler. Idempotent writes (the API's) that queue behind each other share a
//! transaction: the first begins it, each runs its work inside it (the second and later behind a
//! savepoint, so that a write that fails or ends early takes back only its own statements), and
//! the transaction is committed once for all of them, so a burst of creates pays for one WAL sync
//! and one `BEGIN`/`COMMIT` instead of one each. No write answers before the commit that holds
//! it: each member waits for the group's outcome, and if the commit fails every member answers
//! with that failure (nothing of the group was kept).
//!
//! Who commits: a member whose work is done leaves the transaction open for the next only if
//! another write is queued and the group has room; otherwise it commits. A member left waiting
//! also queues for the gate, so if the write queued behind it went away, it commits the group
//! itself when its turn comes. A write that does not join (any other write) commits an open group
//! before it begins its own transaction. Every change to the group happens under the gate.
//!
//! A member whose request is dropped in the middle of its work (its client went away) drops the
//! shared transaction with it: SQLite rolls it back and the other members answer that nothing
//! was committed (503; their retries with the same idempotency keys are safe).

use sqlx::Pool;
use std::future::Future;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::{watch, Mutex, OwnedMutexGuard};

use super::{Db, BEGIN_WRITE};
use crate::{Step, StoreError};

type Tx = sqlx::Transaction<'static, Db>;

/// At most this many writes share a transaction: a member's answer waits for the group's
/// commit, so the group is kept small.
const MAX_GROUP: usize = 16;

/// What a member learns of its group's commit: `Err` carries the reason, as text, to every
/// member (a `sqlx::Error` is not `Clone`).
type Outcome = Option<Result<(), Arc<str>>>;

pub(crate) struct WriteGate {
    slot: Arc<Mutex<Slot>>,
    /// Writes waiting for the gate to do their own work (not members waiting for a commit).
    queued: Arc<AtomicUsize>,
    next_group: AtomicU64,
}

/// The gate's content: the open group, if any, whose transaction waits for the next member.
#[derive(Default)]
pub(crate) struct Slot(Option<Group>);

pub(crate) type WriteGuard = Option<OwnedMutexGuard<Slot>>;

struct Group {
    id: u64,
    tx: Tx,
    members: usize,
    done: watch::Sender<Outcome>,
}

impl Group {
    /// Commits the group and tells its members; the committer learns the same.
    async fn commit(self) -> Result<(), StoreError> {
        let result = self.tx.commit().await;
        let outcome = match &result {
            Ok(()) => Ok(()),
            Err(e) => Err(Arc::from(e.to_string())),
        };
        self.done.send_replace(Some(outcome));
        result.map_err(broken)
    }
}

/// The group's transaction failed as a whole (a savepoint, its rollback or the commit): nothing
/// of the group is kept, which is what each member answers (503: its retry can succeed).
fn broken(e: sqlx::Error) -> StoreError {
    let unavailable = StoreError::Database(e);
    if unavailable.is_unavailable() {
        return unavailable;
    }
    tracing::error!(error = %unavailable, cause = ?unavailable, "a group of writes failed as a whole");
    StoreError::NotCommitted(Arc::from(format!("{unavailable:?}")))
}

impl Slot {
    /// Commits the open group, if any: the holder of the gate is not going to join it.
    async fn flush(&mut self) {
        if let Some(group) = self.0.take() {
            if let Err(e) = group.commit().await {
                tracing::warn!(error = %e, "committing a group of writes failed; its members were told");
            }
        }
    }
}

impl WriteGate {
    pub(crate) fn new() -> Self {
        Self {
            slot: Arc::new(Mutex::new(Slot::default())),
            queued: Arc::new(AtomicUsize::new(0)),
            next_group: AtomicU64::new(0),
        }
    }

    /// Waits for the gate, counted as a queued write while it waits.
    async fn queue(&self) -> OwnedMutexGuard<Slot> {
        struct Queued<'a>(&'a AtomicUsize);
        impl Drop for Queued<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::SeqCst);
            }
        }
        self.queued.fetch_add(1, Ordering::SeqCst);
        let _queued = Queued(&self.queued);
        self.slot.clone().lock_owned().await
    }

    /// The gate for a write of its own transaction: an open group is committed first.
    pub(crate) async fn enter(&self) -> WriteGuard {
        let mut slot = self.queue().await;
        slot.flush().await;
        Some(slot)
    }

    /// Runs `body` in a transaction shared with the idempotent writes queued behind it (see the
    /// module's notes) and answers once that transaction is committed: `Keep`'s value if the
    /// commit succeeds; `Discard` and `Err` take back the body's statements first.
    pub(crate) async fn grouped<T, F, Fut>(&self, pool: &Pool<Db>, body: F) -> Result<T, StoreError>
    where
        F: FnOnce(Tx) -> Fut,
        Fut: Future<Output = (Tx, Result<Step<T>, StoreError>)>,
    {
        let mut slot = self.queue().await;
        let (mut group, savepoint) = match slot.0.take() {
            Some(group) if group.members < MAX_GROUP => {
                let savepoint = format!("member_{}", group.members);
                (group, Some(savepoint))
            }
            full => {
                if let Some(group) = full {
                    Slot(Some(group)).flush().await;
                }
                let tx = pool.begin_with(BEGIN_WRITE).await?;
                let (done, _) = watch::channel(None);
                let id = self.next_group.fetch_add(1, Ordering::Relaxed);
                (
                    Group {
                        id,
                        tx,
                        members: 0,
                        done,
                    },
                    None,
                )
            }
        };
        let done = group.done.subscribe();
        let id = group.id;
        if let Some(savepoint) = &savepoint {
            // On failure the group's transaction is dropped here (rolled back): its members
            // learn that nothing was committed.
            sqlx::query(&format!("SAVEPOINT {savepoint}"))
                .execute(&mut *group.tx)
                .await
                .map_err(broken)?;
        }
        let Group {
            tx,
            members,
            done: sender,
            ..
        } = group;
        let (tx, result) = body(tx).await;
        let mut group = Group {
            id,
            tx,
            members: members + 1,
            done: sender,
        };
        let result = match result {
            Ok(Step::Keep(value)) => Ok(value),
            ended => {
                match &savepoint {
                    Some(savepoint) => {
                        // Fails when SQLite has already rolled the whole transaction back
                        // (it may, on a full disk or an I/O error): then nothing of the group
                        // is left, and every member, this one too, is told so.
                        sqlx::query(&format!("ROLLBACK TO {savepoint}"))
                            .execute(&mut *group.tx)
                            .await
                            .map_err(broken)?;
                    }
                    // The first member alone in its transaction: nothing else to keep.
                    None => {
                        if let Err(e) = group.tx.rollback().await {
                            tracing::warn!(error = %e, "rolling back a write failed");
                        }
                        return ended.map(Step::into_inner);
                    }
                }
                ended.map(Step::into_inner)
            }
        };
        if self.queued.load(Ordering::SeqCst) > 0 && group.members < MAX_GROUP {
            slot.0 = Some(group);
            drop(slot);
            self.wait_for_commit(id, done).await?;
        } else {
            group.commit().await?;
        }
        result
    }

    /// A member's wait for its group's commit, which it makes itself if its turn at the gate
    /// comes first.
    async fn wait_for_commit(
        &self,
        id: u64,
        mut done: watch::Receiver<Outcome>,
    ) -> Result<(), StoreError> {
        let told = |outcome: Outcome| match outcome {
            Some(Ok(())) => Ok(()),
            Some(Err(reason)) => Err(StoreError::NotCommitted(reason)),
            None => Err(StoreError::NotCommitted(Arc::from(
                "a write of the same group was abandoned",
            ))),
        };
        let mut slot = tokio::select! {
            changed = done.wait_for(Option::is_some) => {
                let outcome = changed.ok().and_then(|outcome| outcome.clone());
                return told(outcome);
            }
            slot = self.slot.clone().lock_owned() => slot,
        };
        let outcome = done.borrow().clone();
        if outcome.is_some() {
            return told(outcome);
        }
        match slot.0.take() {
            Some(group) if group.id == id => group.commit().await,
            // Every change to a group happens under the gate, and a group leaves the slot only
            // to be committed (which tells its members) or joined (and put back or committed
            // before the gate is released); so the group is gone only if a member dropped it.
            other => {
                slot.0 = other;
                told(None)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    //! Groups formed on purpose: the first write holds the gate until a second one is queued
    //! behind it, so the second joins its transaction.
    use super::*;
    use sqlx::sqlite::SqlitePoolOptions;
    use tokio::sync::oneshot;

    async fn pool() -> Pool<Db> {
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect("sqlite::memory:")
            .await
            .unwrap();
        sqlx::query("CREATE TABLE t (v TEXT NOT NULL)")
            .execute(&pool)
            .await
            .unwrap();
        pool
    }

    async fn insert(tx: &mut Tx, v: &str) {
        sqlx::query("INSERT INTO t (v) VALUES ($1)")
            .bind(v)
            .execute(&mut **tx)
            .await
            .unwrap();
    }

    async fn rows(pool: &Pool<Db>) -> Vec<String> {
        sqlx::query_scalar("SELECT v FROM t ORDER BY v")
            .fetch_all(pool)
            .await
            .unwrap()
    }

    /// A write that keeps "a" and holds the gate until `go` is sent; returned once it holds it.
    async fn hold_first(
        gate: &Arc<WriteGate>,
        pool: &Pool<Db>,
    ) -> (
        tokio::task::JoinHandle<Result<&'static str, StoreError>>,
        oneshot::Sender<()>,
    ) {
        let (go, wait) = oneshot::channel::<()>();
        let first = tokio::spawn({
            let (gate, pool) = (gate.clone(), pool.clone());
            async move {
                gate.grouped(&pool, |mut tx| async move {
                    insert(&mut tx, "a").await;
                    wait.await.unwrap();
                    (tx, Ok(Step::Keep("first")))
                })
                .await
            }
        });
        while gate.slot.try_lock().is_ok() {
            tokio::task::yield_now().await;
        }
        (first, go)
    }

    /// A write of `body`, returned once it is queued at the gate.
    async fn queue_second<F, Fut>(
        gate: &Arc<WriteGate>,
        pool: &Pool<Db>,
        body: F,
    ) -> tokio::task::JoinHandle<Result<&'static str, StoreError>>
    where
        F: FnOnce(Tx) -> Fut + Send + 'static,
        Fut: Future<Output = (Tx, Result<Step<&'static str>, StoreError>)> + Send,
    {
        let second = tokio::spawn({
            let (gate, pool) = (gate.clone(), pool.clone());
            async move { gate.grouped(&pool, body).await }
        });
        while gate.queued.load(Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
        second
    }

    /// Runs the first write (which keeps "a") and, queued behind it while it works, `second`;
    /// both answers.
    async fn pair<F, Fut>(
        gate: Arc<WriteGate>,
        pool: &Pool<Db>,
        second: F,
    ) -> (
        Result<&'static str, StoreError>,
        Result<&'static str, StoreError>,
    )
    where
        F: FnOnce(Tx) -> Fut + Send + 'static,
        Fut: Future<Output = (Tx, Result<Step<&'static str>, StoreError>)> + Send,
    {
        let (first, go) = hold_first(&gate, pool).await;
        let second = queue_second(&gate, pool, second).await;
        go.send(()).unwrap();
        (first.await.unwrap(), second.await.unwrap())
    }

    #[tokio::test]
    async fn a_member_that_ends_early_takes_back_only_its_own_work() {
        let (gate, pool) = (Arc::new(WriteGate::new()), pool().await);
        let (first, second) = pair(gate, &pool, |mut tx| async move {
            insert(&mut tx, "b").await;
            (tx, Ok(Step::Discard("second")))
        })
        .await;
        assert_eq!(first.unwrap(), "first");
        assert_eq!(second.unwrap(), "second");
        assert_eq!(rows(&pool).await, ["a"]);
    }

    #[tokio::test]
    async fn a_member_that_fails_takes_back_only_its_own_work() {
        let (gate, pool) = (Arc::new(WriteGate::new()), pool().await);
        let (first, second) = pair(gate, &pool, |mut tx| async move {
            insert(&mut tx, "b").await;
            (tx, Err(StoreError::NotFound))
        })
        .await;
        assert_eq!(first.unwrap(), "first");
        assert!(matches!(second, Err(StoreError::NotFound)));
        assert_eq!(rows(&pool).await, ["a"]);
    }

    #[tokio::test]
    async fn both_members_are_kept_in_one_commit() {
        let (gate, pool) = (Arc::new(WriteGate::new()), pool().await);
        let (first, second) = pair(gate.clone(), &pool, |mut tx| async move {
            insert(&mut tx, "b").await;
            (tx, Ok(Step::Keep("second")))
        })
        .await;
        assert_eq!((first.unwrap(), second.unwrap()), ("first", "second"));
        assert_eq!(rows(&pool).await, ["a", "b"]);
        assert_eq!(
            gate.next_group.load(Ordering::Relaxed),
            1,
            "one transaction for both"
        );
    }

    /// SQLite may roll a whole transaction back on its own (a full disk, an I/O error): the
    /// member that meets it cannot take back its savepoint, and every member is told that
    /// nothing was kept (an answer of 503, never 500).
    #[tokio::test]
    async fn a_transaction_sqlite_rolled_back_is_every_members_503() {
        let (gate, pool) = (Arc::new(WriteGate::new()), pool().await);
        let (first, second) = pair(gate, &pool, |mut tx| async move {
            insert(&mut tx, "b").await;
            sqlx::query("ROLLBACK").execute(&mut *tx).await.unwrap();
            (tx, Err(StoreError::NotFound))
        })
        .await;
        for answer in [first.unwrap_err(), second.unwrap_err()] {
            assert!(
                matches!(answer, StoreError::NotCommitted(_)) && answer.is_unavailable(),
                "{answer:?}"
            );
        }
        assert!(rows(&pool).await.is_empty());
    }

    /// A member dropped in the middle of its work (its client went away) drops the group's
    /// transaction: the member waiting for the commit is told nothing was kept.
    #[tokio::test]
    async fn a_member_dropped_mid_work_leaves_nothing_and_tells_the_others() {
        let (gate, pool) = (Arc::new(WriteGate::new()), pool().await);
        let (inside, working) = oneshot::channel::<()>();
        let (first, go) = hold_first(&gate, &pool).await;
        let second = queue_second(&gate, &pool, |mut tx| async move {
            insert(&mut tx, "b").await;
            inside.send(()).unwrap();
            std::future::pending::<()>().await;
            (tx, Ok(Step::Keep("second")))
        })
        .await;
        go.send(()).unwrap();
        working.await.unwrap();
        second.abort();
        let first = first.await.unwrap();
        assert!(
            matches!(first, Err(StoreError::NotCommitted(_))),
            "{first:?}"
        );
        assert!(rows(&pool).await.is_empty());
    }
}
