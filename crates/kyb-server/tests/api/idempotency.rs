use crate::db_test;
use crate::helpers::*;
use chrono::Duration;
use serde_json::Value;

db_test!(the_header_is_required_and_bounded, |app| async move {
    let r = app
        .client
        .post(app.url("/v2/business_customer"))
        .header("ngnc-sec-key", &app.key)
        .json(&body_with_email(&unique_email()))
        .send()
        .await
        .unwrap();
    let err = assert_error(r, 400, "idempotency_key_missing").await;
    assert_eq!(err["param"], "idempotency-key");
    let long = "k".repeat(256);
    assert_error(
        app.create_as(
            &app.key,
            &long,
            &body_with_email(&unique_email()).to_string(),
        )
        .await,
        400,
        "idempotency_key_invalid",
    )
    .await;
    assert_eq!(app.customer_count().await, 0);
});

db_test!(
    same_key_same_request_replays_byte_for_byte,
    |app| async move {
        let key = new_idempotency_key();
        let body = body_with_email(&unique_email());
        let first = app.create_as(&app.key, &key, &body.to_string()).await;
        assert_eq!(first.status(), 200);
        let first_bytes = first.bytes().await.unwrap();
        // Whitespace and key order do not make a different request.
        let mut reordered = serde_json::Map::new();
        for (k, v) in body.as_object().unwrap().iter().rev() {
            reordered.insert(k.clone(), v.clone());
        }
        let pretty = serde_json::to_string_pretty(&Value::Object(reordered)).unwrap();
        for text in [body.to_string(), pretty] {
            let again = app.create_as(&app.key, &key, &text).await;
            assert_eq!(again.status(), 200);
            assert_eq!(again.headers()["idempotent-replayed"], "true");
            assert_eq!(again.bytes().await.unwrap(), first_bytes);
        }
        assert_eq!(app.customer_count().await, 1);
        assert_eq!(
            app.state
                .store
                .list_events(&app.scope())
                .await
                .unwrap()
                .len(),
            2
        );
    }
);

db_test!(same_key_different_request_is_422, |app| async move {
    let key = new_idempotency_key();
    assert_eq!(
        app.create_as(
            &app.key,
            &key,
            &body_with_email(&unique_email()).to_string()
        )
        .await
        .status(),
        200
    );
    let err = assert_error(
        app.create_as(
            &app.key,
            &key,
            &body_with_email(&unique_email()).to_string(),
        )
        .await,
        422,
        "idempotency_key_reused",
    )
    .await;
    assert_eq!(err["type"], "idempotency_error");
    // The same key on another path is a different request too.
    let id = app.create_customer().await;
    let r = app
        .client
        .post(app.url(&format!("/v2/business_customer/{id}/kyb_link")))
        .header("ngnc-sec-key", &app.key)
        .header("idempotency-key", &key)
        .send()
        .await
        .unwrap();
    assert_error(r, 422, "idempotency_key_reused").await;
    assert_eq!(app.customer_count().await, 2);
});

db_test!(keys_are_scoped_to_the_platform, |app| async move {
    let (_, other_key) = create_platform(
        &app.state.store,
        &app.clock,
        "Other",
        kyb_domain::Mode::Test,
    )
    .await;
    let key = new_idempotency_key();
    let body = body_with_email(&unique_email()).to_string();
    let a: Value = app
        .create_as(&app.key, &key, &body)
        .await
        .json()
        .await
        .unwrap();
    let r = app.create_as(&other_key, &key, &body).await;
    assert_eq!(r.status(), 200);
    assert!(r.headers().get("idempotent-replayed").is_none());
    let b: Value = r.json().await.unwrap();
    assert_ne!(a["customer_id"], b["customer_id"]);
});

db_test!(
    fifty_concurrent_requests_with_one_key_create_one_customer,
    |app| async move {
        let key = new_idempotency_key();
        let body = body_with_email(&unique_email()).to_string();
        let app = std::sync::Arc::new(app);
        let mut tasks = Vec::new();
        for _ in 0..50 {
            let (app, key, body) = (app.clone(), key.clone(), body.clone());
            tasks.push(tokio::spawn(async move {
                let r = app.create_as(&app.key, &key, &body).await;
                let status = r.status().as_u16();
                let retry_after = r
                    .headers()
                    .get("retry-after")
                    .map(|v| v.to_str().unwrap().to_owned());
                let v: Value = r.json().await.unwrap();
                (status, retry_after, v)
            }));
        }
        let mut ids = std::collections::HashSet::new();
        let mut ok = 0;
        for t in tasks {
            let (status, retry_after, v) = t.await.unwrap();
            match status {
                200 => {
                    ok += 1;
                    ids.insert(v["customer_id"].as_str().unwrap().to_owned());
                }
                409 => {
                    assert_eq!(v["error"]["code"], "idempotency_key_in_use", "{v}");
                    assert_eq!(retry_after.as_deref(), Some("1"));
                }
                other => panic!("unexpected {other}: {v}"),
            }
        }
        assert!(ok >= 1);
        assert_eq!(ids.len(), 1, "every 200 names the same customer");
        assert_eq!(app.customer_count().await, 1);
        assert_eq!(
            app.state.store.count_idempotency_records().await.unwrap(),
            1
        );
    }
);

db_test!(records_are_kept_24h_then_purged, |app| async move {
    let key = new_idempotency_key();
    let body = body_with_email(&unique_email()).to_string();
    assert_eq!(app.create_as(&app.key, &key, &body).await.status(), 200);
    let purge = kyb_server::workers::IdempotencyPurge::new(app.state.clone());

    app.clock.advance(Duration::hours(23));
    assert_eq!(purge.run_once().await.unwrap(), 0);
    let r = app.create_as(&app.key, &key, &body).await;
    assert_eq!(r.headers()["idempotent-replayed"], "true");

    app.clock.advance(Duration::hours(2));
    assert_eq!(purge.run_once().await.unwrap(), 1);
    assert_eq!(
        app.state.store.count_idempotency_records().await.unwrap(),
        0
    );
    // The key is free again; the e-mail is not, so the new request is a plain conflict.
    let err = assert_error(
        app.create_as(&app.key, &key, &body).await,
        409,
        "customer_exists",
    )
    .await;
    assert_eq!(err["param"], "business_email");
    let r = app
        .create_as(
            &app.key,
            &key,
            &body_with_email(&unique_email()).to_string(),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert!(r.headers().get("idempotent-replayed").is_none());
});

db_test!(
    an_expired_record_is_ignored_even_before_the_purge,
    |app| async move {
        let key = new_idempotency_key();
        assert_eq!(
            app.create_as(
                &app.key,
                &key,
                &body_with_email(&unique_email()).to_string()
            )
            .await
            .status(),
            200
        );
        app.clock.advance(Duration::hours(25));
        let r = app
            .create_as(
                &app.key,
                &key,
                &body_with_email(&unique_email()).to_string(),
            )
            .await;
        assert_eq!(
            r.status(),
            200,
            "a different body with an expired key is a new request, not a 422"
        );
        assert_eq!(app.customer_count().await, 2);
    }
);

db_test!(a_refused_write_frees_its_key_at_once, |app| async move {
    // A write that ends early (here 409 customer_exists) rolls back before answering, so a
    // retry right after it is answered again, never told the key is still in use.
    let body = body_with_email(&unique_email()).to_string();
    assert_eq!(app.create_as(&app.key, "first", &body).await.status(), 200);
    for i in 0..20 {
        let r = app.create_as(&app.key, "again", &body).await;
        let e = assert_error(r, 409, "customer_exists").await;
        assert_eq!(e["param"], "business_email", "try {i}");
    }
});
