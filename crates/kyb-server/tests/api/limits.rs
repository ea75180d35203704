//! Limits on what one client may send: requests per API key, unknown keys per address.

use crate::db_test_with;
use crate::helpers::*;
use serde_json::Value;

db_test_with!(
    each_api_key_has_a_rate_limit,
    |mut c: kyb_server::Config| {
        c.api_rate_limit = 1;
        c
    },
    |app| async move {
        // One request a second in bursts of two: twenty at once cannot all pass.
        let mut limited = None;
        for _ in 0..20 {
            let r = app.get("/v2/business_customer").await;
            if r.status() == 429 {
                limited = Some(r);
                break;
            }
            assert_eq!(r.status(), 200);
        }
        let r = limited.expect("the limit answered 429");
        let wait: u64 = r.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=2).contains(&wait), "{wait}");
        let e = assert_error(r, 429, "rate_limited").await;
        assert_eq!(e["type"], "rate_limit_error");

        // Another key of another platform is not slowed by this one.
        let (_, key) = create_platform(
            &app.state.store,
            &app.clock,
            "Other",
            kyb_domain::Mode::Test,
        )
        .await;
        assert_eq!(
            app.get_as(&key, "/v2/business_customer").await.status(),
            200
        );
    }
);

db_test_with!(
    unknown_keys_are_limited_per_address,
    |mut c: kyb_server::Config| {
        c.api_unknown_keys_per_minute = 5;
        c
    },
    |app| async move {
        let wrong = "sk_test_0000000000000000000000000000000000000000";
        let mut statuses = Vec::new();
        for _ in 0..(5 + 1) {
            statuses.push(
                app.get_as(wrong, "/v2/business_customer")
                    .await
                    .status()
                    .as_u16(),
            );
        }
        assert_eq!(statuses.iter().filter(|s| **s == 401).count() as u32, 5);
        let r = app.get_as(wrong, "/v2/business_customer").await;
        assert_error(r, 429, "rate_limited").await;
        // The platform's real key still works from the same address.
        let r: Value = app.get("/v2/business_customer").await.json().await.unwrap();
        assert_eq!(r["status"], "success");
    }
);
