use crate::db_test;
use crate::helpers::*;
use chrono::Duration;
use serde_json::Value;

async fn list(app: &TestApp, query: &str) -> Value {
    let r = app.get(&format!("/v2/business_customer{query}")).await;
    let status = r.status();
    let text = r.text().await.unwrap();
    assert_eq!(status, 200, "{query}: {text}");
    serde_json::from_str(&text).unwrap()
}

fn ids(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["customer_id"].as_str().unwrap().to_owned())
        .collect()
}

db_test!(
    list_is_newest_first_with_cursor_pagination,
    |app| async move {
        let mut created = Vec::new();
        for _ in 0..7 {
            created.push(app.create_customer().await);
        }
        created.reverse();
        let page = list(&app, "").await;
        assert_eq!(page["status"], "success");
        assert_eq!(
            ids(&page),
            created,
            "default limit 10 returns all 7, newest first"
        );
        assert_eq!(page["has_more"], false);

        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let query = match &cursor {
                Some(c) => format!("?limit=3&starting_after={c}"),
                None => "?limit=3".to_owned(),
            };
            let page = list(&app, &query).await;
            let page_ids = ids(&page);
            assert!(page_ids.len() <= 3);
            seen.extend(page_ids.clone());
            if page["has_more"] == false {
                break;
            }
            cursor = page_ids.last().cloned();
        }
        assert_eq!(seen, created);
        assert_eq!(ids(&list(&app, "?limit=100").await).len(), 7);
    }
);

db_test!(list_filters_by_status, |app| async move {
    let a = app.create_customer().await;
    let b = app.create_customer().await;
    app.exec(&format!(
        "UPDATE business_customers SET verification_status = 'in_review' WHERE id = '{a}'"
    ))
    .await;
    assert_eq!(
        ids(&list(&app, "?verification_status=in_review").await),
        [a]
    );
    assert_eq!(ids(&list(&app, "?verification_status=pending").await), [b]);
    assert!(ids(&list(&app, "?verification_status=approved").await).is_empty());
});

db_test!(a_fresh_link_revokes_the_older_ones, |app| async move {
    let first: Value = app
        .create(&body_with_email(&unique_email()))
        .await
        .json()
        .await
        .unwrap();
    let id = first["customer_id"].as_str().unwrap();
    app.clock.advance(Duration::minutes(5));
    let r = app.issue_link_as(&app.key, id).await;
    assert_eq!(r.status(), 200);
    let second: Value = r.json().await.unwrap();
    assert_eq!(second["status"], "success");
    assert_eq!(second["customer_id"], id);
    assert_eq!(second["verification_status"], "pending");
    assert_ne!(second["kyb_link"], first["kyb_link"]);
    let got: Value = app
        .get(&format!("/v2/business_customer/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(got["kyb_link"], second["kyb_link"]);
    assert_eq!(got["link_expires_at"], second["link_expires_at"]);
    assert_ne!(got["updated_at"], got["created_at"]);

    let audit = app.state.store.list_audit(&app.platform).await.unwrap();
    let issued: Vec<_> = audit
        .iter()
        .filter(|a| a.action == "kyb_link.created")
        .collect();
    assert_eq!(issued.len(), 2);
    assert_eq!(issued[1].details["revoked_links"], 1);
    let events = app.state.store.list_events(&app.scope()).await.unwrap();
    assert_eq!(
        events.last().unwrap().event_type,
        "business_customer.kyb_link.created"
    );
    // At rest the event names the link by its id; the token is put back on the way out.
    let mut payload = events.last().unwrap().payload.clone();
    assert_ne!(payload["data"]["object"]["kyb_link"], second["kyb_link"]);
    app.state.links.reveal_json(&mut payload);
    assert_eq!(payload["data"]["object"]["kyb_link"], second["kyb_link"]);
});

db_test!(an_expired_link_is_not_shown, |app| async move {
    let id = app.create_customer().await;
    app.clock.advance(Duration::days(7) + Duration::seconds(1));
    let got: Value = app
        .get(&format!("/v2/business_customer/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(got["kyb_link"], Value::Null);
    assert_eq!(got["link_expires_at"], Value::Null);
    // A new link brings it back.
    assert_eq!(app.issue_link_as(&app.key, &id).await.status(), 200);
    let got: Value = app
        .get(&format!("/v2/business_customer/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert!(got["kyb_link"]
        .as_str()
        .unwrap()
        .starts_with("https://kyb.test/kyb/"));
});

db_test!(final_customers_get_no_new_link, |app| async move {
    let id = app.create_customer().await;
    app.exec(&format!(
        "UPDATE business_customers SET verification_status = 'approved' WHERE id = '{id}'"
    ))
    .await;
    let err = assert_error(app.issue_link_as(&app.key, &id).await, 409, "invalid_state").await;
    assert!(
        err["message"].as_str().unwrap().contains("approved"),
        "{err}"
    );
    let audit = app.state.store.list_audit(&app.platform).await.unwrap();
    assert_eq!(
        audit
            .iter()
            .filter(|a| a.action == "kyb_link.created")
            .count(),
        1,
        "nothing written"
    );
});

db_test!(unknown_and_malformed_ids_are_404, |app| async move {
    assert_error(
        app.get("/v2/business_customer/cust_doesnotexist").await,
        404,
        "resource_missing",
    )
    .await;
    assert_error(
        app.get("/v2/business_customer/evt_wrongkind").await,
        404,
        "resource_missing",
    )
    .await;
    assert_error(
        app.get("/v2/business_customer/'%20OR%201=1").await,
        404,
        "resource_missing",
    )
    .await;
    assert_error(
        app.issue_link_as(&app.key, "cust_doesnotexist").await,
        404,
        "resource_missing",
    )
    .await;
});

db_test!(
    issue_link_body_may_be_empty_or_an_empty_object,
    |app| async move {
        let id = app.create_customer().await;
        let post = |body: &'static str| {
            app.client
                .post(app.url(&format!("/v2/business_customer/{id}/kyb_link")))
                .header("ngnc-sec-key", &app.key)
                .header("idempotency-key", new_idempotency_key())
                .header("content-type", "application/json")
                .body(body)
                .send()
        };
        assert_eq!(post("{}").await.unwrap().status(), 200);
        let err = assert_error(
            post("{\"ttl\": 5}").await.unwrap(),
            400,
            "parameter_unknown",
        )
        .await;
        assert_eq!(err["param"], "ttl");
    }
);

db_test!(requirements_say_what_is_still_due, |app| async move {
    let id = app.create_customer().await;
    let got: Value = app
        .get(&format!("/v2/business_customer/{id}"))
        .await
        .json()
        .await
        .unwrap();
    let usa_new = [
        "business_details.entity_type",
        "business_details.registration_number",
        "business_details.date_of_incorporation",
        "business_details.tax_id",
        "business_details.business_description",
        "people.control_person",
        "documents.certificate_of_incorporation",
        "documents.proof_of_address",
        "documents.ownership_structure",
    ];
    assert_eq!(
        got["requirements"]["currently_due"],
        serde_json::json!(usa_new)
    );

    // What the hosted flow will write, written directly until it exists.
    let now = "2026-01-01T00:00:00Z";
    app.exec(&format!(
        "INSERT INTO business_profiles (customer_id, legal_name, entity_type, registration_number, \
         date_of_incorporation, tax_id, business_description, operating_address, updated_at) VALUES \
         ('{id}', 'Acme Corp', 'llc', '5551234', '2019-03-01', '123456789', 'Payments', '1 Main St', '{now}')"
    ))
    .await;
    app.exec(&format!(
        "INSERT INTO people (id, customer_id, full_name, date_of_birth, nationality, role, is_control_person, \
         ownership_bp, created_at, updated_at) VALUES ('per_1', '{id}', 'Ada Obi', '1980-01-01', 'NGA', \
         'director', TRUE, 6000, '{now}', '{now}')"
    ))
    .await;
    app.exec(&format!(
        "INSERT INTO documents (id, customer_id, platform_id, kind, original_name, content_type, size_bytes, \
         sha256, storage_key, uploaded_at) VALUES ('doc_1', '{id}', '{}', 'proof_of_address', 'bill.pdf', \
         'application/pdf', 1000, 'abc', 'k1', '{now}')",
        app.platform
    ))
    .await;
    let got: Value = app
        .get(&format!("/v2/business_customer/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        got["requirements"]["currently_due"],
        serde_json::json!([
            "business_details.tax_id",
            "documents.certificate_of_incorporation",
            "documents.ownership_structure"
        ]),
        "the EIN is not in NN-NNNNNNN form; two documents are missing"
    );
    // The list computes the same, for every customer of the page.
    let list: Value = app.get("/v2/business_customer").await.json().await.unwrap();
    assert_eq!(list["data"][0]["requirements"], got["requirements"]);
});

db_test!(requirements_follow_the_country, |app| async move {
    let mut body = body_with_email(&unique_email());
    body["registered_country"] = "NGA".into();
    let id = app.create(&body).await.json::<Value>().await.unwrap()["customer_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let got: Value = app
        .get(&format!("/v2/business_customer/{id}"))
        .await
        .json()
        .await
        .unwrap();
    let due: Vec<&str> = got["requirements"]["currently_due"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(due.contains(&"documents.tax_registration"), "{due:?}");
    body["registered_country"] = "FRA".into();
    body["business_email"] = unique_email().into();
    let id = app.create(&body).await.json::<Value>().await.unwrap()["customer_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let got: Value = app
        .get(&format!("/v2/business_customer/{id}"))
        .await
        .json()
        .await
        .unwrap();
    let due: Vec<&str> = got["requirements"]["currently_due"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        !due.contains(&"business_details.tax_id"),
        "a tax id is optional by default: {due:?}"
    );
    assert!(!due.contains(&"documents.tax_registration"));
});

db_test!(
    lists_filter_by_email_times_and_several_statuses_with_keyset_pages,
    |app| async move {
        let t0 = app.clock.now();
        let first = app.create_customer().await;
        app.clock.advance(Duration::minutes(10));
        let t1 = app.clock.now();
        let email = unique_email();
        let r = app.create(&body_with_email(&email)).await;
        let second = r.json::<Value>().await.unwrap()["customer_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let third = app.create_customer().await;
        app.clock.advance(Duration::minutes(10));
        let t2 = app.clock.now();
        // The first changes later: a new link.
        assert_eq!(app.issue_link_as(&app.key, &first).await.status(), 200);
        app.simulated(&third, "submit").await;

        let at = |t: chrono::DateTime<chrono::Utc>| {
            t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                .replace('+', "%2B")
        };
        // E-mail, compared as creation compares it.
        let page = list(
            &app,
            &format!(
                "?business_email={}",
                email.to_uppercase().replace('+', "%2B")
            ),
        )
        .await;
        assert_eq!(ids(&page), [second.as_str()]);
        // Creation time: [gte, lt).
        let page = list(&app, &format!("?created%5Bgte%5D={}", at(t1))).await;
        assert_eq!(ids(&page), [third.clone(), second.clone()]);
        let page = list(&app, &format!("?created[lt]={}", at(t1))).await;
        assert_eq!(ids(&page), [first.as_str()]);
        let page = list(
            &app,
            &format!("?created[gte]={}&created[lt]={}", at(t0), at(t2)),
        )
        .await;
        assert_eq!(ids(&page).len(), 3);
        // Changed since a sync.
        let page = list(&app, &format!("?updated[gte]={}", at(t2))).await;
        assert_eq!(ids(&page), [third.clone(), first.clone()]);
        // Several statuses.
        let page = list(&app, "?verification_status=in_review,approved").await;
        assert_eq!(ids(&page), [third.as_str()]);
        let page = list(&app, "?verification_status=pending,in_review").await;
        assert_eq!(ids(&page).len(), 3);
        let page = list(
            &app,
            "?verification_status=approved&verification_status=in_review",
        )
        .await;
        assert_eq!(ids(&page), [third.as_str()]);
        // Filters combine, and pages follow the filter.
        let page = list(&app, "?verification_status=pending&limit=1").await;
        assert_eq!(ids(&page), [second.as_str()]);
        assert_eq!(page["has_more"], true);
        let page = list(
            &app,
            &format!("?verification_status=pending&limit=1&starting_after={second}"),
        )
        .await;
        assert_eq!(ids(&page), [first.as_str()]);
        assert_eq!(page["has_more"], false);

        for (query, param) in [
            ("?created[gte]=yesterday", "created[gte]"),
            ("?updated[gte]=2026-13-01T00:00:00Z", "updated[gte]"),
            ("?verification_status=pending,lost", "verification_status"),
            ("?business_email=not-an-email", "business_email"),
        ] {
            let r = app.get(&format!("/v2/business_customer{query}")).await;
            let e = assert_error(r, 400, "parameter_invalid").await;
            assert_eq!(e["param"], param, "{query}");
        }

        // Events by customer.
        let events: Value = app
            .get(&format!("/v2/events?customer_id={third}&limit=100"))
            .await
            .json()
            .await
            .unwrap();
        let events = events["data"].as_array().unwrap();
        assert_eq!(events.len(), 4, "{events:?}");
        assert!(events
            .iter()
            .all(|e| e["data"]["object"]["customer_id"] == third.as_str()));
        let r = app.get("/v2/events?customer_id=nope").await;
        let e = assert_error(r, 400, "parameter_invalid").await;
        assert_eq!(e["param"], "customer_id");
    }
);

db_test!(
    a_link_takes_its_own_lifetime_and_return_url_else_the_platforms,
    |app| async move {
        let id = app.create_customer().await;
        let path = format!("/v2/business_customer/{id}/kyb_link");
        let expires_at = |v: &Value| {
            chrono::DateTime::parse_from_rfc3339(v["link_expires_at"].as_str().unwrap()).unwrap()
        };
        let r = app
            .post_json(&path, &serde_json::json!({ "expires_in": 3600 }))
            .await;
        assert_eq!(r.status(), 200);
        let v: Value = r.json().await.unwrap();
        assert_eq!(expires_at(&v), app.clock.now() + Duration::hours(1));

        for (body, param) in [
            (serde_json::json!({ "expires_in": 60 }), "expires_in"),
            (serde_json::json!({ "expires_in": 2_592_001 }), "expires_in"),
            (
                serde_json::json!({ "return_url": "http://93.184.216.34/done" }),
                "return_url",
            ),
            (
                serde_json::json!({ "return_url": "https://10.1.2.3/done" }),
                "return_url",
            ),
            (
                serde_json::json!({ "return_url": "javascript:alert(1)" }),
                "return_url",
            ),
        ] {
            let r = app.post_json(&path, &body).await;
            let e = assert_error(r, 400, "parameter_invalid").await;
            assert_eq!(e["param"], param, "{body}");
            assert!(
                e["message"].as_str().unwrap().starts_with(param),
                "{}",
                e["message"]
            );
        }

        // The platform's own lifetime applies when the request gives none (new keys read it).
        let ctx = kyb_store::AuditContext::operator_cli(app.clock.now());
        app.state
            .store
            .set_policy(
                &app.platform,
                &kyb_store::PlatformPolicy {
                    link_ttl_secs: Some(Some(2 * 86_400)),
                    ..Default::default()
                },
                &ctx,
            )
            .await
            .unwrap();
        let r = app
            .post_json(
                &path,
                &serde_json::json!({ "return_url": "https://93.184.216.34/onboarding/done" }),
            )
            .await;
        assert_eq!(r.status(), 200);
        let v: Value = r.json().await.unwrap();
        assert_eq!(expires_at(&v), app.clock.now() + Duration::days(2));
        let created = app.create(&body_with_email(&unique_email())).await;
        let created: Value = created.json().await.unwrap();
        assert_eq!(expires_at(&created), app.clock.now() + Duration::days(2));

        // The customer who submitted is offered the link's return address.
        let link = v["kyb_link"].as_str().unwrap();
        let browser = crate::hosted::Browser::new(&app);
        browser.start(link).await;
        app.simulated(&id, "submit").await;
        let (status, html) = browser.get("/kyb/flow/business").await;
        assert_eq!(status, 200);
        assert!(
            html.contains("href=\"https://93.184.216.34/onboarding/done\""),
            "{html}"
        );

        // A reviewer's request for more information sends a link of the platform's lifetime,
        // with the return address of the link before.
        app.run_checks().await;
        let asked = app
            .simulate(&id, serde_json::json!({ "action": "request_more_info" }))
            .await;
        assert_eq!(asked.status(), 200);
        let asked: Value = asked.json().await.unwrap();
        assert_eq!(expires_at(&asked), app.clock.now() + Duration::days(2));
        assert_eq!(
            app.dump(&format!(
                "SELECT return_url FROM kyb_links WHERE customer_id = '{id}' AND used_at IS NULL AND revoked_at IS NULL"
            ))
            .await,
            ["https://93.184.216.34/onboarding/done"]
        );
    }
);
