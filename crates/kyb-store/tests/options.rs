//! Store options reach the database: SQLite is durable by default.

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
