//! Webhooks end to end: the endpoints API, Standard Webhooks signatures checked by a library we
//! did not write, retries on the schedule, `Retry-After`, `410`, redirects, order per customer,
//! a receiver that is down and comes back, and two dispatchers never sending one delivery twice.
//! Each on SQLite and PostgreSQL, against real HTTP receivers on local ports.

use crate::helpers::*;
use crate::{db_test, db_test_with};
use futures::StreamExt;
use kyb_server::webhooks::Dispatcher;
use kyb_testkit::receiver::{Receiver, Reply};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);

impl TestApp {
    /// Creates an endpoint for `url` and returns its object (with the secret).
    async fn endpoint(&self, url: &str, events: Value) -> Value {
        let r = self
            .post_json(
                "/v2/webhook_endpoints",
                &json!({ "url": url, "enabled_events": events }),
            )
            .await;
        assert_eq!(r.status(), 200);
        r.json::<Value>().await.unwrap()["data"].clone()
    }

    fn dispatcher(&self) -> Dispatcher {
        Dispatcher::new(self.state.clone()).unwrap()
    }

    /// Runs the dispatcher until nothing is due; returns the attempts made.
    async fn deliver_all(&self) -> usize {
        let d = self.dispatcher();
        let mut total = 0;
        loop {
            let n = d.run_once().await.unwrap();
            if n == 0 {
                return total;
            }
            total += n;
        }
    }

    async fn deliveries(&self, endpoint: &str) -> Vec<Value> {
        let r = self
            .get(&format!(
                "/v2/webhook_endpoints/{endpoint}/deliveries?limit=100"
            ))
            .await;
        assert_eq!(r.status(), 200);
        r.json::<Value>().await.unwrap()["data"]
            .as_array()
            .unwrap()
            .clone()
    }

    async fn attempts(&self, endpoint: &str, delivery: &str) -> Vec<Value> {
        let r = self
            .get(&format!(
                "/v2/webhook_endpoints/{endpoint}/deliveries/{delivery}/attempts"
            ))
            .await;
        assert_eq!(r.status(), 200);
        r.json::<Value>().await.unwrap()["data"]
            .as_array()
            .unwrap()
            .clone()
    }

    /// The platform's event ids of one customer, oldest first.
    async fn customer_events(&self, customer: &str) -> Vec<String> {
        let mut ids: Vec<String> = self
            .dump(&format!(
                "SELECT id FROM events WHERE customer_id = '{customer}' ORDER BY seq DESC"
            ))
            .await;
        ids.reverse();
        ids
    }
}

fn secret(endpoint: &Value) -> String {
    endpoint["secret"].as_str().unwrap().to_owned()
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

db_test!(endpoints_are_managed_scoped_and_audited, |app| async move {
    let created = app
        .endpoint(
            "https://hooks.example/kyb",
            json!(["business_customer.created"]),
        )
        .await;
    let we = id(&created);
    assert!(we.starts_with("we_"));
    assert!(secret(&created).starts_with("whsec_"));
    assert_eq!(created["status"], "enabled");
    assert_eq!(created["livemode"], false);

    // The secret is shown once and stored only encrypted.
    let got: Value = app
        .get(&format!("/v2/webhook_endpoints/{we}"))
        .await
        .json()
        .await
        .unwrap();
    assert!(got["data"].get("secret").is_none(), "{got}");
    let stored = app
        .dump(&format!(
            "SELECT secret_enc FROM webhook_endpoints WHERE id = '{we}'"
        ))
        .await;
    let plain = secret(&created);
    assert!(
        !stored[0].contains(&plain[6..]),
        "the secret is encrypted at rest"
    );

    let listed: Value = app.get("/v2/webhook_endpoints").await.json().await.unwrap();
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);
    for (path, param) in [
        (
            "/v2/webhook_endpoints?starting_after=nope".to_owned(),
            "starting_after",
        ),
        (
            format!("/v2/webhook_endpoints/{we}/deliveries?starting_after=dlv_unknown1"),
            "starting_after",
        ),
        (
            format!("/v2/webhook_endpoints/{we}/deliveries?status=lost"),
            "status",
        ),
        (
            format!("/v2/webhook_endpoints/{we}/deliveries?limit=0"),
            "limit",
        ),
    ] {
        let e = assert_error(app.get(&path).await, 400, "parameter_invalid").await;
        assert_eq!(e["param"], param, "{path}: {e}");
    }

    let r = app
        .post_json(
            &format!("/v2/webhook_endpoints/{we}"),
            &json!({ "enabled_events": ["*"], "description": "main", "disabled": true }),
        )
        .await;
    assert_eq!(r.status(), 200);
    let updated: Value = r.json().await.unwrap();
    assert_eq!(updated["data"]["enabled_events"], json!(["*"]));
    assert_eq!(updated["data"]["status"], "disabled");
    assert_eq!(updated["data"]["description"], "main");

    // Another platform sees nothing of it.
    let (_, other) = create_platform(
        &app.state.store,
        &app.clock,
        "Other",
        kyb_domain::Mode::Test,
    )
    .await;
    let r = app
        .get_as(&other, &format!("/v2/webhook_endpoints/{we}"))
        .await;
    assert_error(r, 404, "resource_missing").await;
    let r = app
        .get_as(&other, &format!("/v2/webhook_endpoints/{we}/deliveries"))
        .await;
    assert_error(r, 404, "resource_missing").await;

    let r = app.delete(&format!("/v2/webhook_endpoints/{we}")).await;
    assert_eq!(r.status(), 200);
    let r = app.get(&format!("/v2/webhook_endpoints/{we}")).await;
    assert_error(r, 404, "resource_missing").await;

    let actions = app
        .dump(&format!(
            "SELECT action FROM audit_log WHERE target_id = '{we}' ORDER BY seq"
        ))
        .await;
    assert_eq!(
        actions,
        [
            "webhook_endpoint.created",
            "webhook_endpoint.updated",
            "webhook_endpoint.deleted"
        ]
    );
    let details = app
        .dump("SELECT CAST(details AS TEXT) FROM audit_log")
        .await
        .join("\n");
    assert!(!details.contains(&plain[6..]), "no secret in the audit log");
});

db_test!(creating_an_endpoint_is_idempotent, |app| async move {
    let key = new_idempotency_key();
    let send = || {
        app.client
            .post(app.url("/v2/webhook_endpoints"))
            .header("ngnc-sec-key", &app.key)
            .header("idempotency-key", &key)
            .json(&json!({ "url": "https://hooks.example/kyb" }))
            .send()
    };
    let first: Value = send().await.unwrap().json().await.unwrap();
    let again = send().await.unwrap();
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: Value = again.json().await.unwrap();
    assert_eq!(first, again, "the replay is the same endpoint and secret");
    let plain = secret(&first["data"]);
    let as_text = match app.state.store.backend_name() {
        "postgres" => "convert_from(response_body, 'UTF8')",
        _ => "CAST(response_body AS TEXT)",
    };
    let kept = app
        .dump(&format!("SELECT {as_text} FROM idempotency_keys"))
        .await
        .join("\n");
    assert!(kept.contains("\"secret\""), "{kept}");
    assert!(
        !kept.contains(&plain[6..]),
        "the response kept for replay holds the secret sealed, not in clear"
    );
    let listed: Value = app.get("/v2/webhook_endpoints").await.json().await.unwrap();
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);
});

db_test_with!(
    the_ssrf_guard_refuses_internal_urls,
    |mut c| {
        c.webhooks.allow_insecure = false;
        c
    },
    |app| async move {
        for (url, says) in [
            ("http://hooks.example/kyb", "https"),
            ("https://127.0.0.1/kyb", "loopback"),
            ("https://localhost:8443/kyb", "loopback"),
            ("https://[::1]/kyb", "loopback"),
            ("https://10.1.2.3/kyb", "private"),
            ("https://192.168.1.10/kyb", "private"),
            ("https://169.254.169.254/latest/meta-data", "metadata"),
            ("https://[fe80::1]/kyb", "link-local"),
            ("https://user:pw@hooks.example/kyb", "password"),
            ("not a url", "valid URL"),
        ] {
            let r = app
                .post_json("/v2/webhook_endpoints", &json!({ "url": url }))
                .await;
            let e = assert_error(r, 400, "parameter_invalid").await;
            assert_eq!(e["param"], "url", "{url}: {e}");
            assert!(e["message"].as_str().unwrap().contains(says), "{url}: {e}");
        }
        let bad_fields = [
            (
                json!({ "url": "https://hooks.example", "enabled_events": ["nope"] }),
                "parameter_invalid",
                "enabled_events",
            ),
            (
                json!({ "url": "https://hooks.example", "enabled_events": [] }),
                "parameter_invalid",
                "enabled_events",
            ),
            (
                json!({ "url": "https://hooks.example", "enabled_events": ["*", "business_customer.created"] }),
                "parameter_invalid",
                "enabled_events",
            ),
            (
                json!({ "url": "https://hooks.example", "description": "x".repeat(501) }),
                "parameter_invalid",
                "description",
            ),
            (
                json!({ "url": "https://hooks.example", "secret": "whsec_mine" }),
                "parameter_unknown",
                "secret",
            ),
            (json!({}), "parameter_missing", "url"),
        ];
        for (body, code, param) in bad_fields {
            let r = app.post_json("/v2/webhook_endpoints", &body).await;
            let e = assert_error(r, 400, code).await;
            assert_eq!(e["param"], param, "{body}: {e}");
        }
        let listed: Value = app.get("/v2/webhook_endpoints").await.json().await.unwrap();
        assert_eq!(listed["data"], json!([]), "nothing was stored");
        let rows = app
            .dump("SELECT action FROM audit_log WHERE action LIKE 'webhook%'")
            .await;
        assert!(rows.is_empty());
    }
);

db_test!(
    deliveries_carry_standard_webhooks_signatures,
    |app| async move {
        let receiver = Receiver::start().await;
        let endpoint = app.endpoint(&receiver.url(), json!(["*"])).await;
        let customer = app.create_customer().await;
        assert_eq!(app.deliver_all().await, 2);
        let hits = receiver.wait_for_hits(2, WAIT).await;

        // Verified by the standardwebhooks crate, which we did not write.
        let verifier = standardwebhooks::Webhook::new(&secret(&endpoint)).unwrap();
        let events = app.customer_events(&customer).await;
        let current: Value = app.get("/v2/audit/checkpoint").await.json().await.unwrap();
        let log_key = current["data"]["verifier_key"].as_str().unwrap().to_owned();
        for (hit, event_id) in hits.iter().zip(&events) {
            verifier
                .verify(&hit.body, &hit.headers)
                .expect("the signature verifies");
            assert_eq!(hit.header("webhook-id"), event_id);
            assert_eq!(hit.header("content-type"), "application/json");
            assert!(hit.header("webhook-signature").starts_with("v1,"));
            // The body is the event exactly as /v2/events shows it, with the platform's
            // newest audit checkpoint, signed by its log's key.
            let listed: Value = app
                .get(&format!("/v2/events/{event_id}"))
                .await
                .json()
                .await
                .unwrap();
            let mut body = hit.json();
            let checkpoint = body
                .as_object_mut()
                .unwrap()
                .remove("audit_checkpoint")
                .unwrap();
            assert_eq!(body, listed["data"]);
            let opened =
                kyb_tlog::open_checkpoint(checkpoint["note"].as_str().unwrap(), &log_key).unwrap();
            assert_eq!(checkpoint["tree_size"], opened.size());
            assert!(opened.size() >= 2, "{checkpoint}");
            assert_eq!(
                hit.json()["data"]["object"]["customer_id"],
                customer.as_str()
            );
        }
        assert_eq!(hits[0].json()["type"], "business_customer.created");
        assert_eq!(hits[1].json()["type"], "business_customer.kyb_link.created");

        // A changed body or a wrong secret does not verify.
        let mut tampered = hits[0].body.to_vec();
        tampered[1] ^= 1;
        assert!(verifier.verify(&tampered, &hits[0].headers).is_err());
        let other =
            standardwebhooks::Webhook::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert!(other.verify(&hits[0].body, &hits[0].headers).is_err());

        let we = id(&endpoint);
        let deliveries = app.deliveries(&we).await;
        assert_eq!(deliveries.len(), 2);
        for d in &deliveries {
            assert_eq!(d["status"], "succeeded", "{d}");
            assert_eq!(d["attempt_count"], 1);
            let attempts = app.attempts(&we, d["id"].as_str().unwrap()).await;
            assert_eq!(attempts.len(), 1);
            assert_eq!(attempts[0]["outcome"], "succeeded");
            assert_eq!(attempts[0]["status_code"], 200);
            assert_eq!(attempts[0]["response_excerpt"], "ok");
        }
    }
);

db_test!(an_endpoint_gets_only_its_event_types, |app| async move {
    let receiver = Receiver::start().await;
    app.endpoint(
        &receiver.url(),
        json!(["business_customer.kyb_link.created"]),
    )
    .await;
    let customer = app.create_customer().await;
    assert_eq!(app.issue_link_as(&app.key, &customer).await.status(), 200);
    assert_eq!(app.deliver_all().await, 2);
    let types: Vec<Value> = receiver
        .hits()
        .iter()
        .map(|h| h.json()["type"].clone())
        .collect();
    assert_eq!(types, ["business_customer.kyb_link.created"; 2]);
});

db_test!(
    a_rotated_secret_signs_beside_the_new_one_for_a_day,
    |app| async move {
        let receiver = Receiver::start().await;
        let endpoint = app.endpoint(&receiver.url(), json!(["*"])).await;
        let we = id(&endpoint);
        let old = secret(&endpoint);
        let r = app
            .post_json(
                &format!("/v2/webhook_endpoints/{we}/rotate_secret"),
                &json!({}),
            )
            .await;
        assert_eq!(r.status(), 200);
        let rotated: Value = r.json().await.unwrap();
        let new = secret(&rotated["data"]);
        assert_ne!(old, new);
        assert!(rotated["data"]["previous_secret_expires_at"].is_string());

        app.create_customer().await;
        app.deliver_all().await;
        let hit = &receiver.wait_for_hits(1, WAIT).await[0];
        let signatures: Vec<&str> = hit.header("webhook-signature").split(' ').collect();
        assert_eq!(signatures.len(), 2, "two v1 entries during the overlap");
        for s in [&old, &new] {
            standardwebhooks::Webhook::new(s)
                .unwrap()
                .verify(&hit.body, &hit.headers)
                .expect("both secrets verify");
        }

        // A day later only the new secret signs.
        app.clock
            .advance(chrono::Duration::hours(24) + chrono::Duration::seconds(1));
        app.create_customer().await;
        app.deliver_all().await;
        let hits = receiver.wait_for_hits(3, WAIT).await;
        let late = &hits[2];
        let ts: i64 = late.header("webhook-timestamp").parse().unwrap();
        let expected = standardwebhooks::Webhook::new(&new)
            .unwrap()
            .sign(late.header("webhook-id"), ts, &late.body)
            .unwrap();
        assert_eq!(late.header("webhook-signature"), expected);

        // Rotating with no overlap drops the old secret at once.
        let r = app
            .post_json(
                &format!("/v2/webhook_endpoints/{we}/rotate_secret"),
                &json!({ "expire_previous_in": 0 }),
            )
            .await;
        let now_only: Value = r.json().await.unwrap();
        assert_eq!(now_only["data"]["previous_secret_expires_at"], Value::Null);
        let r = app
            .post_json(
                &format!("/v2/webhook_endpoints/{we}/rotate_secret"),
                &json!({ "expire_previous_in": 90000 }),
            )
            .await;
        let e = assert_error(r, 400, "parameter_invalid").await;
        assert_eq!(e["param"], "expire_previous_in");
    }
);

db_test!(
    failures_follow_the_schedule_then_fail_and_can_be_retried,
    |app| async move {
        let receiver = Receiver::start().await;
        receiver.reply_always(Reply::status(500));
        let endpoint = app.endpoint(&receiver.url(), json!(["*"])).await;
        let we = id(&endpoint);
        let customer = app.create_customer().await;
        let events = app.customer_events(&customer).await;

        // Immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h: eight attempts, each ±20 %.
        let schedule = [5, 300, 1800, 7200, 18000, 36000, 36000];
        assert_eq!(app.deliver_all().await, 1);
        for (i, secs) in schedule.iter().enumerate() {
            let deliveries = app.deliveries(&we).await;
            let first = deliveries
                .iter()
                .find(|d| d["event_id"] == events[0].as_str())
                .unwrap();
            assert_eq!(first["status"], "pending");
            let next =
                chrono::DateTime::parse_from_rfc3339(first["next_attempt_at"].as_str().unwrap())
                    .unwrap();
            let wait = (next.with_timezone(&chrono::Utc) - app.clock.now()).num_milliseconds()
                as f64
                / 1000.0;
            let lo = *secs as f64 * 0.8 - 1.0;
            let hi = *secs as f64 * 1.2 + 1.0;
            assert!(
                (lo..=hi).contains(&wait),
                "retry {i}: {wait} s, not within 20 % of {secs} s"
            );
            assert_eq!(app.deliver_all().await, 0, "not due yet");
            app.clock
                .advance(chrono::Duration::seconds((*secs as f64 * 1.2) as i64 + 2));
            assert_eq!(app.dispatcher().run_once().await.unwrap(), 1);
        }
        // The customer's second event waited behind the first the whole time.
        let ids: Vec<String> = receiver
            .hits()
            .iter()
            .map(|h| h.header("webhook-id").to_owned())
            .collect();
        assert_eq!(ids, vec![events[0].clone(); 8]);
        let deliveries = app.deliveries(&we).await;
        let first = deliveries
            .iter()
            .find(|d| d["event_id"] == events[0].as_str())
            .unwrap()
            .clone();
        assert_eq!(first["status"], "failed");
        assert_eq!(first["attempt_count"], 8);
        assert_eq!(first["last_status_code"], 500);
        let dlv = id(&first);
        let attempts = app.attempts(&we, &dlv).await;
        assert_eq!(attempts.len(), 8);
        assert_eq!(attempts[7]["outcome"], "failed");
        assert!(attempts[..7].iter().all(|a| a["outcome"] == "retrying"));

        // Once the first is failed, the second goes out; the platform can resend the first.
        receiver.reply_always(Reply::status(204));
        assert!(app.deliver_all().await >= 1);
        let r = app
            .post_json(
                &format!("/v2/webhook_endpoints/{we}/deliveries/{dlv}/retry"),
                &json!({}),
            )
            .await;
        assert_eq!(r.status(), 200);
        let retried: Value = r.json().await.unwrap();
        assert_eq!(retried["data"]["status"], "pending");
        assert_eq!(app.deliver_all().await, 1);
        let first: Value = app
            .get(&format!("/v2/webhook_endpoints/{we}/deliveries/{dlv}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(first["data"]["status"], "succeeded");
        assert_eq!(first["data"]["attempt_count"], 9);
        let audited = app
            .dump(&format!(
                "SELECT action FROM audit_log WHERE target_id = '{dlv}'"
            ))
            .await;
        assert_eq!(audited, ["webhook_delivery.retried"]);
    }
);

db_test!(retry_after_is_honoured, |app| async move {
    let receiver = Receiver::start().await;
    receiver.reply_next(Reply::status(429).header("retry-after", "3600"));
    let endpoint = app
        .endpoint(&receiver.url(), json!(["business_customer.created"]))
        .await;
    app.create_customer().await;
    assert_eq!(app.deliver_all().await, 1);
    let d = &app.deliveries(&id(&endpoint)).await[0];
    let next =
        chrono::DateTime::parse_from_rfc3339(d["next_attempt_at"].as_str().unwrap()).unwrap();
    let wait = (next.with_timezone(&chrono::Utc) - app.clock.now()).num_seconds();
    assert!(
        wait >= 3599,
        "Retry-After: 3600 means no retry for an hour, not {wait} s"
    );
    app.clock.advance(chrono::Duration::seconds(600));
    assert_eq!(app.deliver_all().await, 0);
    app.clock.advance(chrono::Duration::seconds(3001));
    assert_eq!(app.deliver_all().await, 1);
});

db_test!(
    gone_disables_the_endpoint_until_it_is_enabled,
    |app| async move {
        let receiver = Receiver::start().await;
        receiver.reply_next(Reply::status(410));
        let endpoint = app
            .endpoint(&receiver.url(), json!(["business_customer.created"]))
            .await;
        let we = id(&endpoint);
        app.create_customer().await;
        assert_eq!(app.deliver_all().await, 1);
        let got: Value = app
            .get(&format!("/v2/webhook_endpoints/{we}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(got["data"]["status"], "disabled");
        assert!(got["data"]["disabled_reason"]
            .as_str()
            .unwrap()
            .contains("410"));
        let d = &app.deliveries(&we).await[0];
        assert_eq!(d["status"], "failed");
        let system = app
        .dump(&format!(
            "SELECT actor_type FROM audit_log WHERE target_id = '{we}' AND action = 'webhook_endpoint.disabled'"
        ))
        .await;
        assert_eq!(system, ["system"]);

        // While disabled, new events queue and wait.
        let dlv = id(d);
        let later = app.create_customer().await;
        assert_eq!(app.deliver_all().await, 0);
        assert_eq!(app.deliveries(&we).await[0]["status"], "pending");

        // Retrying needs the endpoint enabled first; then both go out.
        let r = app
            .post_json(
                &format!("/v2/webhook_endpoints/{we}/deliveries/{dlv}/retry"),
                &json!({}),
            )
            .await;
        assert_error(r, 409, "invalid_state").await;
        let r = app
            .post_json(
                &format!("/v2/webhook_endpoints/{we}"),
                &json!({ "disabled": false }),
            )
            .await;
        assert_eq!(r.status(), 200);
        let r = app
            .post_json(
                &format!("/v2/webhook_endpoints/{we}/deliveries/{dlv}/retry"),
                &json!({}),
            )
            .await;
        assert_eq!(r.status(), 200);
        assert_eq!(app.deliver_all().await, 2);
        let hits = receiver.hits();
        assert_eq!(hits.len(), 3);
        assert!(hits
            .iter()
            .any(|h| h.json()["data"]["object"]["customer_id"] == later.as_str()));
    }
);

db_test!(redirects_are_not_followed, |app| async move {
    let elsewhere = Receiver::start().await;
    let receiver = Receiver::start().await;
    receiver.reply_always(Reply::status(307).header("location", &elsewhere.url()));
    let endpoint = app
        .endpoint(&receiver.url(), json!(["business_customer.created"]))
        .await;
    app.create_customer().await;
    assert_eq!(app.deliver_all().await, 1);
    assert!(elsewhere.hits().is_empty(), "the redirect was not followed");
    let d = &app.deliveries(&id(&endpoint)).await[0];
    assert_eq!(d["status"], "pending");
    assert_eq!(d["last_status_code"], 307);
});

db_test!(
    a_receiver_that_was_down_gets_everything_in_order,
    |app| async move {
        let mut receiver = Receiver::start().await;
        let endpoint = app.endpoint(&receiver.url(), json!(["*"])).await;
        receiver.stop().await;

        let mut customers = Vec::new();
        for _ in 0..4 {
            let c = app.create_customer().await;
            assert_eq!(app.issue_link_as(&app.key, &c).await.status(), 200);
            customers.push(c);
        }
        // Down: each customer's first event fails (connection refused) and waits to retry; the
        // rest wait behind it.
        assert_eq!(app.deliver_all().await, 4);
        app.clock.advance(chrono::Duration::seconds(7));
        assert_eq!(app.deliver_all().await, 4);
        let we = id(&endpoint);
        let any = &app.deliveries(&we).await[0];
        let failed = app.attempts(&we, any["id"].as_str().unwrap()).await;
        assert!(failed.iter().all(|a| a["status_code"].is_null()));

        // Back: the next retry succeeds, and everything waiting follows in order per customer.
        receiver.restart().await;
        app.clock.advance(chrono::Duration::minutes(7));
        app.deliver_all().await;
        let hits = receiver.wait_for_hits(12, WAIT).await;
        let mut got: HashMap<String, Vec<String>> = HashMap::new();
        for h in &hits {
            let v = h.json();
            let customer = v["data"]["object"]["customer_id"]
                .as_str()
                .unwrap()
                .to_owned();
            got.entry(customer)
                .or_default()
                .push(h.header("webhook-id").to_owned());
        }
        for c in &customers {
            assert_eq!(
                got[c],
                app.customer_events(c).await,
                "{c}: in the order of events"
            );
        }
        let pending = app
            .dump("SELECT id FROM webhook_deliveries WHERE status <> 'succeeded'")
            .await;
        assert!(pending.is_empty(), "{pending:?}");
    }
);

db_test!(
    two_dispatchers_never_send_a_delivery_twice,
    |app| async move {
        let receiver = Receiver::start().await;
        receiver.reply_always(Reply::status(200).after(Duration::from_millis(20)));
        app.endpoint(&receiver.url(), json!(["business_customer.created"]))
            .await;
        for _ in 0..30 {
            app.create_customer().await;
        }
        let (a, b) = (app.dispatcher(), app.dispatcher());
        let run = |d: Dispatcher| async move {
            let mut n = 0;
            loop {
                let k = d.run_once().await.unwrap();
                if k == 0 {
                    return n;
                }
                n += k;
            }
        };
        let (na, nb) = tokio::join!(run(a), run(b));
        assert_eq!(na + nb, 30);
        let hits = receiver.wait_for_hits(30, WAIT).await;
        let mut ids: Vec<String> = hits
            .iter()
            .map(|h| h.header("webhook-id").to_owned())
            .collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 30, "every event once, none twice");
    }
);

db_test_with!(
    two_dispatchers_under_load_record_every_attempt_and_never_resend,
    |mut c| {
        // Retries a second later, so that many wait while others succeed (each success brings
        // the endpoint's waiting retries forward: where two dispatchers used to deadlock), and
        // enough of them that no delivery runs out (30 % of 500s: twenty in a row is a 1 in
        // 10^10 chance).
        let mut schedule = vec![std::time::Duration::from_secs(1); 20];
        schedule[0] = std::time::Duration::ZERO;
        c.webhooks.retry_schedule = schedule;
        c.api_rate_limit = 0;
        c
    },
    |app| async move {
        const EVENTS: usize = 1_000;
        let deadlocks_before = deadlocks(&app).await;
        let receiver = Receiver::start().await;
        // 30 % 500s, 10 % slow 200s, the rest 200, in a fixed pseudo-random order (a periodic
        // script can line up with the dispatchers' batches); 200 after the script.
        let mut seed: u32 = 12_345;
        for _ in 0..EVENTS * 2 {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            receiver.reply_next(match (seed >> 16) % 10 {
                0..=2 => Reply::status(500),
                3 => Reply::status(200).after(Duration::from_millis(30)),
                _ => Reply::status(200),
            });
        }
        app.endpoint(&receiver.url(), json!(["*"])).await;
        // Each customer makes two events (created, kyb_link.created).
        futures::stream::iter(0..EVENTS / 2)
            .for_each_concurrent(8, |_| async {
                app.create_customer().await;
            })
            .await;
        let (a, b) = (app.dispatcher(), app.dispatcher());
        let run = |d: Dispatcher| {
            let app = &app;
            async move {
                loop {
                    let n = d.run_once().await.unwrap();
                    if n == 0 {
                        let pending = app
                            .dump("SELECT id FROM webhook_deliveries WHERE status = 'pending'")
                            .await;
                        if pending.is_empty() {
                            return;
                        }
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(300), async {
            tokio::join!(run(a), run(b));
        })
        .await
        .expect("every delivery done within 5 minutes");
        let hits = receiver.hits();
        let mut succeeded: HashMap<String, usize> = HashMap::new();
        for h in hits.iter().filter(|h| h.status == 200) {
            *succeeded
                .entry(h.header("webhook-id").to_owned())
                .or_default() += 1;
        }
        let not_done = app
            .dump("SELECT d.id || ' ' || d.status || ' ' || d.attempt_count || ' ' || COALESCE(d.last_error, '') FROM webhook_deliveries d WHERE d.status <> 'succeeded'")
            .await;
        assert!(not_done.is_empty(), "{not_done:?}");
        assert_eq!(succeeded.len(), EVENTS, "every event answered 200 once");
        let twice: Vec<_> = succeeded.iter().filter(|(_, n)| **n > 1).collect();
        assert!(twice.is_empty(), "events sent again after a 200: {twice:?}");
        let attempts = app.dump("SELECT id FROM webhook_attempts").await;
        assert_eq!(attempts.len(), hits.len(), "every attempt is recorded");
        assert_eq!(deadlocks(&app).await, deadlocks_before, "no deadlock");
    }
);

/// Deadlocks PostgreSQL counted in this test's database (0 on SQLite, which cannot deadlock).
async fn deadlocks(app: &TestApp) -> String {
    if app.state.store.as_postgres().is_some() {
        app.dump("SELECT deadlocks::text FROM pg_stat_database WHERE datname = current_database()")
            .await
            .remove(0)
    } else {
        "0".into()
    }
}

db_test!(
    deleting_an_endpoint_cancels_what_it_had_pending,
    |app| async move {
        let receiver = Receiver::start().await;
        let endpoint = app.endpoint(&receiver.url(), json!(["*"])).await;
        let we = id(&endpoint);
        app.create_customer().await;
        assert_eq!(
            app.delete(&format!("/v2/webhook_endpoints/{we}"))
                .await
                .status(),
            200
        );
        assert_eq!(app.deliver_all().await, 0);
        let statuses = app
            .dump(&format!(
                "SELECT status FROM webhook_deliveries WHERE endpoint_id = '{we}'"
            ))
            .await;
        assert_eq!(statuses, ["cancelled", "cancelled"]);
        assert!(receiver.hits().is_empty());
    }
);

db_test!(hosted_flow_events_are_delivered_too, |app| async move {
    let receiver = Receiver::start().await;
    app.endpoint(
        &receiver.url(),
        json!(["business_customer.kyb_link.opened"]),
    )
    .await;
    crate::hosted::customer_who_opened_the_link(&app).await;
    assert_eq!(app.deliver_all().await, 1);
    let hit = &receiver.wait_for_hits(1, WAIT).await[0];
    assert_eq!(hit.json()["type"], "business_customer.kyb_link.opened");
});

db_test_with!(
    a_slow_receiver_times_out_and_is_retried,
    |mut c| {
        c.webhooks.timeout = Duration::from_millis(300);
        c
    },
    |app| async move {
        let receiver = Receiver::start().await;
        receiver.reply_next(Reply::status(200).after(Duration::from_secs(3)));
        let endpoint = app
            .endpoint(&receiver.url(), json!(["business_customer.created"]))
            .await;
        app.create_customer().await;
        assert_eq!(app.deliver_all().await, 1);
        let we = id(&endpoint);
        let d = &app.deliveries(&we).await[0];
        assert_eq!(d["status"], "pending");
        let attempts = app.attempts(&we, d["id"].as_str().unwrap()).await;
        assert_eq!(attempts[0]["outcome"], "retrying");
        let error = attempts[0]["error"].as_str().unwrap();
        assert!(error.contains("timed out"), "{error}");
        assert!(attempts[0]["status_code"].is_null());
    }
);

db_test!(
    a_test_event_reaches_only_the_endpoint_asked_for_signed,
    |app| async move {
        let receiver = Receiver::start().await;
        let bystander = Receiver::start().await;
        // Subscribed to another type: the test event goes to it all the same.
        let endpoint = app
            .endpoint(&receiver.url(), json!(["business_customer.submitted"]))
            .await;
        app.endpoint(&bystander.url(), json!(["*"])).await;
        let path = format!("/v2/webhook_endpoints/{}/test", id(&endpoint));
        let key = new_idempotency_key();
        let send = || {
            app.client
                .post(app.url(&path))
                .header("ngnc-sec-key", &app.key)
                .header("idempotency-key", &key)
                .send()
        };
        let r = send().await.unwrap();
        assert_eq!(r.status(), 200);
        let first: Value = r.json().await.unwrap();
        let delivery = &first["data"];
        assert_eq!(delivery["object"], "webhook_delivery");
        assert_eq!(delivery["event_type"], "ping");
        assert_eq!(delivery["status"], "pending");
        assert_eq!(delivery["endpoint_id"], id(&endpoint).as_str());
        let again = send().await.unwrap();
        assert_eq!(again.headers()["idempotent-replayed"], "true");
        assert_eq!(
            first,
            again.json::<Value>().await.unwrap(),
            "one test event per key"
        );

        assert_eq!(app.deliver_all().await, 1);
        let hits = receiver.wait_for_hits(1, WAIT).await;
        let verifier = standardwebhooks::Webhook::new(&secret(&endpoint)).unwrap();
        verifier
            .verify(&hits[0].body, &hits[0].headers)
            .expect("the test event is signed like every delivery");
        let event = hits[0].json();
        assert_eq!(event["type"], "ping");
        assert_eq!(event["id"], delivery["event_id"]);
        assert_eq!(
            hits[0].header("webhook-id"),
            delivery["event_id"].as_str().unwrap()
        );
        assert_eq!(
            event["data"]["object"]["endpoint_id"],
            id(&endpoint).as_str()
        );
        assert!(bystander.hits().is_empty(), "no other endpoint gets it");

        // It is an event like the others: listed, filtered by its type, its delivery recorded,
        // and the request audited.
        let listed: Value = app.get("/v2/events?type=ping").await.json().await.unwrap();
        assert_eq!(listed["data"][0]["id"], delivery["event_id"]);
        let done = app.deliveries(&id(&endpoint)).await;
        assert_eq!(done[0]["status"], "succeeded");
        assert_eq!(app.newest_audit_action().await, "webhook_endpoint.tested");

        // A disabled endpoint is refused; an unknown one, or one of the other mode, is not found.
        let r = app
            .post_json(
                &format!("/v2/webhook_endpoints/{}", id(&endpoint)),
                &json!({ "disabled": true }),
            )
            .await;
        assert_eq!(r.status(), 200);
        assert_error(app.post_json(&path, &json!({})).await, 409, "invalid_state").await;
        assert_error(
            app.post_json("/v2/webhook_endpoints/we_nope/test", &json!({}))
                .await,
            404,
            "resource_missing",
        )
        .await;
        let r = app
            .post_json_as(&app.live_key().await, &path, &json!({}))
            .await;
        assert_error(r, 404, "resource_missing").await;
        assert_error(
            app.post_json(&path, &json!({ "message": "hi" })).await,
            400,
            "parameter_unknown",
        )
        .await;
    }
);

db_test!(
    past_events_are_replayed_to_an_endpoint_from_a_time_or_an_event,
    |app| async move {
        let receiver = Receiver::start().await;
        let endpoint = app
            .endpoint(&receiver.url(), json!(["business_customer.created"]))
            .await;
        let replay_path = format!("/v2/webhook_endpoints/{}/replay", id(&endpoint));
        let test = format!("/v2/webhook_endpoints/{}/test", id(&endpoint));
        assert_eq!(app.post_json(&test, &json!({})).await.status(), 200);
        let customers = [
            app.create_customer().await,
            app.create_customer().await,
            app.create_customer().await,
        ];
        assert_eq!(app.deliver_all().await, 4);
        let first_created = app.customer_events(&customers[0]).await[0].clone();
        let originals: Vec<String> = receiver
            .wait_for_hits(4, WAIT)
            .await
            .iter()
            .map(|h| h.header("webhook-id").to_owned())
            .collect();

        // After an event: the later events of the types the endpoint takes.
        let key = new_idempotency_key();
        let send = |body: Value| {
            app.client
                .post(app.url(&replay_path))
                .header("ngnc-sec-key", &app.key)
                .header("idempotency-key", &key)
                .json(&body)
                .send()
        };
        let r = send(json!({ "since_event": first_created })).await.unwrap();
        assert_eq!(r.status(), 200);
        let replayed: Value = r.json().await.unwrap();
        assert_eq!(replayed["data"]["object"], "webhook_replay");
        assert_eq!(replayed["data"]["events_queued"], 2);
        assert_eq!(replayed["data"]["has_more"], false);
        let newest: Value = app.get("/v2/events?limit=1").await.json().await.unwrap();
        assert_eq!(replayed["data"]["last_event_id"], newest["data"][0]["id"]);
        // The same key: the same answer, nothing queued twice (and no rate limit).
        let again = send(json!({ "since_event": first_created })).await.unwrap();
        assert_eq!(again.headers()["idempotent-replayed"], "true");
        assert_eq!(again.json::<Value>().await.unwrap(), replayed);
        assert_eq!(app.deliver_all().await, 2);
        let hits = receiver.wait_for_hits(6, WAIT).await;
        let verifier = standardwebhooks::Webhook::new(&secret(&endpoint)).unwrap();
        for hit in &hits[4..] {
            verifier.verify(&hit.body, &hit.headers).unwrap();
        }
        let mut again_ids: Vec<String> = hits[4..]
            .iter()
            .map(|h| h.header("webhook-id").to_owned())
            .collect();
        again_ids.sort();
        let mut expected = vec![
            app.customer_events(&customers[1]).await[0].clone(),
            app.customer_events(&customers[2]).await[0].clone(),
        ];
        expected.sort();
        assert_eq!(again_ids, expected, "the same events, with their ids");
        assert!(expected.iter().all(|e| originals.contains(e)));

        // Too soon for another replay to this endpoint.
        let r = app
            .post_json(&replay_path, &json!({ "since": "2000-01-01T00:00:00Z" }))
            .await;
        assert_eq!(r.headers()["retry-after"], "10");
        assert_error(r, 429, "rate_limited").await;
        // Later, from a time: every created event, and never the test event.
        app.clock.advance(chrono::Duration::seconds(11));
        let r = app
            .post_json(&replay_path, &json!({ "since": "2000-01-01T00:00:00Z" }))
            .await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.json::<Value>().await.unwrap()["data"]["events_queued"], 3);
        assert_eq!(app.newest_audit_action().await, "webhook_endpoint.replayed");

        // What is refused, naming the field.
        app.clock.advance(chrono::Duration::seconds(11));
        for (body, status, code, param) in [
            (json!({}), 400, "parameter_missing", "since"),
            (
                json!({ "since": "yesterday" }),
                400,
                "parameter_invalid",
                "since",
            ),
            (
                json!({ "since_event": "evt_nope" }),
                400,
                "parameter_invalid",
                "since_event",
            ),
            (
                json!({ "since": "2000-01-01T00:00:00Z", "since_event": first_created }),
                400,
                "parameter_invalid",
                "since_event",
            ),
            (json!({ "until": "now" }), 400, "parameter_unknown", "until"),
        ] {
            let e = assert_error(app.post_json(&replay_path, &body).await, status, code).await;
            assert_eq!(e["param"], param, "{body}");
        }
        assert_error(
            app.post_json(
                "/v2/webhook_endpoints/we_nope/replay",
                &json!({ "since_event": first_created }),
            )
            .await,
            404,
            "resource_missing",
        )
        .await;
        app.post_json(
            &format!("/v2/webhook_endpoints/{}", id(&endpoint)),
            &json!({ "disabled": true }),
        )
        .await;
        assert_error(
            app.post_json(&replay_path, &json!({ "since_event": first_created }))
                .await,
            409,
            "invalid_state",
        )
        .await;
    }
);

db_test!(
    a_replay_looks_at_a_thousand_events_and_says_where_to_go_on,
    |app| async move {
        let receiver = Receiver::start().await;
        let endpoint = app.endpoint(&receiver.url(), json!(["*"])).await;
        let replay_path = format!("/v2/webhook_endpoints/{}/replay", id(&endpoint));
        // 1,002 events of the platform, written straight into the outbox.
        let (data, at) = match app.state.store.backend_name() {
            "postgres" => (
                "CAST('{}' AS JSONB)",
                "CAST('2026-01-01 00:00:00+00' AS TIMESTAMPTZ)",
            ),
            _ => ("'{}'", "'2026-01-01 00:00:00+00:00'"),
        };
        app.exec(&format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1002) \
             INSERT INTO events (id, platform_id, livemode, type, customer_id, data, created_at) \
             SELECT 'evt_fill' || i, '{}', FALSE, 'business_customer.created', NULL, {data}, {at} \
             FROM n ORDER BY i",
            app.platform.as_str()
        ))
        .await;
        let by_seq = app.dump("SELECT id FROM events ORDER BY seq").await;
        assert_eq!(by_seq.len(), 1002);

        let r = app
            .post_json(&replay_path, &json!({ "since": "2000-01-01T00:00:00Z" }))
            .await;
        assert_eq!(r.status(), 200);
        let first = r.json::<Value>().await.unwrap()["data"].clone();
        assert_eq!(first["events_queued"], 1000);
        assert_eq!(first["has_more"], true);
        assert_eq!(first["last_event_id"], by_seq[999].as_str());

        app.clock.advance(chrono::Duration::seconds(11));
        let r = app
            .post_json(
                &replay_path,
                &json!({ "since_event": first["last_event_id"] }),
            )
            .await;
        let rest = r.json::<Value>().await.unwrap()["data"].clone();
        assert_eq!(rest["events_queued"], 2);
        assert_eq!(rest["has_more"], false);
        assert_eq!(rest["last_event_id"], by_seq[1001].as_str());
        let queued = app
            .dump(&format!(
                "SELECT CAST(COUNT(DISTINCT event_id) AS TEXT) FROM webhook_deliveries WHERE endpoint_id = '{}'",
                id(&endpoint)
            ))
            .await;
        assert_eq!(queued, ["1002"], "every event once, none twice");
    }
);
