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
