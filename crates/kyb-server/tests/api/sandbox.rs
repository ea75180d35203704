//! Test mode's sandbox, on both databases: `POST /v2/business_customer/{id}/simulate` moves a
//! test-mode customer through the real flow (link opened, submission with its checks, each
//! decision) with the real flow's events and audit rows, and the magic values send the checks
//! down each branch. Live keys get 404.

use crate::db_test;
use crate::helpers::*;
use serde_json::{json, Value};

impl TestApp {
    pub(crate) async fn simulate(&self, customer: &str, body: Value) -> reqwest::Response {
        self.post_json(&format!("/v2/business_customer/{customer}/simulate"), &body)
            .await
    }

    /// Simulates `action` and returns the customer as the answer shows it.
    pub(crate) async fn simulated(&self, customer: &str, action: &str) -> Value {
        let r = self.simulate(customer, json!({ "action": action })).await;
        assert_eq!(r.status(), 200, "{action}: {}", r.text().await.unwrap());
        r.json().await.unwrap()
    }

    /// The types of the customer's events, oldest first.
    async fn event_types(&self, customer: &str) -> Vec<String> {
        let page = self
            .get_json(&format!("/v2/events?customer_id={customer}&limit=100"))
            .await;
        let mut types: Vec<String> = page["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["type"].as_str().unwrap().to_owned())
            .collect();
        types.reverse();
        types
    }

    async fn check_of(&self, customer: &str, kind: &str) -> kyb_store::CheckResult {
        let checks = self
            .state
            .store
            .list_checks(
                &self.platform,
                &kyb_domain::CustomerId::parse(customer).unwrap(),
            )
            .await
            .unwrap();
        checks
            .into_iter()
            .rev()
            .find(|c| c.kind == kind)
            .unwrap_or_else(|| panic!("no {kind} check"))
    }
}

db_test!(
    a_test_customer_goes_from_created_to_approved_through_the_real_flow,
    |app| async move {
        let id = app.create_customer().await;

        let opened = app.simulated(&id, "open_link").await;
        assert_eq!(opened["verification_status"], "pending");
        assert_eq!(opened["progress"], "in_progress");
        assert_eq!(opened["kyb_link"], Value::Null, "the link is used");
        assert_eq!(app.newest_audit_action().await, "kyb_link.opened");
        // A used link cannot be opened again.
        let again = app.simulate(&id, json!({ "action": "open_link" })).await;
        assert_error(again, 409, "invalid_state").await;

        let submitted = app.simulated(&id, "submit").await;
        assert_eq!(submitted["verification_status"], "in_review");
        assert_eq!(submitted["progress"], "submitted");
        assert_eq!(
            submitted["requirements"]["currently_due"],
            json!([]),
            "the sandbox filled in everything that was due"
        );
        assert_eq!(
            app.newest_audit_action().await,
            "business_customer.submitted"
        );
        let docs = app
            .dump("SELECT CAST(COUNT(*) AS TEXT) FROM documents")
            .await;
        assert_eq!(docs, ["3"], "a sandbox PDF of each required kind (USA)");

        // The checks run as they do after a real submission; a decision waits for them.
        let early = app.simulate(&id, json!({ "action": "approve" })).await;
        assert_error(early, 409, "checks_running").await;
        assert_eq!(app.run_checks().await, 1);
        let documents = app.check_of(&id, "documents").await;
        assert_eq!(documents.outcome, "pass", "{documents:?}");

        let approved = app.simulated(&id, "approve").await;
        assert_eq!(approved["verification_status"], "approved");
        let row = &app.newest_audit_row().await;
        assert_eq!(row["action"], "business_customer.approved");
        assert_eq!(row["actor"]["type"], "api_key", "{row}");
        assert_eq!(row["details"]["operator"], "simulation");
        assert_eq!(row["details"]["simulated"], true);

        assert_eq!(
            app.event_types(&id).await,
            [
                "business_customer.created",
                "business_customer.kyb_link.created",
                "business_customer.kyb_link.opened",
                "business_customer.submitted",
                "business_customer.verification_status.updated",
                "business_customer.verification_status.updated",
            ]
        );
        // Final: nothing moves it again.
        let after = app.simulate(&id, json!({ "action": "reject" })).await;
        assert_error(after, 409, "invalid_state").await;
    }
);

db_test!(
    rejection_and_a_request_for_more_information_are_simulated_with_what_they_carry,
    |app| async move {
        let rejected = app.create_customer().await;
        app.simulated(&rejected, "submit").await;
        // No decision is simulated before the checks have finished.
        for action in ["reject", "request_more_info"] {
            let r = app.simulate(&rejected, json!({ "action": action })).await;
            assert_error(r, 409, "checks_running").await;
        }
        app.run_checks().await;
        let r = app
            .simulate(
                &rejected,
                json!({ "action": "reject", "reason_code": "registry_mismatch" }),
            )
            .await;
        assert_eq!(r.status(), 200);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["verification_status"], "rejected");
        assert_eq!(v["rejection_reasons"], json!(["registry_mismatch"]));

        let asked = app.create_customer().await;
        app.simulated(&asked, "submit").await;
        app.run_checks().await;
        let r = app
            .simulate(
                &asked,
                json!({ "action": "request_more_info", "items": ["documents.proof_of_address"],
                        "message": "The bill is older than three months." }),
            )
            .await;
        assert_eq!(r.status(), 200);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["verification_status"], "more_info");
        assert!(v["kyb_link"]
            .as_str()
            .unwrap()
            .starts_with("https://kyb.test/kyb/"));
        assert_eq!(
            v["requirements"]["information_requested"],
            json!({ "items": ["documents.proof_of_address"], "message": "The bill is older than three months." })
        );
        let types = app.event_types(&asked).await;
        assert_eq!(types.last().unwrap(), "business_customer.kyb_link.created");
        // Submitted again, it is back in review.
        let again = app.simulated(&asked, "submit").await;
        assert_eq!(again["verification_status"], "in_review");
    }
);

db_test!(
    magic_names_make_the_sanctions_check_hit_in_test_mode,
    |app| async move {
        let mut body = body_with_email(&unique_email());
        body["business_name"] = json!("Sanctions Hit Trading Ltd");
        let r = app.create(&body).await;
        let hit = r.json::<Value>().await.unwrap()["customer_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let mut body = body_with_email(&unique_email());
        body["business_name"] = json!("Possible Hit Holdings");
        let r = app.create(&body).await;
        let possible = r.json::<Value>().await.unwrap()["customer_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let clean = app.create_customer().await;
        for id in [&hit, &possible, &clean] {
            app.simulated(id, "submit").await;
        }
        assert_eq!(app.run_checks().await, 3);

        let check = app.check_of(&hit, "sanctions").await;
        assert_eq!(check.outcome, "fail");
        assert_eq!(check.reasons, ["sanctions_hit"]);
        assert_eq!(check.evidence["hits"][0]["list"], "kyb-sandbox");
        assert_eq!(check.evidence["hits"][0]["subject"], "business_name");
        let check = app.check_of(&possible, "sanctions").await;
        assert_eq!(check.outcome, "warn");
        assert_eq!(check.reasons, ["sanctions_possible_hit"]);
        // No list is imported here: an ordinary name says so, as before.
        let check = app.check_of(&clean, "sanctions").await;
        assert_eq!(check.reasons, ["sanctions_list_missing"]);

        // A hit can still be rejected, as a reviewer would.
        let r = app
            .simulate(
                &hit,
                json!({ "action": "reject", "reason_code": "sanctions_match" }),
            )
            .await;
        assert_eq!(r.status(), 200);
    }
);

db_test!(
    simulations_are_for_test_keys_and_refuse_what_does_not_fit,
    |app| async move {
        let id = app.create_customer().await;
        let r = app
            .post_json_as(
                &app.live_key().await,
                &format!("/v2/business_customer/{id}/simulate"),
                &json!({ "action": "approve" }),
            )
            .await;
        assert_error(r, 404, "resource_missing").await;

        for (body, code, param) in [
            (
                json!({ "action": "teleport" }),
                "parameter_invalid",
                "action",
            ),
            (json!({}), "parameter_missing", "action"),
            (
                json!({ "action": "approve", "reason_code": "other" }),
                "parameter_unknown",
                "reason_code",
            ),
            (
                json!({ "action": "reject", "reason_code": "bored" }),
                "parameter_invalid",
                "reason_code",
            ),
            (
                json!({ "action": "request_more_info", "items": ["the moon"] }),
                "parameter_invalid",
                "items",
            ),
            (
                json!({ "action": "submit", "message": "hi" }),
                "parameter_unknown",
                "message",
            ),
            (
                json!({ "action": "submit", "colour": "red" }),
                "parameter_unknown",
                "colour",
            ),
        ] {
            let r = app.simulate(&id, body.clone()).await;
            let e = assert_error(r, 400, code).await;
            assert_eq!(e["param"], param, "{body}");
        }
        // Decisions need a submitted case.
        let r = app.simulate(&id, json!({ "action": "approve" })).await;
        assert_error(r, 409, "invalid_state").await;
        let r = app
            .simulate("cust_doesnotexist", json!({ "action": "submit" }))
            .await;
        assert_error(r, 404, "resource_missing").await;
        assert_eq!(
            app.dump("SELECT CAST(COUNT(*) AS TEXT) FROM documents")
                .await,
            ["0"],
            "nothing stored by refused simulations"
        );

        // The same key and body replay the first answer.
        let key = new_idempotency_key();
        let send = || {
            app.client
                .post(app.url(&format!("/v2/business_customer/{id}/simulate")))
                .header("ngnc-sec-key", &app.key)
                .header("idempotency-key", &key)
                .json(&json!({ "action": "submit" }))
                .send()
        };
        let first = send().await.unwrap();
        assert_eq!(first.status(), 200);
        let first: Value = first.json().await.unwrap();
        let second = send().await.unwrap();
        assert_eq!(second.headers()["idempotent-replayed"], "true");
        assert_eq!(second.json::<Value>().await.unwrap(), first);
        assert_eq!(
            app.dump("SELECT CAST(COUNT(*) AS TEXT) FROM documents")
                .await,
            ["3"],
            "the replay stored nothing more"
        );
    }
);
