//! `/livez` and `/readyz`: unauthenticated, in JSON, 503 with the reason when the node cannot work.

use crate::db_test;
use serde_json::Value;

db_test!(liveness_and_readiness, |app| async move {
    let get = |path: &'static str| {
        let app = &app;
        async move {
            let r = app.client.get(app.url(path)).send().await.unwrap();
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap())
        }
    };
    assert_eq!(
        get("/livez").await,
        (200, serde_json::json!({"status": "ok"}))
    );
    let (status, body) = get("/readyz").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["database"], "ok");

    // A worker whose task ended makes the node unready, and says which.
    let done = tokio::spawn(async {});
    let watched = app.state.workers.watch("test_worker", done);
    watched.await.unwrap();
    let (status, body) = get("/readyz").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["workers"]["test_worker"], "stopped");
    assert_eq!(body["status"], "unavailable");
});

db_test!(readiness_names_missing_migrations, |app| async move {
    app.exec("DELETE FROM _sqlx_migrations WHERE version = 9")
        .await;
    let r = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(r.status(), 503);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["database"]
            .as_str()
            .unwrap()
            .contains("1 migrations not applied"),
        "{body}"
    );
});
