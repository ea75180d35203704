use crate::db_test;
use crate::helpers::*;
use kyb_domain::Mode;
use serde_json::Value;

async fn page(app: &TestApp, key: &str, query: &str) -> Value {
    let r = app.get_as(key, &format!("/v2/events{query}")).await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

fn types(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_owned())
        .collect()
}

db_test!(
    events_list_newest_first_with_cursor_and_filter,
    |app| async move {
        let a = app.create_customer().await;
        assert_eq!(app.issue_link_as(&app.key, &a).await.status(), 200);
        let b = app.create_customer().await;
        let all = page(&app, &app.key, "?limit=100").await;
        assert_eq!(
            types(&all),
            [
                "business_customer.kyb_link.created",
                "business_customer.created",
                "business_customer.kyb_link.created",
                "business_customer.kyb_link.created",
                "business_customer.created",
            ]
        );
        assert_eq!(all["has_more"], false);
        let newest = &all["data"][0];
        assert!(newest["id"].as_str().unwrap().starts_with("evt_"));
        assert_eq!(newest["api_version"], "2");
        assert_eq!(newest["data"]["object"]["customer_id"], b.as_str());
        assert!(newest["data"].get("previous_attributes").is_some());

        // Two at a time, following the cursor, gives the same events.
        let mut seen = Vec::new();
        let mut cursor = String::new();
        loop {
            let q = if cursor.is_empty() {
                "?limit=2".to_owned()
            } else {
                format!("?limit=2&starting_after={cursor}")
            };
            let p = page(&app, &app.key, &q).await;
            let ids: Vec<String> = p["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["id"].as_str().unwrap().to_owned())
                .collect();
            seen.extend(ids.clone());
            if p["has_more"] == false {
                break;
            }
            cursor = ids.last().unwrap().clone();
        }
        let all_ids: Vec<&str> = all["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].as_str().unwrap())
            .collect();
        assert_eq!(seen, all_ids);

        let created = page(&app, &app.key, "?type=business_customer.created").await;
        assert_eq!(
            types(&created),
            ["business_customer.created", "business_customer.created"]
        );
        let one = app.get(&format!("/v2/events/{}", all_ids[0])).await;
        assert_eq!(one.status(), 200);
        let one: Value = one.json().await.unwrap();
        assert_eq!(one["data"], all["data"][0]);
    }
);

db_test!(events_are_scoped_and_checked, |app| async move {
    app.create_customer().await;
    let mine = page(&app, &app.key, "").await;
    let id = mine["data"][0]["id"].as_str().unwrap().to_owned();
    let (_, other) = create_platform(&app.state.store, &app.clock, "Other", Mode::Test).await;
    assert!(page(&app, &other, "").await["data"]
        .as_array()
        .unwrap()
        .is_empty());
    assert_error(
        app.get_as(&other, &format!("/v2/events/{id}")).await,
        404,
        "resource_missing",
    )
    .await;
    let live = create_key(&app.state.store, &app.clock, &app.platform, Mode::Live).await;
    assert!(
        page(&app, &live, "").await["data"]
            .as_array()
            .unwrap()
            .is_empty(),
        "test events stay in test mode"
    );
    let err = assert_error(
        app.get("/v2/events?type=customer.deleted").await,
        400,
        "parameter_invalid",
    )
    .await;
    assert_eq!(err["param"], "type");
    let err = assert_error(
        app.get("/v2/events?starting_after=evt_nope").await,
        400,
        "parameter_invalid",
    )
    .await;
    assert_eq!(err["param"], "starting_after");
    assert_error(
        app.get("/v2/events?limit=0").await,
        400,
        "parameter_invalid",
    )
    .await;
    assert_error(
        app.client.get(app.url("/v2/events")).send().await.unwrap(),
        401,
        "api_key_missing",
    )
    .await;
});
