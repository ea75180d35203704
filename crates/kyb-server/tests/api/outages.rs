//! Database faults are answered, not 500: 503 `service_unavailable` with `Retry-After` while the
//! database cannot be used, no request waits past the deadline, and no failed request once it
//! is back.

use crate::db_test;
use crate::helpers::*;
use kyb_testkit::proxy::FreezableProxy;
use serde_json::Value;
use std::time::Duration;

/// The longest a test waits for an answer that must come: far past every deadline under test,
/// so that a hang fails the test instead of stalling the suite.
const HUNG: Duration = Duration::from_secs(60);

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
    let kill_every_connection = || {
        app.exec(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
    };
    // Every connection of the pool is killed by the server, as on a restart or failover: the
    // next write, and the reads after it, find fresh connections.
    kill_every_connection().await;
    app.create_customer().await;
    kill_every_connection().await;
    for _ in 0..10 {
        let r = app.get("/v2/business_customer").await;
        assert_eq!(
            r.status(),
            200,
            "no request fails after the database is back"
        );
    }
    app.create_customer().await;
    assert_eq!(app.customer_count().await, 5);
}

/// The network to PostgreSQL goes silent while a request is inside a query (no reset, no
/// answer, as in a partition): the request is answered 503 at the store's deadline (acquire
/// timeout plus statement timeout), not when the kernel gives up on the connection; so are the
/// requests after it and the readiness probe; once the network is back, nothing fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_that_stops_answering_mid_request_is_a_503() {
    let Some(pg) = kyb_testkit::postgres_database().await else {
        return;
    };
    let direct = pg.url().to_owned();
    let mut url = url::Url::parse(&direct).unwrap();
    let upstream = tokio::net::lookup_host((
        url.host_str().unwrap().to_owned(),
        url.port().unwrap_or(5432),
    ))
    .await
    .unwrap()
    .next()
    .unwrap();
    let proxy = FreezableProxy::start(upstream).await;
    url.set_host(Some("127.0.0.1")).unwrap();
    url.set_port(Some(proxy.addr().port())).unwrap();
    let app = spawn_app_on(Some(pg), |mut c| {
        c.database_url = url.to_string();
        c.store.acquire_timeout = Duration::from_secs(1);
        c.store.statement_timeout = Duration::from_secs(1);
        c
    })
    .await;
    app.create_customer().await;

    // A request is held inside its query: another session (not through the proxy) holds the
    // table; then the network goes silent, so not even PostgreSQL's statement timeout, which
    // cancels the query a second later, reaches kyb.
    use sqlx::{Connection, Executor};
    let mut blocker = sqlx::PgConnection::connect(&direct).await.unwrap();
    blocker
        .execute("BEGIN; LOCK TABLE business_customers IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    let held = tokio::spawn({
        let (client, url, key) = (
            app.client.clone(),
            app.url("/v2/business_customer"),
            app.key.clone(),
        );
        async move {
            client
                .get(url)
                .header("ngnc-sec-key", key)
                .send()
                .await
                .unwrap()
        }
    });
    let mut waiting = false;
    for _ in 0..400 {
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity \
             WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
        .fetch_one(&mut blocker)
        .await
        .unwrap();
        if n > 0 {
            waiting = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(waiting, "the request reached its query");
    proxy.freeze();

    let r = tokio::time::timeout(HUNG, held)
        .await
        .expect("answered at the deadline, not hung")
        .unwrap();
    assert_eq!(
        r.headers().get("retry-after").map(|v| v.to_str().unwrap()),
        Some("5")
    );
    assert_error(r, 503, "service_unavailable").await;

    // While the network stays silent, reads, writes and the readiness probe are answered too.
    let r = tokio::time::timeout(HUNG, app.get("/v2/business_customer"))
        .await
        .expect("a read is answered");
    assert_error(r, 503, "service_unavailable").await;
    let r = tokio::time::timeout(HUNG, app.create(&body_with_email(&unique_email())))
        .await
        .expect("a write is answered");
    assert_error(r, 503, "service_unavailable").await;
    let r = tokio::time::timeout(HUNG, app.client.get(app.url("/readyz")).send())
        .await
        .expect("the probe is answered")
        .unwrap();
    assert_eq!(r.status(), 503);

    // The network comes back: no request fails.
    blocker.execute("ROLLBACK").await.unwrap();
    proxy.thaw();
    for _ in 0..10 {
        let r = tokio::time::timeout(HUNG, app.get("/v2/business_customer"))
            .await
            .expect("answered");
        assert_eq!(r.status(), 200, "no request fails once the network is back");
    }
    app.create_customer().await;
    let r = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    // The write refused during the partition stored nothing.
    assert_eq!(app.customer_count().await, 2);
}

/// A SQLite service with one customer whose disk (`PRAGMA max_page_count`) has `spare` pages
/// left; the limit, to give space back with `set(0)`.
async fn sqlite_with_pages_to_spare(spare: u32) -> (TestApp, kyb_store::PageLimit) {
    let limit = kyb_store::PageLimit::default();
    let app = spawn_with(false, |mut c| {
        c.store.sqlite_page_limit = Some(limit.clone());
        c
    })
    .await
    .unwrap();
    app.create_customer().await;
    let pool = app.state.store.as_sqlite().unwrap().pool();
    let pages: i64 = sqlx::query_scalar("PRAGMA page_count")
        .fetch_one(pool)
        .await
        .unwrap();
    limit.set(u32::try_from(pages).unwrap() + spare);
    (app, limit)
}

/// SQLite's disk fills (`PRAGMA max_page_count` stands in for the disk): writes are answered
/// 503 and change nothing, reads go on, and once there is space again every write succeeds
/// without a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_sqlite_disk_is_a_503_and_writes_recover_when_space_returns() {
    let (app, limit) = sqlite_with_pages_to_spare(2).await;

    let mut created = 1;
    let mut full = None;
    for _ in 0..500 {
        let r = app.create(&body_with_email(&unique_email())).await;
        match r.status().as_u16() {
            200 => created += 1,
            503 => {
                full = Some(r);
                break;
            }
            other => panic!("a write on a full disk answered {other}"),
        }
    }
    let r = full.expect("the disk filled up");
    assert_eq!(
        r.headers().get("retry-after").map(|v| v.to_str().unwrap()),
        Some("5")
    );
    assert_error(r, 503, "service_unavailable").await;
    // Later writes are refused the same way while the disk stays full, and store nothing;
    // reads go on. (A write whose rows still fit in the free space of pages it already has may
    // succeed: where a random e-mail lands in an index decides that, so this is not "every".)
    let mut refused = 0;
    for _ in 0..10 {
        let r = app.create(&body_with_email(&unique_email())).await;
        match r.status().as_u16() {
            200 => created += 1,
            _ => {
                assert_error(r, 503, "service_unavailable").await;
                refused += 1;
            }
        }
        let r = app.get("/v2/business_customer?limit=100").await;
        assert_eq!(r.status(), 200);
        let page: Value = r.json().await.unwrap();
        assert_eq!(page["data"].as_array().unwrap().len(), created);
    }
    assert!(
        refused >= 5,
        "the disk stayed full: {refused} of 10 refused"
    );

    // Space comes back: every write succeeds at once, on every pooled connection.
    limit.set(0);
    for _ in 0..20 {
        app.create_customer().await;
    }
    assert_eq!(app.customer_count().await, created as i64 + 20);
}

/// The disk fills while creates arrive in bursts, so that SQLite commits them in groups (one
/// transaction for the writes queued together): a write whose statements do not fit takes back
/// only its own work, or its whole group answers 503; every create answered 200 is there, and
/// nothing else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_sqlite_disk_under_a_burst_keeps_every_answered_create_and_nothing_else() {
    let (app, limit) = sqlite_with_pages_to_spare(6).await;

    let mut answered = vec![app
        .get("/v2/business_customer")
        .await
        .json::<Value>()
        .await
        .unwrap()["data"][0]["customer_id"]
        .as_str()
        .unwrap()
        .to_owned()];
    let mut refused = 0;
    for _ in 0..40 {
        let burst = (0..16).map(|_| {
            let app = &app;
            async move {
                let r = app.create(&body_with_email(&unique_email())).await;
                let status = r.status().as_u16();
                (status, r.json::<Value>().await.unwrap())
            }
        });
        for (status, v) in futures::future::join_all(burst).await {
            match status {
                200 => answered.push(v["customer_id"].as_str().unwrap().to_owned()),
                503 => {
                    assert_eq!(v["error"]["code"], "service_unavailable", "{v}");
                    refused += 1;
                }
                other => panic!("a create on a filling disk answered {other}: {v}"),
            }
        }
        if refused >= 16 {
            break;
        }
    }
    assert!(refused >= 16, "the disk filled up: {refused} refused");
    limit.set(0);
    for id in &answered {
        let r = app.get(&format!("/v2/business_customer/{id}")).await;
        assert_eq!(r.status(), 200, "an answered create is kept: {id}");
    }
    assert_eq!(app.customer_count().await, answered.len() as i64);
    // Space is back: writes go on at once.
    app.create_customer().await;
}

/// A statement that runs past PostgreSQL's statement timeout (here: waiting on a lock another
/// session holds) is cancelled by the server and answered 503, not 500.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_past_the_timeout_is_a_503() {
    let Some(app) = spawn_with(true, |mut c| {
        c.store.statement_timeout = Duration::from_secs(1);
        c
    })
    .await
    else {
        return;
    };
    app.create_customer().await;
    let pool = app.state.store.as_postgres().unwrap().pool();
    let mut blocker = pool.begin().await.unwrap();
    sqlx::query("LOCK TABLE business_customers IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *blocker)
        .await
        .unwrap();
    let r = tokio::time::timeout(HUNG, app.get("/v2/business_customer"))
        .await
        .expect("answered");
    assert_error(r, 503, "service_unavailable").await;
    let r = tokio::time::timeout(HUNG, app.create(&body_with_email(&unique_email())))
        .await
        .expect("answered");
    assert_error(r, 503, "service_unavailable").await;
    blocker.rollback().await.unwrap();
    let r = app.get("/v2/business_customer").await;
    assert_eq!(r.status(), 200);
    assert_eq!(app.customer_count().await, 1);
}
