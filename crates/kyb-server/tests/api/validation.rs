use crate::db_test;
use crate::helpers::*;
use serde_json::{json, Value};

/// (field, value, expected code, a phrase the message must contain)
fn bad_fields() -> Vec<(&'static str, Value, &'static str, &'static str)> {
    vec![
        (
            "business_name",
            json!("   "),
            "parameter_missing",
            "must not be empty",
        ),
        (
            "business_name",
            json!("x".repeat(201)),
            "parameter_invalid",
            "at most 200",
        ),
        // Invisible and text-direction characters: a listed name in disguise.
        (
            "business_name",
            json!("BANCO NA\u{200B}CIONAL DE CUBA"),
            "parameter_invalid",
            "U+200B at character 9",
        ),
        (
            "business_name",
            json!("BANCO\u{00AD} NACIONAL"),
            "parameter_invalid",
            "U+00AD",
        ),
        (
            "business_name",
            json!("\u{202E}BANCO NACIONAL"),
            "parameter_invalid",
            "text-direction",
        ),
        (
            "business_name",
            json!("BANCO\u{2060}NACIONAL"),
            "parameter_invalid",
            "U+2060",
        ),
        (
            "registered_address",
            json!("1 Main St\u{2067}"),
            "parameter_invalid",
            "U+2067",
        ),
        (
            "business_name",
            json!(42),
            "parameter_invalid_type",
            "must be a string",
        ),
        (
            "business_name",
            Value::Null,
            "parameter_invalid_type",
            "must be a string",
        ),
        (
            "business_email",
            json!("not-an-email"),
            "parameter_invalid",
            "valid e-mail",
        ),
        (
            "business_email",
            json!("a@localhost"),
            "parameter_invalid",
            "valid e-mail",
        ),
        (
            "business_email",
            json!(""),
            "parameter_missing",
            "must not be empty",
        ),
        (
            "phone_number",
            json!("555-0123"),
            "parameter_invalid",
            "starting with `+`",
        ),
        (
            "phone_number",
            json!("+1 555 0123 ext 9"),
            "parameter_invalid",
            "only digits",
        ),
        (
            "phone_number",
            json!("+999 1234 5678"),
            "parameter_invalid",
            "not assigned",
        ),
        (
            "phone_number",
            json!("+1 555"),
            "parameter_invalid",
            "8 to 15 digits",
        ),
        (
            "registered_address",
            json!(""),
            "parameter_missing",
            "must not be empty",
        ),
        (
            "registered_address",
            json!("a".repeat(501)),
            "parameter_invalid",
            "at most 500",
        ),
        (
            "registered_country",
            json!("US"),
            "parameter_invalid",
            "did you mean `USA`",
        ),
        (
            "registered_country",
            json!("usa"),
            "parameter_invalid",
            "did you mean `USA`",
        ),
        (
            "registered_country",
            json!("United States"),
            "parameter_invalid",
            "did you mean `USA`",
        ),
        (
            "registered_country",
            json!("Nigeria"),
            "parameter_invalid",
            "did you mean `NGA`",
        ),
        (
            "registered_country",
            json!("XXX"),
            "parameter_invalid",
            "not an assigned",
        ),
        (
            "registered_country",
            json!(["USA"]),
            "parameter_invalid_type",
            "must be a string",
        ),
    ]
}

db_test!(
    each_bad_field_is_named_and_nothing_is_stored,
    |app| async move {
        for (field, value, code, phrase) in bad_fields() {
            let mut body = body_with_email(&unique_email());
            body[field] = value.clone();
            let err = assert_error(app.create(&body).await, 400, code).await;
            assert_eq!(err["param"], field, "{field} = {value}: {err}");
            assert!(
                err["message"].as_str().unwrap().contains(phrase),
                "{field} = {value}: {err}"
            );
        }
        assert_eq!(app.customer_count().await, 0);
        assert!(app
            .state
            .store
            .list_events(&app.scope())
            .await
            .unwrap()
            .is_empty());
        assert_eq!(
            app.state.store.count_idempotency_records().await.unwrap(),
            0
        );
    }
);

db_test!(missing_and_unknown_fields_are_named, |app| async move {
    let mut body = body_with_email(&unique_email());
    body.as_object_mut().unwrap().remove("phone_number");
    let err = assert_error(app.create(&body).await, 400, "parameter_missing").await;
    assert_eq!(err["param"], "phone_number");

    let mut body = body_with_email(&unique_email());
    body["busines_name"] = json!("typo");
    let err = assert_error(app.create(&body).await, 400, "parameter_unknown").await;
    assert_eq!(err["param"], "busines_name");
    assert_eq!(app.customer_count().await, 0);
});

db_test!(malformed_bodies_get_our_error_shape, |app| async move {
    let post = |content_type: Option<&'static str>, body: Vec<u8>| {
        let mut req = app
            .client
            .post(app.url("/v2/business_customer"))
            .header("ngnc-sec-key", &app.key)
            .header("idempotency-key", new_idempotency_key())
            .body(body);
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        req.send()
    };
    let err = assert_error(
        post(Some("application/json"), b"{\"business_name\": ".to_vec())
            .await
            .unwrap(),
        400,
        "body_invalid_json",
    )
    .await;
    assert!(err["message"].as_str().unwrap().contains("line 1"), "{err}");
    assert_error(
        post(Some("application/json"), b"[1, 2]".to_vec())
            .await
            .unwrap(),
        400,
        "body_invalid_json",
    )
    .await;
    assert_error(
        post(Some("application/json"), Vec::new()).await.unwrap(),
        400,
        "body_missing",
    )
    .await;
    assert_error(
        post(Some("application/json"), b"  ".to_vec())
            .await
            .unwrap(),
        400,
        "body_missing",
    )
    .await;
    let form = b"business_name=Acme".to_vec();
    assert_error(
        post(Some("application/x-www-form-urlencoded"), form.clone())
            .await
            .unwrap(),
        415,
        "unsupported_media_type",
    )
    .await;
    assert_error(
        post(None, form).await.unwrap(),
        415,
        "unsupported_media_type",
    )
    .await;
    let mut big = body_with_email(&unique_email());
    big["registered_address"] = json!("a".repeat(70 * 1024));
    assert_error(
        post(Some("application/json"), big.to_string().into_bytes())
            .await
            .unwrap(),
        413,
        "body_too_large",
    )
    .await;
    // Charset parameters are fine.
    let ok = post(
        Some("application/json; charset=utf-8"),
        body_with_email(&unique_email()).to_string().into_bytes(),
    )
    .await
    .unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(app.customer_count().await, 1);
});

db_test!(
    errors_everywhere_have_the_shape_and_a_request_id,
    |app| async move {
        assert_error(app.get("/v2/nothing_here").await, 404, "route_not_found").await;
        let r = app
            .client
            .delete(app.url("/v2/business_customer"))
            .header("ngnc-sec-key", &app.key)
            .send()
            .await
            .unwrap();
        assert_error(r, 405, "method_not_allowed").await;
        let err = assert_error(
            app.get("/v2/business_customer?limit=500").await,
            400,
            "parameter_invalid",
        )
        .await;
        assert_eq!(err["param"], "limit");
        let err = assert_error(
            app.get("/v2/business_customer?verification_status=done")
                .await,
            400,
            "parameter_invalid",
        )
        .await;
        assert_eq!(err["param"], "verification_status");
        let err = assert_error(
            app.get("/v2/business_customer?colour=red").await,
            400,
            "parameter_unknown",
        )
        .await;
        assert_eq!(err["param"], "colour");
        let err = assert_error(
            app.get("/v2/business_customer?starting_after=cust_doesnotexist")
                .await,
            400,
            "parameter_invalid",
        )
        .await;
        assert_eq!(err["param"], "starting_after");
    }
);
