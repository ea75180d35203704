use crate::db_test;
use crate::helpers::*;
use chrono::{DateTime, Duration, Utc};
use kyb_domain::Mode;
use serde_json::Value;

db_test!(the_seed_example_body_succeeds_verbatim, |app| async move {
    let r = app
        .create_as(&app.key, &new_idempotency_key(), &seed_body())
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    assert!(r.headers().get("idempotent-replayed").is_none());
    let v: Value = r.json().await.unwrap();
    let fields: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    let mut sorted = fields.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        [
            "customer_id",
            "kyb_link",
            "link_expires_at",
            "status",
            "verification_status"
        ]
    );
    assert_eq!(v["status"], "success");
    assert_eq!(v["verification_status"], "pending");
    let id = v["customer_id"].as_str().unwrap();
    assert!(id.starts_with("cust_") && id.len() > 15, "{id}");
    let link = v["kyb_link"].as_str().unwrap();
    let token = link
        .strip_prefix("https://kyb.test/kyb/")
        .expect("link is {public_url}/kyb/{token}");
    assert_eq!(token.len(), 43, "256-bit token, base64url");
    let expires = v["link_expires_at"].as_str().unwrap();
    assert!(expires.ends_with('Z'), "UTC: {expires}");
    let expires: DateTime<Utc> = expires.parse().unwrap();
    assert_eq!(expires, app.clock.now() + Duration::days(7));
    assert_eq!(app.customer_count().await, 1);
});

db_test!(retrieve_returns_every_field_normalised, |app| async move {
    let r = app
        .create_as(&app.key, &new_idempotency_key(), &seed_body())
        .await;
    let created: Value = r.json().await.unwrap();
    let id = created["customer_id"].as_str().unwrap();
    let r = app.get(&format!("/v2/business_customer/{id}")).await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["status"], "success");
    assert_eq!(v["customer_id"], id);
    assert_eq!(v["livemode"], false);
    assert_eq!(v["business_name"], "Acme Corp Solutions Ltd");
    assert_eq!(v["business_email"], "[email protected]");
    assert_eq!(v["phone_number"], "+15550123");
    assert_eq!(
        v["registered_address"],
        "123 Business Street, Suite 100, New York, NY 10001"
    );
    assert_eq!(v["registered_country"], "USA");
    assert_eq!(v["verification_status"], "pending");
    assert_eq!(v["progress"], "not_started");
    assert_eq!(v["kyb_link"], created["kyb_link"]);
    assert_eq!(v["link_expires_at"], created["link_expires_at"]);
    let created_at: DateTime<Utc> = v["created_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(created_at, app.clock.now());
    assert_eq!(v["updated_at"], v["created_at"]);
});

db_test!(values_are_stored_in_normal_form, |app| async move {
    let mut body = body_with_email("  Ops@ACME.Example ");
    body["business_name"] = "  Trimmed Name Ltd  ".into();
    body["phone_number"] = "+44 (20) 7946-0958".into();
    let r = app.create(&body).await;
    assert_eq!(r.status(), 200);
    let id = r.json::<Value>().await.unwrap()["customer_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let v: Value = app
        .get(&format!("/v2/business_customer/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["business_name"], "Trimmed Name Ltd");
    assert_eq!(v["business_email"], "Ops@acme.example");
    assert_eq!(v["phone_number"], "+442079460958");
});

db_test!(
    live_mode_needs_a_real_email_and_reports_livemode,
    |app| async move {
        let live = create_key(&app.state.store, &app.clock, &app.platform, Mode::Live).await;
        let err = assert_error(
            app.create_as(&live, &new_idempotency_key(), &seed_body())
                .await,
            400,
            "parameter_invalid",
        )
        .await;
        assert_eq!(err["param"], "business_email");
        assert!(err["message"].as_str().unwrap().contains("placeholder"));
        let r = app
            .create_as(
                &live,
                &new_idempotency_key(),
                &body_with_email(&unique_email()).to_string(),
            )
            .await;
        assert_eq!(r.status(), 200);
        let id = r.json::<Value>().await.unwrap()["customer_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let v: Value = app
            .get_as(&live, &format!("/v2/business_customer/{id}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(v["livemode"], true);
    }
);

db_test!(
    duplicate_email_is_a_conflict_naming_the_customer,
    |app| async move {
        let email = unique_email();
        let r = app.create(&body_with_email(&email)).await;
        let first = r.json::<Value>().await.unwrap()["customer_id"]
            .as_str()
            .unwrap()
            .to_owned();
        // Same mailbox, different case: still the same customer.
        let err = assert_error(
            app.create(&body_with_email(&email.to_uppercase())).await,
            409,
            "customer_exists",
        )
        .await;
        assert_eq!(err["customer_id"], first.as_str());
        assert_eq!(err["param"], "business_email");
        assert_eq!(app.customer_count().await, 1);
        // Another platform, or live mode, may onboard the same business.
        let (_, other_key) =
            create_platform(&app.state.store, &app.clock, "Other", Mode::Test).await;
        let r = app
            .create_as(
                &other_key,
                &new_idempotency_key(),
                &body_with_email(&email).to_string(),
            )
            .await;
        assert_eq!(r.status(), 200);
        let live = create_key(&app.state.store, &app.clock, &app.platform, Mode::Live).await;
        let r = app
            .create_as(
                &live,
                &new_idempotency_key(),
                &body_with_email(&email).to_string(),
            )
            .await;
        assert_eq!(r.status(), 200);
    }
);

db_test!(
    concurrent_creates_of_one_email_make_one_customer,
    |app| async move {
        // The e-mail check is the insert: requests racing with the same mailbox (and their own
        // idempotency keys) make one customer, and every other one is told which.
        let email = unique_email();
        let body = body_with_email(&email).to_string();
        let racing = (0..12).map(|_| {
            let (app, body) = (&app, body.clone());
            async move { app.create_as(&app.key, &new_idempotency_key(), &body).await }
        });
        let mut made = Vec::new();
        let mut told = Vec::new();
        for r in futures::future::join_all(racing).await {
            match r.status().as_u16() {
                200 => made.push(r.json::<Value>().await.unwrap()["customer_id"].clone()),
                409 => told.push(r.json::<Value>().await.unwrap()["error"]["customer_id"].clone()),
                other => panic!(
                    "racing create answered {other}: {}",
                    r.text().await.unwrap()
                ),
            }
        }
        assert_eq!(made.len(), 1, "one customer per e-mail");
        assert_eq!(told.len(), 11);
        assert!(told.iter().all(|id| *id == made[0]), "{told:?} vs {made:?}");
        assert_eq!(app.customer_count().await, 1);
    }
);

db_test!(
    a_burst_of_creates_with_every_outcome_keeps_each_ones_own,
    |app| async move {
        // Sent at once, so that on SQLite they are committed in groups: new customers, second
        // requests for the same e-mails (their own keys), and repeats of the first requests
        // (same key, same body). Each answer is its own, and only the new customers' work stays.
        let emails: Vec<String> = (0..8).map(|_| unique_email()).collect();
        let keys: Vec<String> = (0..8).map(|_| new_idempotency_key()).collect();
        let mut requests = Vec::new();
        for (email, key) in emails.iter().zip(&keys) {
            let body = body_with_email(email).to_string();
            requests.push((email.clone(), key.clone(), body.clone()));
            requests.push((email.clone(), new_idempotency_key(), body.clone()));
            requests.push((email.clone(), key.clone(), body));
        }
        let sent = requests.iter().map(|(email, key, body)| {
            let app = &app;
            async move {
                let r = app.create_as(&app.key, key, body).await;
                let status = r.status().as_u16();
                let replayed = r.headers().get("idempotent-replayed").is_some();
                let v: Value = r.json().await.unwrap();
                (email.clone(), status, replayed, v)
            }
        });
        let answers = futures::future::join_all(sent).await;
        let mut made = std::collections::HashMap::new();
        for (email, status, replayed, v) in &answers {
            match status {
                200 if !replayed => {
                    let id = v["customer_id"].as_str().unwrap().to_owned();
                    assert!(
                        made.insert(email.clone(), id).is_none(),
                        "two customers for {email}"
                    );
                }
                200 | 409 => {}
                other => panic!("a create in the burst answered {other}: {v}"),
            }
        }
        assert_eq!(made.len(), 8, "each e-mail has exactly one new customer");
        for (email, status, replayed, v) in &answers {
            let id = &made[email];
            match (status, replayed) {
                (200, true) => assert_eq!(v["customer_id"], id.as_str()),
                (409, _) if v["error"]["code"] == "customer_exists" => {
                    assert_eq!(v["error"]["customer_id"], id.as_str())
                }
                (409, _) => assert_eq!(v["error"]["code"], "idempotency_key_in_use", "{v}"),
                _ => {}
            }
        }
        assert_eq!(app.customer_count().await, 8);
        let events: Value = app.get("/v2/events?limit=100").await.json().await.unwrap();
        assert_eq!(
            events["data"].as_array().unwrap().len(),
            16,
            "two events per customer, none of a request that made none"
        );
    }
);

db_test!(
    create_writes_audit_rows_and_events_in_its_transaction,
    |app| async move {
        let r = app.create(&body_with_email(&unique_email())).await;
        let request_id = r.headers()["x-request-id"].to_str().unwrap().to_owned();
        let id = r.json::<Value>().await.unwrap()["customer_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let audit = app.state.store.list_audit(&app.platform).await.unwrap();
        let created = audit
            .iter()
            .find(|a| a.action == "business_customer.created")
            .expect("audit row for the create");
        assert_eq!(created.target_id, id);
        assert_eq!(created.actor_type, "api_key");
        assert!(created.actor_id.as_deref().unwrap().starts_with("key_"));
        assert_eq!(created.request_id.as_deref(), Some(request_id.as_str()));
        assert_eq!(created.client_addr.as_deref(), Some("127.0.0.1"));
        assert_eq!(created.created_at, app.clock.now());
        assert_eq!(created.details["phone_number"], "+15550123");
        let link = audit
            .iter()
            .find(|a| a.action == "kyb_link.created")
            .expect("audit row for the link");
        assert_eq!(link.details["customer_id"], id.as_str());
        assert_eq!(link.request_id.as_deref(), Some(request_id.as_str()));

        let events = app.state.store.list_events(&app.scope()).await.unwrap();
        let types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
        assert_eq!(
            types,
            [
                "business_customer.created",
                "business_customer.kyb_link.created"
            ]
        );
        let object = &events[0].payload["data"]["object"];
        assert_eq!(object["customer_id"], id.as_str());
        assert_eq!(object["verification_status"], "pending");
        assert!(events[0].payload["id"]
            .as_str()
            .unwrap()
            .starts_with("evt_"));
    }
);

db_test!(
    a_failing_transaction_leaves_nothing_and_leaks_nothing,
    |app| async move {
        // Break the last table the transaction writes before the idempotency record.
        for table in ["webhook_attempts", "webhook_deliveries", "events"] {
            app.exec(&format!("DROP TABLE {table}")).await;
        }
        let key = new_idempotency_key();
        let body = body_with_email(&unique_email()).to_string();
        let r = app.create_as(&app.key, &key, &body).await;
        let err = assert_error(r, 500, "internal_error").await;
        assert_eq!(err["type"], "api_error");
        let message = err["message"].as_str().unwrap().to_lowercase();
        for internal in ["events", "table", "sql", "relation", "database"] {
            assert!(!message.contains(internal), "no internals in {message:?}");
        }
        assert_eq!(
            app.customer_count().await,
            0,
            "the customer insert was rolled back"
        );
        assert_eq!(
            app.state.store.count_idempotency_records().await.unwrap(),
            0
        );
        let audit = app.state.store.list_audit(&app.platform).await.unwrap();
        assert!(audit
            .iter()
            .all(|a| a.action != "business_customer.created"));
    }
);
