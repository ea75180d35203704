//! Store options reach the database: SQLite is durable by default; connections a transaction
//! was left open on are not reused.

use kyb_store::{Store, StoreOptions};

#[tokio::test]
async fn sqlite_syncs_every_commit_unless_told_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    for (durable, expected) in [(true, 2i64), (false, 1)] {
        let url = format!(
            "sqlite://{}",
            dir.path().join(format!("{durable}.db")).display()
        );
        let options = StoreOptions {
            sqlite_durable: durable,
            ..StoreOptions::default()
        };
        let store = Store::connect_with(&url, &options).await.unwrap();
        let pool = store.as_sqlite().unwrap().pool();
        let level: i64 = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(
            level, expected,
            "durable = {durable}: 2 is FULL, 1 is NORMAL"
        );
    }
    assert!(StoreOptions::default().sqlite_durable);
}

/// A connection given back to the pool still inside a transaction (as after a rollback that
/// failed on a full disk) is closed, not reused: every write after it succeeds, where a reused
/// one would fail its `BEGIN` ("non-zero transaction depth") until a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_left_inside_a_transaction_is_not_reused() {
    use sqlx::Connection;
    let dir = tempfile::tempdir().unwrap();
    let pg = kyb_testkit::postgres_database().await;
    let mut urls = vec![format!("sqlite://{}", dir.path().join("kyb.db").display())];
    urls.extend(pg.as_ref().map(|pg| pg.url().to_owned()));
    for url in urls {
        let store = Store::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        for round in 0..3 {
            if let Some(b) = store.as_sqlite() {
                let mut conn = b.pool().acquire().await.unwrap();
                std::mem::forget(conn.begin().await.unwrap());
            } else if let Some(b) = store.as_postgres() {
                let mut conn = b.pool().acquire().await.unwrap();
                std::mem::forget(conn.begin().await.unwrap());
            }
            for i in 0..5 {
                let ctx = kyb_store::AuditContext::operator_cli(chrono::Utc::now());
                store
                    .create_platform(&format!("Platform {round}.{i}"), &ctx)
                    .await
                    .unwrap_or_else(|e| panic!("{url}: write {round}.{i} failed: {e:#}"));
            }
        }
        assert_eq!(store.list_platforms().await.unwrap().len(), 15);
        store.close().await;
    }
}
