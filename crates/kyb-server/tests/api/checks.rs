//! Automated checks after submission, on both databases: sanctions screening of the business
//! and its people against the imported list, the registry match, the document checks, the
//! platform's approval policy, a job that survives its runner's crash, and re-screening when a
//! newer list is imported.

use crate::helpers::*;
use crate::hosted::submitted_case;
use crate::{db_test, db_test_with};
use kyb_server::checks::CheckRunner;
use kyb_store::CheckResult;
use serde_json::Value;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata");

fn with_registry(mut c: kyb_server::Config) -> kyb_server::Config {
    c.registry_sec_file = Some(format!("{DATA}/sec/company_tickers.json").into());
    c
}

impl TestApp {
    pub(crate) async fn run_checks(&self) -> usize {
        CheckRunner::new(self.state.clone())
            .run_once()
            .await
            .unwrap()
    }

    async fn checks(&self, customer: &str) -> Vec<CheckResult> {
        self.state
            .store
            .list_checks(
                &self.platform,
                &kyb_domain::CustomerId::parse(customer).unwrap(),
            )
            .await
            .unwrap()
    }

    async fn status(&self, customer: &str) -> String {
        let v: Value = self
            .get(&format!("/v2/business_customer/{customer}"))
            .await
            .json()
            .await
            .unwrap();
        v["verification_status"].as_str().unwrap().to_owned()
    }

    async fn auto_approve(&self, on: bool) {
        let ctx = kyb_store::AuditContext::operator_cli(self.clock.now());
        self.state
            .store
            .set_policy(
                &self.platform,
                &kyb_store::PlatformPolicy {
                    auto_approve: Some(on),
                    ..Default::default()
                },
                &ctx,
            )
            .await
            .unwrap();
    }
}

fn check<'a>(checks: &'a [CheckResult], kind: &str) -> &'a CheckResult {
    checks
        .iter()
        .rev()
        .find(|c| c.kind == kind)
        .unwrap_or_else(|| panic!("no {kind} check in {checks:?}"))
}

db_test_with!(
    a_clean_case_is_approved_only_when_the_platform_says_so,
    with_registry,
    |app| async move {
        app.import_list("2024-05-03").await;
        let id = submitted_case(&app, "Apple Inc.", "0000320193", "Ada Obi", "apple").await;
        assert_eq!(app.run_checks().await, 1);
        let checks = app.checks(&id).await;
        assert_eq!(checks.len(), 3, "{checks:?}");
        for c in &checks {
            assert_eq!(c.outcome, "pass", "{c:?}");
        }
        let registry = check(&checks, "registry");
        assert_eq!(registry.evidence["registry_id"], "320193");
        let screened = &check(&checks, "sanctions").evidence["screened"];
        assert!(screened
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s.as_str().unwrap().starts_with("person:")));
        assert_eq!(
            app.status(&id).await,
            "in_review",
            "default policy: a reviewer decides"
        );

        app.auto_approve(true).await;
        let id = submitted_case(&app, "Microsoft Corp", "789019", "Ben Cole", "msft").await;
        assert_eq!(app.run_checks().await, 1);
        assert_eq!(app.status(&id).await, "approved");
        let events = app.state.store.list_events(&app.scope()).await.unwrap();
        let updated = events
            .iter()
            .filter(|e| e.customer_id.as_deref() == Some(id.as_str()))
            .find(|e| e.payload["data"]["object"]["verification_status"] == "approved")
            .expect("a verification_status.updated event");
        assert_eq!(
            updated.event_type,
            "business_customer.verification_status.updated"
        );
        assert_eq!(
            updated.payload["data"]["previous_attributes"]["verification_status"],
            "in_review"
        );
        let actors = app
        .dump(&format!(
            "SELECT actor_type FROM audit_log WHERE target_id = '{id}' AND action = 'business_customer.approved'"
        ))
        .await;
        assert_eq!(actors, ["system"]);
    }
);

db_test_with!(
    a_sanctions_hit_fails_and_always_goes_to_review,
    with_registry,
    |app| async move {
        app.import_list("2024-05-03").await;
        app.auto_approve(true).await;
        let id = submitted_case(&app, "Apple Inc.", "320193", "Hasan Nasrallah", "hit").await;
        assert_eq!(app.run_checks().await, 1);
        let checks = app.checks(&id).await;
        let sanctions = check(&checks, "sanctions");
        assert_eq!(sanctions.outcome, "fail");
        assert_eq!(sanctions.reasons, ["sanctions_hit"]);
        let hit = &sanctions.evidence["hits"][0];
        assert!(
            hit["subject"].as_str().unwrap().starts_with("person:"),
            "{hit}"
        );
        assert_eq!(hit["entry_name"], "NASRALLAH, Hasan");
        assert_eq!(hit["list_date"], "2024-05-03");
        assert_eq!(hit["name_score"], 1.0);
        assert_eq!(
            app.status(&id).await,
            "in_review",
            "never approved automatically"
        );
    }
);

db_test_with!(
    not_in_the_registry_is_referred_not_rejected,
    with_registry,
    |app| async move {
        app.import_list("2024-05-03").await;
        app.auto_approve(true).await;
        let id = submitted_case(
            &app,
            "Obscure Widgets of Ohio LLC",
            "5551234",
            "Ada Obi",
            "nf",
        )
        .await;
        let wrong = submitted_case(&app, "Apple Inc.", "999", "Ben Cole", "wrong").await;
        assert_eq!(app.run_checks().await, 2);
        let registry = check(&app.checks(&id).await, "registry").clone();
        assert_eq!(
            (registry.outcome.as_str(), registry.reasons[0].as_str()),
            ("warn", "registry_not_found")
        );
        let registry = check(&app.checks(&wrong).await, "registry").clone();
        assert_eq!(registry.reasons, ["registry_number_mismatch"]);
        assert_eq!(app.status(&id).await, "in_review");
        assert_eq!(app.status(&wrong).await, "in_review");
    }
);

db_test!(
    without_a_list_or_registry_the_case_is_referred,
    |app| async move {
        app.auto_approve(true).await;
        let id = submitted_case(&app, "Acme Corp", "5551234", "Ada Obi", "none").await;
        assert_eq!(app.run_checks().await, 1);
        let checks = app.checks(&id).await;
        assert_eq!(
            check(&checks, "sanctions").reasons,
            ["sanctions_list_missing"]
        );
        assert_eq!(check(&checks, "registry").reasons, ["registry_unavailable"]);
        assert_eq!(check(&checks, "documents").outcome, "pass");
        assert_eq!(app.status(&id).await, "in_review");
    }
);

db_test!(
    the_same_document_bytes_on_two_customers_are_flagged,
    |app| async move {
        let first = submitted_case(&app, "Acme Corp", "5551234", "Ada Obi", "same").await;
        let second = submitted_case(&app, "Beta Corp", "5551235", "Ben Cole", "same").await;
        assert_eq!(app.run_checks().await, 2);
        let docs = check(&app.checks(&second).await, "documents").clone();
        assert_eq!(docs.outcome, "warn");
        assert_eq!(docs.reasons, ["document_duplicate"]);
        let dup = &docs.evidence["duplicates"][0];
        assert_eq!(dup["other_customer_id"], first.as_str());

        // The same files with two customers of another platform: one entry per document for
        // them (never named), after the one naming this platform's case.
        let (beta, beta_key) =
            create_platform(&app.state.store, &app.clock, "Beta", kyb_domain::Mode::Test).await;
        for n in 1..=2 {
            let r = app
                .create_as(
                    &beta_key,
                    &new_idempotency_key(),
                    &body_with_email(&unique_email()).to_string(),
                )
                .await;
            let theirs = r.json::<serde_json::Value>().await.unwrap()["customer_id"]
                .as_str()
                .unwrap()
                .to_owned();
            app.exec(&format!(
                "INSERT INTO documents (id, customer_id, platform_id, kind, original_name, \
                 content_type, size_bytes, sha256, storage_key, uploaded_at) \
                 SELECT id || '_{n}', '{theirs}', '{beta}', kind, original_name, content_type, \
                 size_bytes, sha256, storage_key || '_{n}', uploaded_at FROM documents \
                 WHERE customer_id = '{first}'"
            ))
            .await;
        }
        let facts = app
            .state
            .store
            .case_facts(
                &app.platform,
                &kyb_domain::CustomerId::parse(&second).unwrap(),
                app.clock.now(),
            )
            .await
            .unwrap();
        let listed: Vec<(String, Option<String>)> = facts
            .duplicates
            .iter()
            .map(|d| {
                (
                    d.kind.clone(),
                    d.other_customer.as_ref().map(|c| c.to_string()),
                )
            })
            .collect();
        let kinds = [
            "certificate_of_incorporation",
            "ownership_structure",
            "proof_of_address",
        ];
        assert_eq!(listed.len(), 2 * kinds.len(), "{listed:?}");
        for pair in listed.chunks(2) {
            assert_eq!(pair[0].1.as_deref(), Some(first.as_str()), "{listed:?}");
            assert_eq!(pair[1], (pair[0].0.clone(), None), "{listed:?}");
        }
    }
);

db_test!(a_job_whose_runner_died_runs_again, |app| async move {
    let id = submitted_case(&app, "Acme Corp", "5551234", "Ada Obi", "crash").await;
    // A runner claims the job and dies before finishing it.
    let now = app.clock.now();
    let claimed = app
        .state
        .store
        .claim_check_jobs("dead-runner", now, now + chrono::Duration::minutes(5), 8, 5)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(app.run_checks().await, 0, "leased to the dead runner");
    app.clock.advance(chrono::Duration::minutes(6));
    assert_eq!(
        app.run_checks().await,
        1,
        "the lease expired: another runner takes it"
    );
    assert_eq!(app.checks(&id).await.len(), 3);
    let customer = kyb_domain::CustomerId::parse(&id).unwrap();
    assert_eq!(
        app.state.store.pending_check_jobs(&customer).await.unwrap(),
        0
    );
});

db_test!(
    a_job_whose_runner_dies_every_time_is_failed_after_its_attempts,
    |app| async move {
        let id = submitted_case(&app, "Acme Corp", "5551234", "Ada Obi", "crashes").await;
        let customer = kyb_domain::CustomerId::parse(&id).unwrap();
        // Five runners in a row claim the job and die (the default allows five runs).
        for _ in 0..5 {
            let now = app.clock.now();
            let claimed = app
                .state
                .store
                .claim_check_jobs("dead-runner", now, now + chrono::Duration::minutes(5), 8, 5)
                .await
                .unwrap();
            assert_eq!(claimed.len(), 1);
            app.clock.advance(chrono::Duration::minutes(6));
        }
        assert_eq!(app.run_checks().await, 0, "not run a sixth time");
        assert_eq!(
            app.state.store.pending_check_jobs(&customer).await.unwrap(),
            0
        );
        let failed = app
            .state
            .store
            .failed_check_jobs(&app.platform, &customer)
            .await
            .unwrap();
        assert_eq!(failed.len(), 1);
        assert!(
            failed[0].error.contains("lease ran out"),
            "{}",
            failed[0].error
        );
        assert!(app.checks(&id).await.is_empty());
    }
);

db_test!(
    a_newer_list_rescreens_and_flags_new_hits,
    |app| async move {
        app.import_list("2024-04-26").await;
        app.auto_approve(true).await;
        let flagged = submitted_case(
            &app,
            "Wuhan Global Sensor Technology Co., Ltd.",
            "1",
            "Ada Obi",
            "w",
        )
        .await;
        let clean = submitted_case(&app, "Acme Corp", "5551234", "Ben Cole", "c").await;
        assert_eq!(app.run_checks().await, 2);
        // No registry is configured, so both wait in review; neither hits the older list.
        for id in [&flagged, &clean] {
            assert_eq!(check(&app.checks(id).await, "sanctions").outcome, "pass");
        }
        // The list of 2024-05-03 adds WUHAN GLOBAL SENSOR TECHNOLOGY CO., LTD.
        let queued = app.import_list("2024-05-03").await;
        assert_eq!(queued, 2, "every in-review customer is screened again");
        assert_eq!(app.run_checks().await, 2);
        let sanctions = check(&app.checks(&flagged).await, "sanctions").clone();
        assert_eq!(sanctions.outcome, "fail");
        assert_eq!(sanctions.evidence["hits"][0]["ent_num"], 46633);
        let flags = app
            .dump("SELECT COALESCE(review_flag, '-') FROM business_customers ORDER BY seq")
            .await;
        assert_eq!(flags, ["sanctions_new_hit", "-"]);
        let audited = app
        .dump(&format!(
            "SELECT action FROM audit_log WHERE target_id = '{flagged}' AND action = 'business_customer.flagged_for_review'"
        ))
        .await;
        assert_eq!(audited.len(), 1);
    }
);

#[tokio::test]
async fn a_registry_file_that_is_not_the_sec_list_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("companies.json");
    std::fs::write(&bad, "[1, 2, 3]").unwrap();
    for (path, says) in [
        (bad, "is not the SEC's company_tickers.json"),
        (
            dir.path().join("missing.json"),
            "cannot read registry_sec_file",
        ),
    ] {
        let mut config = test_config(
            dir.path(),
            format!("sqlite://{}", dir.path().join("kyb.db").display()),
        );
        config.registry_sec_file = Some(path);
        let err = match kyb_server::Application::build(config).await {
            Ok(_) => panic!("a bad registry file must stop the start"),
            Err(e) => format!("{e:#}"),
        };
        assert!(err.contains(says), "{err}");
    }
}

db_test!(
    look_alike_letters_do_not_hide_a_listed_name,
    |app| async move {
        app.import_list("2024-05-03").await;
        // Cyrillic А, О and С among the Latin letters: accepted as letters, caught as a disguise.
        let id = submitted_case(&app, "BАNCО NACIONAL DE СUBA", "5551234", "Ada Obi", "cy").await;
        assert_eq!(app.run_checks().await, 1);
        let checks = app.checks(&id).await;
        let sanctions = check(&checks, "sanctions");
        assert_eq!(sanctions.outcome, "fail", "{}", sanctions.evidence);
        let hit = &sanctions.evidence["hits"][0];
        assert_eq!(hit["entry_id"], "306", "{hit}");
        assert_eq!(hit["name_score"], 1.0);
    }
);

db_test!(
    a_hit_whose_date_of_birth_contradicts_is_a_possible_hit,
    |app| async move {
        app.import_list("2024-05-03").await;
        let id = submitted_case(&app, "Acme Corp", "5551234", "Hasan Nasrallah", "dob").await;
        // Born thirty years after every date the list gives for him.
        app.exec(&format!(
            "UPDATE people SET date_of_birth = '1990-01-01' WHERE customer_id = '{id}'"
        ))
        .await;
        assert_eq!(app.run_checks().await, 1);
        let checks = app.checks(&id).await;
        let sanctions = check(&checks, "sanctions");
        assert_eq!(sanctions.outcome, "warn", "{}", sanctions.evidence);
        assert_eq!(sanctions.reasons, ["sanctions_possible_hit"]);
        let hit = &sanctions.evidence["hits"][0];
        assert_eq!(hit["likely_false_positive"], true);
        assert_eq!(hit["dob"]["verdict"], "contradicts");
        assert_eq!(hit["dob"]["given"], "1990-01-01");
        assert!(hit["score"].as_f64().unwrap() < hit["name_score"].as_f64().unwrap());
        assert_eq!(app.status(&id).await, "in_review", "a reviewer still looks");
    }
);

/// A run that fails because the database is unavailable does not count against the job's
/// attempts: another session holds the results table past PostgreSQL's statement timeout, so
/// the run cannot write its results; the job waits its delay, runs again and passes, and its
/// attempts say one run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_the_database_failed_does_not_count_as_an_attempt() {
    let Some(app) = spawn_with(true, |mut c| {
        c.store.statement_timeout = std::time::Duration::from_secs(1);
        c
    })
    .await
    else {
        return;
    };
    let id = submitted_case(&app, "Acme Corp", "5551234", "Ada Obi", "outage").await;
    let attempts = || async {
        app.dump(&format!(
            "SELECT attempts || ' ' || status || ' ' || coalesce(last_error, '') \
             FROM check_jobs WHERE customer_id = '{id}'"
        ))
        .await
        .remove(0)
    };
    let pool = app.state.store.as_postgres().unwrap().pool();
    let mut blocker = pool.begin().await.unwrap();
    sqlx::query("LOCK TABLE check_results IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *blocker)
        .await
        .unwrap();
    assert_eq!(app.run_checks().await, 1);
    let after_outage = attempts().await;
    assert!(
        after_outage.starts_with("0 pending ") && after_outage.contains("statement timeout"),
        "{after_outage}"
    );
    blocker.rollback().await.unwrap();

    assert_eq!(app.run_checks().await, 0, "it waits its delay");
    app.clock.advance(chrono::Duration::seconds(31));
    assert_eq!(app.run_checks().await, 1);
    assert_eq!(app.checks(&id).await.len(), 3);
    assert!(
        attempts().await.starts_with("1 done"),
        "{}",
        attempts().await
    );
}
