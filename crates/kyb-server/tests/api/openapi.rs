use crate::db_test;
use serde_json::Value;

const COMMITTED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");

db_test!(the_document_is_served_and_complete, |app| async move {
    let r = app
        .client
        .get(app.url("/v2/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "served without a key");
    let doc: Value = r.json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    for (path, method) in [
        ("/v2/business_customer", "post"),
        ("/v2/business_customer", "get"),
        ("/v2/business_customer/{customer_id}", "get"),
        ("/v2/business_customer/{customer_id}/kyb_link", "post"),
        ("/v2/events", "get"),
        ("/v2/events/{event_id}", "get"),
        ("/v2/audit_logs", "get"),
    ] {
        let op = &paths[path][method];
        assert!(op.is_object(), "{method} {path} documented");
        assert!(
            op["summary"].is_string() && op["description"].is_string(),
            "{method} {path} described"
        );
        assert!(
            op["responses"]["401"].is_object(),
            "{method} {path} documents 401"
        );
    }
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    let create = &schemas["CreateBusinessCustomerRequest"];
    for field in [
        "business_name",
        "business_email",
        "phone_number",
        "registered_address",
        "registered_country",
    ] {
        assert!(
            create["properties"][field]["description"].is_string(),
            "{field} documented"
        );
    }
    assert!(create["example"].is_object());
    assert!(schemas["KybLinkResponse"]["example"].is_object());
    assert!(schemas["ErrorBody"]["example"].is_object());
});

/// The committed copy must match the code. Regenerate with
/// `cargo run -q -- openapi > docs/openapi.json`.
#[test]
fn committed_copy_has_not_drifted() {
    let generated = serde_json::to_value(kyb_server::api::openapi()).unwrap();
    let committed: Value = serde_json::from_str(
        &std::fs::read_to_string(COMMITTED)
            .expect("docs/openapi.json exists (cargo run -q -- openapi > docs/openapi.json)"),
    )
    .unwrap();
    assert!(
        generated == committed,
        "docs/openapi.json is out of date: run `cargo run -q -- openapi > docs/openapi.json` and commit it"
    );
}

fn document() -> Value {
    serde_json::to_value(kyb_server::api::openapi()).unwrap()
}

/// Every operation of the document, as `(method path, operation)`.
fn operations(doc: &Value) -> Vec<(String, &Value)> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            ops.push((format!("{} {path}", method.to_uppercase()), op));
        }
    }
    ops
}

fn parameter<'a>(op: &'a Value, name: &str) -> Option<&'a Value> {
    op["parameters"]
        .as_array()?
        .iter()
        .find(|p| p["name"] == name)
}

/// What any request can be answered is documented on every operation, with our error body.
#[test]
fn every_operation_documents_every_status_it_can_return() {
    let doc = document();
    let ops = operations(&doc);
    assert_eq!(ops.len(), 29);
    let mut ids: Vec<&str> = ops
        .iter()
        .map(|(_, op)| op["operationId"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), ops.len(), "operationIds are unique");

    for (label, op) in &ops {
        let responses = op["responses"].as_object().unwrap();
        let mut expected = vec!["200", "400", "401", "403", "429", "431", "500", "503"];
        if op.get("requestBody").is_some() {
            expected.extend(["413", "415"]);
            let content = &op["requestBody"]["content"];
            if let Some(json) = content.get("application/json") {
                assert!(
                    json["schema"]["$ref"].is_string(),
                    "{label}: a body is an object, never null"
                );
            } else {
                assert!(
                    content.get("image/png").is_some()
                        || content.get("multipart/form-data").is_some(),
                    "{label}: a JSON body, an image or a multipart upload"
                );
            }
        }
        if let Some(key) = parameter(op, "idempotency-key") {
            expected.extend(["409", "422"]);
            assert_eq!(key["in"], "header");
            assert_eq!(key["required"], !label.starts_with("DELETE"), "{label}");
            let schema = &key["schema"];
            assert_eq!(
                (
                    &schema["type"],
                    &schema["minLength"],
                    &schema["maxLength"],
                    &schema["pattern"]
                ),
                (
                    &Value::from("string"),
                    &Value::from(1),
                    &Value::from(kyb_domain::IdempotencyKey::MAX_LEN),
                    &Value::from("^[!-~]+$")
                ),
                "{label}"
            );
            assert!(
                op["responses"]["409"]["headers"]["Retry-After"].is_object(),
                "{label}"
            );
        } else {
            assert!(
                !label.starts_with("POST"),
                "{label}: every POST takes an idempotency-key"
            );
        }
        for status in expected {
            let response = &responses
                .get(status)
                .unwrap_or_else(|| panic!("{label} documents {status}"));
            if status != "200" {
                assert_eq!(
                    response["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/ErrorBody",
                    "{label} {status}"
                );
            }
        }
        assert!(
            responses["429"]["headers"]["Retry-After"].is_object(),
            "{label}"
        );
        for (status, response) in responses {
            assert!(
                response["headers"]["x-request-id"].is_object(),
                "{label} {status}: x-request-id"
            );
        }
    }
}

/// The header rule documented is the one `IdempotencyKey::parse` applies.
#[test]
fn the_idempotency_key_rule_is_the_parsers() {
    use kyb_domain::IdempotencyKey;
    let max = IdempotencyKey::MAX_LEN;
    for ok in ["a".repeat(max), "!".into(), "~".into(), "st-0e1f-1".into()] {
        assert!(IdempotencyKey::parse(&ok).is_ok(), "{ok}");
    }
    for bad in [
        "".into(),
        "a".repeat(max + 1),
        "a b".into(),
        "é".into(),
        "a\u{7f}".into(),
    ] {
        assert!(IdempotencyKey::parse(&bad).is_err(), "{bad:?}");
    }
}

/// Ids in paths and cursors have the shape their type parses, enums list what the service
/// takes, and the countries are the assigned ones.
#[test]
fn ids_and_enums_are_the_domains() {
    use kyb_domain::{
        AuditId, CountryCode, CustomerId, DeliveryId, EventId, VerificationStatus,
        WebhookEndpointId,
    };
    let id = |prefix: &str| Value::from(format!("^{prefix}[A-Za-z0-9]{{1,64}}$"));
    let doc = document();
    for (label, op) in operations(&doc) {
        for p in op["parameters"].as_array().into_iter().flatten() {
            let prefix = match (p["name"].as_str().unwrap(), label.as_str()) {
                ("customer_id", _) => CustomerId::PREFIX,
                ("event_id", _) => EventId::PREFIX,
                ("endpoint_id", _) => WebhookEndpointId::PREFIX,
                ("delivery_id", _) => DeliveryId::PREFIX,
                ("starting_after", "GET /v2/business_customer") => CustomerId::PREFIX,
                ("starting_after", "GET /v2/events") => EventId::PREFIX,
                ("starting_after", "GET /v2/audit_logs") => AuditId::PREFIX,
                ("starting_after", "GET /v2/webhook_endpoints") => WebhookEndpointId::PREFIX,
                ("starting_after", _) => DeliveryId::PREFIX,
                _ => continue,
            };
            assert_eq!(p["schema"]["pattern"], id(prefix), "{label} {}", p["name"]);
        }
    }
    let list = &doc["paths"]["/v2/business_customer"]["get"];
    let statuses: Vec<&str> = VerificationStatus::ALL
        .map(VerificationStatus::as_str)
        .into();
    assert_eq!(
        parameter(list, "verification_status").unwrap()["schema"]["items"]["enum"],
        serde_json::json!(statuses)
    );
    let mut listed_types = kyb_server::api::events::EVENT_TYPES.to_vec();
    listed_types.push(kyb_server::api::events::PING);
    assert_eq!(
        parameter(&doc["paths"]["/v2/events"]["get"], "type").unwrap()["schema"]["enum"],
        serde_json::json!(listed_types)
    );

    let create = &doc["components"]["schemas"]["CreateBusinessCustomerRequest"]["properties"];
    let countries = create["registered_country"]["enum"].as_array().unwrap();
    assert_eq!(countries.len(), celes::Country::get_countries().len());
    for c in countries {
        let c = c.as_str().unwrap();
        assert_eq!(CountryCode::parse(c).unwrap().as_str(), c);
    }
    assert_eq!(create["business_email"]["format"], "email");
    for field in ["business_name", "registered_address", "phone_number"] {
        assert!(create[field]["pattern"].is_string(), "{field}");
    }
}

// JSON Schema's `integer` includes `879.0`; so does the service.
db_test!(
    whole_numbers_written_with_a_fraction_are_integers,
    |app| async move {
        let r = app
            .post_json(
                "/v2/webhook_endpoints",
                &serde_json::json!({"url": "https://kyb-test.invalid/hooks"}),
            )
            .await;
        assert_eq!(r.status(), 200);
        let endpoint: Value = r.json().await.unwrap();
        let rotate = format!(
            "/v2/webhook_endpoints/{}/rotate_secret",
            endpoint["data"]["id"].as_str().unwrap()
        );
        let body: Value = serde_json::from_str(r#"{"expire_previous_in": 879.0}"#).unwrap();
        let r = app.post_json(&rotate, &body).await;
        assert_eq!(r.status(), 200);
        let rotated: Value = r.json().await.unwrap();
        assert!(rotated["data"]["previous_secret_expires_at"].is_string());
        for refused in ["879.5", "1e300", "-1.0"] {
            let body: Value =
                serde_json::from_str(&format!(r#"{{"expire_previous_in": {refused}}}"#)).unwrap();
            let e = crate::helpers::assert_error(
                app.post_json(&rotate, &body).await,
                400,
                "parameter_invalid",
            )
            .await;
            assert_eq!(e["param"], "expire_previous_in", "{refused}");
        }
    }
);
