//! What a platform gives before its customer does, on both databases: business details and
//! people with the create and with an update, documents through the API; checked as the hosted
//! pages check them, shown in the hosted flow for the customer to confirm, refused after
//! submission and where the customer changed the item.

use crate::helpers::*;
use crate::hosted::{with_csrf, Browser, BUSINESS, PDF};
use crate::{db_test, db_test_with};
use serde_json::{json, Value};

fn details() -> Value {
    json!({
        "legal_name": "Acme Corp Solutions Ltd",
        "entity_type": "llc",
        "registration_number": "5551234",
        "date_of_incorporation": "2019-03-01",
        "tax_id": "123456789",
        "business_description": "Payments software for small shops",
    })
}

fn ada() -> Value {
    json!({
        "full_name": "Ada Obi", "date_of_birth": "1980-04-12", "nationality": "USA",
        "role": "director", "is_control_person": true, "ownership_percent": 60.5
    })
}

impl TestApp {
    async fn due(&self, id: &str) -> Vec<String> {
        let v = self.get_json(&format!("/v2/business_customer/{id}")).await;
        serde_json::from_value(v["requirements"]["currently_due"].clone()).unwrap()
    }

    /// The files the document store holds for customer `id`.
    fn stored_files(&self, id: &str) -> usize {
        let dir = self
            .state
            .config
            .data_dir
            .join("documents")
            .join(self.platform.as_str())
            .join(id);
        std::fs::read_dir(dir).map_or(0, |d| d.count())
    }

    async fn upload_document(&self, id: &str, kind: &str, bytes: Vec<u8>) -> reqwest::Response {
        let form = reqwest::multipart::Form::new()
            .text("kind", kind.to_owned())
            .part(
                "file",
                reqwest::multipart::Part::bytes(bytes).file_name("scan.pdf"),
            );
        self.client
            .post(self.url(&format!("/v2/business_customer/{id}/documents")))
            .header("ngnc-sec-key", &self.key)
            .header("idempotency-key", new_idempotency_key())
            .multipart(form)
            .send()
            .await
            .unwrap()
    }
}

db_test!(
    a_create_with_business_details_and_people_leaves_only_the_rest_due,
    |app| async move {
        let mut body = body_with_email(&unique_email());
        body["business_details"] = details();
        body["people"] = json!([ada()]);
        let r = app.create(&body).await;
        assert_eq!(r.status(), 200);
        let v: Value = r.json().await.unwrap();
        let id = v["customer_id"].as_str().unwrap().to_owned();
        assert_eq!(
            app.due(&id).await,
            [
                "documents.certificate_of_incorporation",
                "documents.proof_of_address",
                "documents.ownership_structure",
            ]
        );
        // The event sees the customer as prefilled.
        let events = app
            .get_json(&format!(
                "/v2/events?customer_id={id}&type=business_customer.created"
            ))
            .await;
        assert_eq!(
            events["data"][0]["data"]["object"]["requirements"]["currently_due"]
                .as_array()
                .unwrap()
                .len(),
            3
        );

        // A document through the API, checked as the hosted upload checks it.
        let r = app
            .upload_document(&id, "certificate_of_incorporation", PDF.to_vec())
            .await;
        assert_eq!(r.status(), 200);
        let doc: Value = r.json().await.unwrap();
        assert_eq!(doc["content_type"], "application/pdf");
        assert_eq!(doc["file_name"], "scan.pdf");
        assert_eq!(doc["currently_due"].as_array().unwrap().len(), 2);
        let r = app
            .upload_document(&id, "proof_of_address", b"GIF89a....".to_vec())
            .await;
        let e = assert_error(r, 400, "parameter_invalid").await;
        assert_eq!(e["param"], "file");
        assert!(e["message"].as_str().unwrap().contains("GIF"), "{e}");
        let r = app.upload_document(&id, "selfie", PDF.to_vec()).await;
        let e = assert_error(r, 400, "parameter_invalid").await;
        assert_eq!(e["param"], "kind");
        let r = app
            .post_json(
                &format!("/v2/business_customer/{id}/documents"),
                &json!({ "kind": "other" }),
            )
            .await;
        assert_error(r, 415, "unsupported_media_type").await;
        assert_eq!(app.stored_files(&id), 1, "only the accepted upload's bytes");

        // The customer sees what the platform gave, to confirm it.
        let link = v["kyb_link"].as_str().unwrap();
        let browser = Browser::new(&app);
        browser.start(link).await;
        let (_, business) = browser.get("/kyb/flow/business").await;
        assert!(business.contains("12-3456789"), "the tax id, tidied");
        assert!(business.contains("Payments software for small shops"));
        let (_, people) = browser.get("/kyb/flow/people").await;
        assert!(people.contains("Ada Obi"), "{people}");
        let (_, documents) = browser.get("/kyb/flow/documents").await;
        assert!(documents.contains("scan.pdf"), "{documents}");

        // The sandbox fills in only what is still missing.
        app.simulated(&id, "submit").await;
        assert_eq!(app.stored_files(&id), 3);
        assert_eq!(
            app.dump(&format!(
                "SELECT original_name FROM documents WHERE customer_id = '{id}' ORDER BY original_name"
            ))
            .await,
            [
                "sandbox-ownership_structure.pdf",
                "sandbox-proof_of_address.pdf",
                "scan.pdf"
            ]
        );
        assert_eq!(
            app.dump(&format!(
                "SELECT full_name FROM people WHERE customer_id = '{id}'"
            ))
            .await,
            ["Ada Obi"]
        );
    }
);

db_test!(
    prefilled_values_are_checked_as_the_hosted_form_checks_them,
    |app| async move {
        let cases = [
            (
                json!({ "business_details": { "tax_id": "12-34" } }),
                "business_details.tax_id",
            ),
            (
                json!({ "business_details": { "entity_type": "guild" } }),
                "business_details.entity_type",
            ),
            (
                json!({ "business_details": { "date_of_incorporation": "2999-01-01" } }),
                "business_details.date_of_incorporation",
            ),
            (
                json!({ "business_details": { "website": "not a site" } }),
                "business_details.website",
            ),
            (
                json!({ "business_details": { "legal_name": "x".repeat(201) } }),
                "business_details.legal_name",
            ),
            (
                json!({ "people": [{ "full_name": "Ada", "date_of_birth": "2020-01-01", "nationality": "USA", "role": "director" }] }),
                "people[0].date_of_birth",
            ),
            (
                json!({ "people": [ada(), { "full_name": "Bo", "date_of_birth": "1970-01-01", "nationality": "Narnia", "role": "director" }] }),
                "people[1].nationality",
            ),
            (
                json!({ "people": [{ "full_name": "Bo", "date_of_birth": "1970-01-01", "nationality": "USA", "role": "king" }] }),
                "people[0].role",
            ),
            (
                json!({ "people": [{ "full_name": "Bo", "date_of_birth": "1970-01-01", "nationality": "USA", "role": "other", "ownership_percent": 12.345 }] }),
                "people[0].ownership_percent",
            ),
            (json!({ "people": [ada(), ada()] }), "people"),
        ];
        for (extra, param) in cases {
            let mut body = body_with_email(&unique_email());
            for (k, v) in extra.as_object().unwrap() {
                body[k] = v.clone();
            }
            let r = app.create(&body).await;
            let e = assert_error(r, 400, "parameter_invalid").await;
            assert_eq!(e["param"], param, "{extra}");
        }
        let mut body = body_with_email(&unique_email());
        body["business_details"] = json!({ "favourite_colour": "green" });
        let e = assert_error(app.create(&body).await, 400, "parameter_unknown").await;
        assert_eq!(e["param"], "favourite_colour");
        assert_eq!(app.customer_count().await, 0, "nothing was stored");
    }
);

db_test!(
    an_update_before_submission_corrects_and_prefills_but_not_what_the_customer_changed,
    |app| async move {
        let r = app.create(&body_with_email(&unique_email())).await;
        let v: Value = r.json().await.unwrap();
        let id = v["customer_id"].as_str().unwrap().to_owned();
        let path = format!("/v2/business_customer/{id}");

        let r = app
            .post_json(
                &path,
                &json!({ "phone_number": "+1-555-0199", "business_details": details(), "people": [ada()] }),
            )
            .await;
        assert_eq!(r.status(), 200);
        let after: Value = r.json().await.unwrap();
        assert_eq!(after["phone_number"], "+15550199");
        assert_eq!(
            after["requirements"]["currently_due"]
                .as_array()
                .unwrap()
                .len(),
            3
        );
        let events = app
            .get_json(&format!(
                "/v2/events?customer_id={id}&type=business_customer.updated"
            ))
            .await;
        assert_eq!(
            events["data"][0]["data"]["previous_attributes"],
            json!({ "phone_number": "+15550123" })
        );
        assert_eq!(app.newest_audit_action().await, "business_customer.updated");
        // Nothing to change: the customer as it is, nothing written; a field given as it
        // already is changes nothing either.
        let r = app
            .post_json(&path, &json!({ "business_details": {} }))
            .await;
        assert_eq!(r.status(), 200);
        let r = app
            .post_json(&path, &json!({ "phone_number": "+1 (555) 0199" }))
            .await;
        assert_eq!(r.status(), 200);
        assert_eq!(
            app.dump(&format!(
                "SELECT CAST(COUNT(*) AS TEXT) FROM events WHERE customer_id = '{id}' AND type = 'business_customer.updated'"
            ))
            .await,
            ["1"]
        );
        let r = app.post_json(&path, &json!({ "phone_number": null })).await;
        let e = assert_error(r, 400, "parameter_invalid_type").await;
        assert_eq!(e["param"], "phone_number");

        // The customer changes the tax id and adds a person in the hosted flow.
        let browser = Browser::new(&app);
        let csrf = browser.start(v["kyb_link"].as_str().unwrap()).await;
        let mut business = BUSINESS.to_vec();
        business[4] = ("tax_id", "98-7654321");
        let (status, html, _) = browser
            .post("/kyb/flow/business", &with_csrf(&csrf, &business))
            .await;
        assert_eq!(status, 303, "{html}");
        let bo = [
            ("full_name", "Bo Lee"),
            ("date_of_birth", "1975-05-05"),
            ("nationality", "USA"),
            ("role", "officer"),
            ("ownership", "10"),
        ];
        assert_eq!(
            browser
                .post("/kyb/flow/people", &with_csrf(&csrf, &bo))
                .await
                .0,
            303
        );

        let r = app
            .post_json(
                &path,
                &json!({ "business_details": { "tax_id": "11-1111111" } }),
            )
            .await;
        let e = assert_error(r, 409, "changed_by_customer").await;
        assert_eq!(e["param"], "business_details.tax_id");
        let r = app.post_json(&path, &json!({ "people": [ada()] })).await;
        let e = assert_error(r, 409, "changed_by_customer").await;
        assert_eq!(e["param"], "people");
        // What the customer did not change is still the platform's to correct; the same value
        // the customer gave is no change.
        let r = app
            .post_json(
                &path,
                &json!({ "business_details": { "tax_id": "98-7654321", "website": "acme.example" } }),
            )
            .await;
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());

        // Another customer's e-mail is refused.
        let other = unique_email();
        app.create(&body_with_email(&other)).await;
        let r = app
            .post_json(&path, &json!({ "business_email": other }))
            .await;
        assert_error(r, 409, "customer_exists").await;

        // Once submitted, the case is the reviewers'.
        app.simulated(&id, "submit").await;
        let r = app
            .post_json(&path, &json!({ "phone_number": "+1-555-0100" }))
            .await;
        assert_error(r, 409, "invalid_state").await;
        let r = app.upload_document(&id, "other", PDF.to_vec()).await;
        assert_error(r, 409, "invalid_state").await;
        assert_eq!(
            app.dump(&format!(
                "SELECT CAST(COUNT(*) AS TEXT) FROM documents WHERE customer_id = '{id}' AND kind = 'other'"
            ))
            .await,
            ["0"]
        );
    }
);

db_test!(
    a_prefilled_magic_registration_number_sends_the_registry_check_its_way,
    |app| async move {
        let mut body = body_with_email(&unique_email());
        body["business_details"] = json!({ "registration_number": "000000000" });
        let r = app.create(&body).await;
        let id = r.json::<Value>().await.unwrap()["customer_id"]
            .as_str()
            .unwrap()
            .to_owned();
        app.simulated(&id, "submit").await;
        app.run_checks().await;
        let checks = app
            .state
            .store
            .list_checks(&app.platform, &kyb_domain::CustomerId::parse(&id).unwrap())
            .await
            .unwrap();
        let registry = checks.iter().find(|c| c.kind == "registry").unwrap();
        assert_eq!(registry.reasons, ["registry_not_found"]);
        assert_eq!(registry.evidence["sandbox"], true);
    }
);

db_test_with!(
    the_customers_limits_hold_for_what_a_platform_gives,
    |mut c: kyb_server::Config| {
        c.max_upload_bytes = 1024;
        c.max_documents_per_customer = 1;
        c.max_people_per_customer = 1;
        c
    },
    |app| async move {
        let mut body = body_with_email(&unique_email());
        body["people"] = json!([ada(), { "full_name": "Bo Lee", "date_of_birth": "1975-05-05",
            "nationality": "USA", "role": "officer" }]);
        let e = assert_error(app.create(&body).await, 400, "parameter_invalid").await;
        assert_eq!(e["param"], "people");

        let id = app.create_customer().await;
        let mut big = PDF.to_vec();
        big.resize(2048, b' ');
        let r = app.upload_document(&id, "other", big).await;
        let e = assert_error(r, 413, "file_too_large").await;
        assert_eq!(e["param"], "file");
        let r = app
            .upload_document(&id, "certificate_of_incorporation", PDF.to_vec())
            .await;
        assert_eq!(r.status(), 200);
        // Refused by the store after the bytes were stored: they go again.
        let r = app.upload_document(&id, "other", PDF.to_vec()).await;
        assert_error(r, 409, "too_many_documents").await;
        assert_eq!(app.stored_files(&id), 1);

        // People the platform replaces are each in the audit trail.
        let path = format!("/v2/business_customer/{id}");
        assert_eq!(
            app.post_json(&path, &json!({ "people": [ada()] }))
                .await
                .status(),
            200
        );
        let r = app
            .post_json(
                &path,
                &json!({ "people": [{ "full_name": "Bo Lee",
                "date_of_birth": "1975-05-05", "nationality": "USA", "role": "officer" }] }),
            )
            .await;
        assert_eq!(r.status(), 200);
        let removed = app
            .dump("SELECT CAST(COUNT(*) AS TEXT) FROM audit_log WHERE action = 'person.removed'")
            .await;
        assert_eq!(removed, ["1"]);
        assert_eq!(
            app.dump(&format!(
                "SELECT full_name FROM people WHERE customer_id = '{id}'"
            ))
            .await,
            ["Bo Lee"]
        );
    }
);
