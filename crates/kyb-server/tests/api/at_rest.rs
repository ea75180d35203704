//! What is kept at rest holds no KYB link token: events and stored responses name the link by
//! its id, the token is put back on the way out, and a migration scrubs what older versions
//! stored.

use crate::db_test;
use crate::helpers::*;
use serde_json::Value;

fn token_of(link: &str) -> String {
    link.rsplit_once("/kyb/").unwrap().1.to_owned()
}

db_test!(
    tokens_stored_by_older_versions_are_scrubbed,
    |app| async move {
        let body = body_with_email(&unique_email()).to_string();
        let first = app.create_as(&app.key, "scrub-1", &body).await;
        assert_eq!(first.status(), 200);
        let first_bytes = first.bytes().await.unwrap();
        let created: Value = serde_json::from_slice(&first_bytes).unwrap();
        let token = token_of(created["kyb_link"].as_str().unwrap());
        let link_id = app.dump("SELECT id FROM kyb_links").await.remove(0);
        let placeholder = format!("{{{{link_token:{link_id}}}}}");

        let events = || app.dump("SELECT CAST(data AS TEXT) FROM events");
        let responses = || async {
            if app.state.store.as_sqlite().is_some() {
                app.dump("SELECT CAST(response_body AS TEXT) FROM idempotency_keys")
                    .await
            } else {
                app.dump("SELECT convert_from(response_body, 'UTF8') FROM idempotency_keys")
                    .await
            }
        };
        for row in events().await.into_iter().chain(responses().await) {
            assert!(!row.contains(&token), "{row}");
            assert!(row.contains(&placeholder), "{row}");
        }

        // Put the token back where version 0.8 kept it, as if the rows were written by it.
        if app.state.store.as_sqlite().is_some() {
            app.exec(&format!(
                "UPDATE events SET data = REPLACE(data, '{placeholder}', '{token}')"
            ))
            .await;
            app.exec(&format!(
            "UPDATE idempotency_keys SET response_body = CAST(REPLACE(CAST(response_body AS TEXT), '{placeholder}', '{token}') AS BLOB)"
        ))
        .await;
        } else {
            app.exec(&format!(
                "UPDATE events SET data = REPLACE(data::text, '{placeholder}', '{token}')::jsonb"
            ))
            .await;
            app.exec(&format!(
            "UPDATE idempotency_keys SET response_body = convert_to(REPLACE(convert_from(response_body, 'UTF8'), '{placeholder}', '{token}'), 'UTF8')"
        ))
        .await;
        }
        assert!(events().await.iter().all(|r| r.contains(&token)));
        app.exec("DELETE FROM data_migrations").await;
        app.state.store.migrate().await.unwrap();
        for row in events().await.into_iter().chain(responses().await) {
            assert!(!row.contains(&token), "scrubbed: {row}");
            assert!(row.contains(&placeholder), "{row}");
        }

        // The platform sees exactly what it saw before.
        let replay = app.create_as(&app.key, "scrub-1", &body).await;
        assert_eq!(replay.bytes().await.unwrap(), first_bytes);
        let listed: Value = app.get("/v2/events").await.json().await.unwrap();
        for e in listed["data"].as_array().unwrap() {
            assert_eq!(e["data"]["object"]["kyb_link"], created["kyb_link"], "{e}");
        }
        // Running the migrations again changes nothing.
        app.state.store.migrate().await.unwrap();
        assert!(events().await.iter().all(|r| r.contains(&placeholder)));
    }
);

db_test!(
    a_placeholder_typed_by_a_platform_opens_nothing,
    |app| async move {
        // A platform that knows another customer's link id cannot make kyb reveal its token.
        let victim = app.create_customer().await;
        let _ = victim;
        let link_id = app.dump("SELECT id FROM kyb_links").await.remove(0);
        let mut body = body_with_email(&unique_email());
        body["business_name"] =
            Value::String(format!("https://kyb.test/kyb/{{{{link_token:{link_id}}}}}"));
        let r = app.create(&body).await;
        let status = r.status();
        let v: Value = r.json().await.unwrap();
        if status == 200 {
            let customer = v["customer_id"].as_str().unwrap();
            let got: Value = app
                .get(&format!("/v2/business_customer/{customer}"))
                .await
                .json()
                .await
                .unwrap();
            assert_eq!(got["business_name"], body["business_name"]);
            let listed: Value = app.get("/v2/events").await.json().await.unwrap();
            for e in listed["data"].as_array().unwrap() {
                if e["data"]["object"]["customer_id"] == customer {
                    assert_eq!(e["data"]["object"]["business_name"], body["business_name"]);
                }
            }
        }
    }
);
