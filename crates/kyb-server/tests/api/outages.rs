//! Database faults are answered, not 500: 503 `service_unavailable` with `Retry-After` while the
//! database cannot be used, and no failed request once it is back.

use crate::db_test;
use crate::helpers::*;

db_test!(an_unusable_database_is_a_503, |app| async move {
    app.create_customer().await;
    app.state.store.close().await;
    let r = app.get("/v2/business_customer").await;
    let retry = r
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    let e = assert_error(r, 503, "service_unavailable").await;
    assert_eq!(e["type"], "api_error");
    assert_eq!(retry.as_deref(), Some("5"));
    // The pages say so too.
    let r = app
        .client
        .get(app.url("/kyb/flow/business"))
        .header("cookie", "kyb_session=x")
        .send()
        .await
        .unwrap();
    assert_ne!(r.status(), 500);
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_the_server_dropped_are_replaced() {
    let Some(app) = spawn_postgres().await else {
        return;
    };
    for _ in 0..3 {
        app.create_customer().await;
    }
    // Every connection of the pool is killed by the server, as on a restart or failover.
    app.exec(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .await;
    for _ in 0..10 {
        let r = app.get("/v2/business_customer").await;
        assert_eq!(
            r.status(),
            200,
            "no request fails after the database is back"
        );
    }
    app.create_customer().await;
}
