//! Text a stranger sends: NUL, control, format and bidi characters are refused with the field's
//! name in every place `/v2` reads text (bodies, query, path), never a 500 and never stored; a
//! path that is not UTF-8 and a repeated query parameter get our error shape too.

use crate::db_test;
use crate::helpers::*;
use serde_json::{json, Value};

db_test!(
    invisible_characters_are_refused_everywhere,
    |app| async move {
        for (bad, what) in [
            ("\u{0}", "NUL"),
            ("\u{1b}", "escape"),
            ("\u{202e}", "bidi override"),
            ("\u{200b}", "zero-width space"),
        ] {
            // A webhook endpoint's description (a NUL was a 500 on PostgreSQL).
            let r = app
                .post_json(
                    "/v2/webhook_endpoints",
                    &json!({"url": "https://example.com/hook", "description": format!("ops{bad}")}),
                )
                .await;
            let e = assert_error(r, 400, "parameter_invalid").await;
            assert_eq!(e["param"], "description", "{what}: {e}");

            // A field of the create body, and a key nested anywhere.
            let mut body = body_with_email(&unique_email());
            body["registered_address"] = Value::String(format!("1 Main St{bad}"));
            let e = assert_error(app.create(&body).await, 400, "parameter_invalid").await;
            assert_eq!(e["param"], "registered_address", "{what}: {e}");

            // A query parameter.
            let r = app
                .get(&format!(
                    "/v2/business_customer?starting_after=cust_{}",
                    urlencode(bad)
                ))
                .await;
            let e = assert_error(r, 400, "parameter_invalid").await;
            assert_eq!(e["param"], "starting_after", "{what}: {e}");

            // A path id.
            let r = app
                .get(&format!("/v2/business_customer/cust_{}", urlencode(bad)))
                .await;
            let e = assert_error(r, 400, "parameter_invalid").await;
            assert_eq!(e["param"], "path", "{what}: {e}");
        }
        assert_eq!(app.customer_count().await, 0, "nothing was stored");
        let endpoints: Value = app.get("/v2/webhook_endpoints").await.json().await.unwrap();
        assert_eq!(endpoints["data"].as_array().unwrap().len(), 0);

        // Line breaks stay allowed where text may span lines.
        let mut body = body_with_email(&unique_email());
        body["registered_address"] = Value::String("1 Main St\nSpringfield".into());
        assert_eq!(app.create(&body).await.status(), 200);
    }
);

db_test!(
    paths_and_queries_that_cannot_be_read_get_our_shape,
    |app| async move {
        // Not UTF-8 once decoded.
        let r = app.get("/v2/business_customer/%FF%FE").await;
        assert_eq!(r.headers()["content-type"], "application/json");
        let e = assert_error(r, 400, "parameter_invalid").await;
        assert_eq!(e["param"], "path");
        let r = app.get("/v2/events/evt_%C0").await;
        assert_error(r, 400, "parameter_invalid").await;

        // A query parameter given twice is named.
        let r = app.get("/v2/business_customer?limit=1&limit=2").await;
        let e = assert_error(r, 400, "parameter_invalid").await;
        assert_eq!(e["param"], "limit", "{e}");
        assert!(e["message"].as_str().unwrap().contains("more than once"));

        // Headers larger than the service takes: 431 in our shape.
        let r = app
            .client
            .get(app.url("/v2/business_customer"))
            .header("ngnc-sec-key", &app.key)
            .header("x-padding", "a".repeat(20 * 1024))
            .send()
            .await
            .unwrap();
        let e = assert_error(r, 431, "headers_too_large").await;
        assert!(e["message"].as_str().unwrap().contains("16384"), "{e}");
        // A page answers with a page.
        let r = app
            .client
            .get(app.url("/kyb/static/app.css"))
            .header("cookie", format!("a={}", "b".repeat(20 * 1024)))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 431);
        assert!(r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"));

        // A method a route does not have.
        let r = app
            .client
            .put(app.url("/v2/business_customer"))
            .header("ngnc-sec-key", &app.key)
            .send()
            .await
            .unwrap();
        assert_error(r, 405, "method_not_allowed").await;

        // The pages answer with a page.
        let r = app.client.get(app.url("/kyb/%FF")).send().await.unwrap();
        assert_eq!(r.status(), 400);
        assert!(r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        let r = app
            .client
            .get(app.url("/console/cases/cust_%01"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
    }
);

fn urlencode(s: &str) -> String {
    s.bytes().map(|b| format!("%{b:02X}")).collect()
}
