//! `GET /metrics`: Prometheus text with request counts by route pattern (never a token), the
//! backlogs read from the database, and an optional bearer token.

use crate::{db_test, db_test_with};

db_test!(metrics_count_requests_and_show_backlogs, |app| async move {
    let id = app.create_customer().await;
    assert_eq!(
        app.get(&format!("/v2/business_customer/{id}"))
            .await
            .status(),
        200
    );
    let r = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/openmetrics-text"));
    let text = r.text().await.unwrap();
    for needle in [
        "kyb_http_requests_total{route=\"/v2/business_customer\",method=\"POST\",status=\"200\"} 1",
        "kyb_http_requests_total{route=\"/v2/business_customer/{customer_id}\",method=\"GET\",status=\"200\"} 1",
        "kyb_http_request_duration_seconds_bucket{",
        "kyb_webhook_deliveries_pending 0",
        "kyb_check_jobs_pending 0",
        "kyb_check_jobs_failed 0",
        "kyb_db_pool_connections ",
        "kyb_up 1",
    ] {
        assert!(text.contains(needle), "{needle} missing from:\n{text}");
    }
    assert!(!text.contains(&id), "ids never become labels");
    assert!(text.trim_end().ends_with("# EOF"));
});

db_test_with!(
    metrics_can_require_a_token,
    |mut c: kyb_server::Config| {
        c.metrics_token = Some("scrape-secret".into());
        c
    },
    |app| async move {
        let r = app.client.get(app.url("/metrics")).send().await.unwrap();
        assert_eq!(r.status(), 401);
        let r = app
            .client
            .get(app.url("/metrics"))
            .header("authorization", "Bearer scrape-secret")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
);
