//! The review console over real HTTP, on both databases: sign-in with CSRF, throttling and
//! lockout per account and address, the
//! queue, a case page with its evidence, and every decision with what the platform then sees
//! (status, reasons, requested items, a fresh link, webhook events) and the audit trail.

use crate::db_test;
use crate::helpers::*;
use crate::hosted::submitted_case;
use kyb_server::checks::CheckRunner;
use kyb_store::{AuditContext, OperatorRole};
use serde_json::Value;

const PASSWORD: &str = "a long enough password";

/// An operator's browser: its own cookies, no automatic redirects.
struct Console {
    client: reqwest::Client,
    base: String,
}

/// The code of the refusal a case page shows (`data-refusal`).
fn refusal_code(html: &str) -> String {
    let at = html
        .find("data-refusal=\"")
        .expect("the page says why the form was refused")
        + 14;
    html[at..at + html[at..].find('"').unwrap()].to_owned()
}

impl Console {
    fn new(app: &TestApp) -> Self {
        Self::from_address(app, [127, 0, 0, 1])
    }

    /// A browser on another machine: its requests come from this loopback address.
    fn from_address(app: &TestApp, ip: [u8; 4]) -> Self {
        Self {
            client: reqwest::Client::builder()
                .local_address(std::net::IpAddr::from(ip))
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: app.address.clone(),
        }
    }

    async fn get(&self, path: &str) -> (u16, String) {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> (u16, Option<String>, String) {
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .form(form)
            .send()
            .await
            .unwrap();
        let location = location_of(&r);
        (r.status().as_u16(), location, r.text().await.unwrap())
    }

    async fn login(&self, email: &str, password: &str) -> u16 {
        let (_, html) = self.get("/console/login").await;
        let csrf = csrf_of(&html);
        self.post(
            "/console/login",
            &[("csrf", &csrf), ("email", email), ("password", password)],
        )
        .await
        .0
    }

    /// The CSRF token of a signed-in page.
    async fn csrf(&self, path: &str) -> String {
        let (status, html) = self.get(path).await;
        assert_eq!(status, 200, "{html}");
        csrf_of(&html)
    }

    /// Posts a form of the case page (ticking "this decision is final" on approve and reject)
    /// and says where it led: the redirect's location when it took effect, or `refused=CODE`
    /// when the case page came back (409 or 422) saying why, with what was typed.
    async fn decide(&self, customer: &str, action: &str, fields: &[(&str, &str)]) -> String {
        let csrf = self.csrf(&format!("/console/cases/{customer}")).await;
        let mut form = vec![("csrf", csrf.as_str())];
        if matches!(action, "approve" | "reject") {
            form.push(("confirm", "yes"));
        }
        form.extend_from_slice(fields);
        let (status, location, body) = self
            .post(&format!("/console/cases/{customer}/{action}"), &form)
            .await;
        match status {
            303 => location.unwrap(),
            409 | 422 => format!("refused={}", refusal_code(&body)),
            other => panic!("{action} answered {other}: {body}"),
        }
    }

    /// Like `decide`, for a form that must be refused: the page that came back.
    async fn refused_page(&self, customer: &str, action: &str, fields: &[(&str, &str)]) -> String {
        let csrf = self.csrf(&format!("/console/cases/{customer}")).await;
        let mut form = vec![("csrf", csrf.as_str())];
        form.extend_from_slice(fields);
        let (status, _, body) = self
            .post(&format!("/console/cases/{customer}/{action}"), &form)
            .await;
        assert!(status == 409 || status == 422, "{status}: {body}");
        body
    }
}

impl TestApp {
    async fn operator(&self, email: &str, role: OperatorRole) -> Console {
        let hash = kyb_server::console::password::hash(PASSWORD).unwrap();
        self.state
            .store
            .create_operator(
                email,
                role,
                &hash,
                &[],
                &AuditContext::operator_cli(self.clock.now()),
            )
            .await
            .unwrap();
        let c = Console::new(self);
        assert_eq!(c.login(email, PASSWORD).await, 303);
        c
    }

    async fn case_in_review(&self, name: &str, person: &str, tag: &str) -> String {
        let id = submitted_case(self, name, "5551234", person, tag).await;
        CheckRunner::new(self.state.clone())
            .run_once()
            .await
            .unwrap();
        id
    }

    async fn customer_json(&self, id: &str) -> Value {
        self.get(&format!("/v2/business_customer/{id}"))
            .await
            .json()
            .await
            .unwrap()
    }
}

db_test!(
    sign_in_needs_the_form_token_and_locks_after_five_failures,
    |app| async move {
        let hash = kyb_server::console::password::hash(PASSWORD).unwrap();
        app.state
            .store
            .create_operator(
                "rev@kyb.example",
                OperatorRole::Reviewer,
                &hash,
                &[],
                &AuditContext::operator_cli(app.clock.now()),
            )
            .await
            .unwrap();
        let c = Console::new(&app);
        let r = c
            .client
            .get(format!("{}/console", c.base))
            .send()
            .await
            .unwrap();
        let (status, location) = (r.status().as_u16(), location_of(&r));
        assert_eq!((status, location.as_deref()), (303, Some("/console/login")));
        c.get("/console/login").await;
        let (status, _, _) = c
            .post(
                "/console/login",
                &[
                    ("csrf", "forged"),
                    ("email", "rev@kyb.example"),
                    ("password", PASSWORD),
                ],
            )
            .await;
        assert_eq!(status, 403);
        assert_eq!(c.login("nobody@kyb.example", PASSWORD).await, 401);
        for _ in 0..4 {
            assert_eq!(c.login("rev@kyb.example", "not the password!").await, 401);
        }
        assert_eq!(
            c.login("rev@kyb.example", "not the password!").await,
            423,
            "the fifth locks"
        );
        assert_eq!(
            c.login("rev@kyb.example", PASSWORD).await,
            423,
            "locked even with the password"
        );
        // The lock is on this account from this address: the operator elsewhere signs in.
        let elsewhere = Console::from_address(&app, [127, 0, 0, 2]);
        assert_eq!(elsewhere.login("rev@kyb.example", PASSWORD).await, 303);
        // An address nobody has answers the same, so the lock tells nothing about accounts
        // (one failure for it above, three more, and the fifth locks).
        for _ in 0..3 {
            assert_eq!(
                c.login("nobody@kyb.example", "guess guess guess").await,
                401
            );
        }
        assert_eq!(
            c.login("nobody@kyb.example", "guess guess guess").await,
            423
        );
        app.clock.advance(chrono::Duration::minutes(16));
        assert_eq!(c.login("rev@kyb.example", PASSWORD).await, 303);
        let (status, html) = c.get("/console").await;
        assert_eq!(status, 200);
        assert!(html.contains("Review queue"));
        // Sign out ends the session.
        let csrf = csrf_of(&html);
        assert_eq!(c.post("/console/logout", &[("csrf", &csrf)]).await.0, 303);
        assert_eq!(c.get("/console").await.0, 303);
    }
);

db_test!(
    one_address_trying_many_accounts_is_slowed,
    |app| async move {
        let c = Console::from_address(&app, [127, 0, 0, 3]);
        for i in 0..20 {
            let status = c
                .login(&format!("user{i}@kyb.example"), "spray spray spray")
                .await;
            assert_eq!(status, 401, "try {i}");
        }
        let (_, html) = c.get("/console/login").await;
        let csrf = csrf_of(&html);
        let r = c
            .client
            .post(format!("{}/console/login", c.base))
            .form(&[
                ("csrf", csrf.as_str()),
                ("email", "user20@kyb.example"),
                ("password", "spray spray spray"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 429);
        let wait: u64 = r.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=3).contains(&wait), "{wait}");
        assert!(r
            .text()
            .await
            .unwrap()
            .contains("Too many sign-in attempts"));
        // Another address is not affected.
        let other = Console::from_address(&app, [127, 0, 0, 4]);
        assert_eq!(
            other.login("user20@kyb.example", "spray spray spray").await,
            401
        );
    }
);

db_test!(a_reviewer_approves_from_the_queue, |app| async move {
    let id = app.case_in_review("Acme Corp", "Ada Obi", "approve").await;
    let reviewer = app
        .operator("rev@kyb.example", OperatorRole::Reviewer)
        .await;
    let (_, queue) = reviewer.get("/console").await;
    assert!(queue.contains(&format!("/console/cases/{id}")), "{queue}");
    let (_, case) = reviewer.get(&format!("/console/cases/{id}")).await;
    for shown in [
        "Acme Corp",
        "Ada Obi",
        "sanctions",
        "registry",
        "documents",
        "Certificate of incorporation",
    ] {
        assert!(case.contains(shown), "{shown} on the case page");
    }
    // The summary, and the timeline of everything that happened, in order.
    assert!(case.contains("class=\"case-summary\""), "{case}");
    let timeline = &case[case.find("id=\"timeline\"").expect("a timeline")..];
    let mut from = 0;
    for step in [
        "Created",
        "A verification link was issued",
        "The verification link was opened",
        "Business details saved",
        "Person added: Ada Obi",
        "Document uploaded",
        "Submitted for review; attested by",
        "Automated checks ran: sanctions",
    ] {
        let at = timeline[from..]
            .find(step)
            .unwrap_or_else(|| panic!("{step} after the step before: {timeline}"));
        from += at;
    }
    // A forged form changes nothing, and the answer is a page that says so.
    let (status, _, page) = reviewer
        .post(
            &format!("/console/cases/{id}/approve"),
            &[("csrf", "forged"), ("confirm", "yes")],
        )
        .await;
    assert_eq!(status, 403);
    assert!(
        page.contains("<html lang=\"en\">") && page.contains("<title>This form is out of date"),
        "{page}"
    );
    // So is an address that is no case.
    let (status, page) = reviewer.get("/console/cases/cust_doesnotexist").await;
    assert_eq!(status, 404);
    assert!(page.contains("<title>No such case"), "{page}");
    assert_eq!(
        app.customer_json(&id).await["verification_status"],
        "in_review"
    );

    let location = reviewer.decide(&id, "approve", &[]).await;
    assert!(location.ends_with("done=approved"), "{location}");
    let (_, case) = reviewer.get(&format!("/console/cases/{id}")).await;
    assert!(
        case.contains("Approved") && case.contains("rev@kyb.example</span> Approved"),
        "the decision is in the timeline, with who took it"
    );
    assert_eq!(
        app.customer_json(&id).await["verification_status"],
        "approved"
    );
    let events = app.state.store.list_events(&app.scope()).await.unwrap();
    assert!(events.iter().any(
        |e| e.event_type == "business_customer.verification_status.updated"
            && e.payload["data"]["object"]["verification_status"] == "approved"
            && e.payload["data"]["previous_attributes"]["verification_status"] == "in_review"
    ));
    let audit = app
        .dump(&format!(
            "SELECT actor_type || ' ' || action FROM audit_log WHERE target_id = '{id}' AND action = 'business_customer.approved'"
        ))
        .await;
    assert_eq!(audit, ["operator business_customer.approved"]);
    let (_, queue) = reviewer.get("/console").await;
    assert!(
        !queue.contains(&format!("/console/cases/{id}")),
        "decided cases leave the queue"
    );
});

db_test!(
    a_rejection_shows_its_reason_code_but_never_the_note,
    |app| async move {
        let id = app.case_in_review("Acme Corp", "Ada Obi", "reject").await;
        let reviewer = app
            .operator("rev@kyb.example", OperatorRole::Reviewer)
            .await;
        // An unknown reason is refused, and the page keeps the note typed; the reason list
        // starts on "Choose a reason", never on a real one.
        let page = reviewer
            .refused_page(
                &id,
                "reject",
                &[
                    ("reason_code", "nope"),
                    ("note", "typed before the refusal"),
                    ("confirm", "yes"),
                ],
            )
            .await;
        assert_eq!(refusal_code(&page), "reason_required");
        assert!(page.contains("Choose a rejection reason from the list."));
        assert!(
            page.contains(">typed before the refusal</textarea>"),
            "{page}"
        );
        assert!(page.contains("<option value=\"\">Choose a reason</option>"));
        assert!(!page.contains(" selected>"), "no reason is preselected");
        // A known reason without the confirmation box: refused, reason and note kept.
        let page = reviewer
            .refused_page(
                &id,
                "reject",
                &[("reason_code", "fraud_suspected"), ("note", "kept")],
            )
            .await;
        assert_eq!(refusal_code(&page), "confirm_required");
        assert!(page.contains("<option value=\"fraud_suspected\" selected>"));
        assert!(page.contains(">kept</textarea>"));
        // A NUL or a text-direction override in the note is refused on the case page (a NUL
        // was a 500 on PostgreSQL), and so is one in the request-information message; the
        // text is not shown back.
        for bad in ["see\u{0}", "see \u{202e}fdp.exe"] {
            let location = reviewer
                .decide(
                    &id,
                    "reject",
                    &[("reason_code", "documents_invalid"), ("note", bad)],
                )
                .await;
            assert_eq!(location, "refused=invisible_characters");
            let page = reviewer
                .refused_page(
                    &id,
                    "request-info",
                    &[("items", "registration_number"), ("message", bad)],
                )
                .await;
            assert_eq!(refusal_code(&page), "invisible_characters");
            assert!(page.contains("invisible, control or text-direction characters"));
            assert!(!page.contains("fdp.exe"));
        }
        let (_, page) = reviewer
            .get(&format!("/console/cases/{id}?error=Call+this+number+now"))
            .await;
        assert!(
            !page.contains("Call this number"),
            "a URL cannot make the page say anything"
        );
        assert_eq!(
            app.customer_json(&id).await["verification_status"],
            "in_review"
        );
        reviewer
            .decide(
                &id,
                "reject",
                &[
                    ("reason_code", "documents_invalid"),
                    ("note", "the certificate looks edited"),
                ],
            )
            .await;
        let v = app.customer_json(&id).await;
        assert_eq!(v["verification_status"], "rejected");
        assert_eq!(
            v["rejection_reasons"],
            serde_json::json!(["documents_invalid"])
        );
        let events = app.get("/v2/events?limit=100").await.text().await.unwrap();
        assert!(!v.to_string().contains("looks edited") && !events.contains("looks edited"));
        // The platform reads its audit rows: they say a note was written, not what it says.
        let audit = app
            .get("/v2/audit_logs?limit=100")
            .await
            .text()
            .await
            .unwrap();
        assert!(audit.contains("business_customer.rejected"), "{audit}");
        assert!(!audit.contains("looks edited"), "{audit}");
        let (_, page) = reviewer.get(&format!("/console/cases/{id}")).await;
        assert!(
            page.contains("the certificate looks edited"),
            "the console keeps it"
        );
    }
);

db_test!(
    requesting_information_sends_the_customer_back_with_a_fresh_link,
    |app| async move {
        let id = app.case_in_review("Acme Corp", "Ada Obi", "info").await;
        let reviewer = app
            .operator("rev@kyb.example", OperatorRole::Reviewer)
            .await;
        let location = reviewer
            .decide(
                &id,
                "request-info",
                &[("message", "Please send a newer proof of address.")],
            )
            .await;
        assert_eq!(
            location, "refused=info_incomplete",
            "an item must be picked"
        );
        reviewer
            .decide(
                &id,
                "request-info",
                &[
                    ("items", "documents.proof_of_address"),
                    ("message", "Please send a newer proof of address."),
                ],
            )
            .await;
        let v = app.customer_json(&id).await;
        assert_eq!(v["verification_status"], "more_info");
        assert!(
            v["kyb_link"].is_string(),
            "a fresh link for the platform: {v}"
        );
        assert_eq!(
            v["requirements"]["information_requested"]["items"],
            serde_json::json!(["documents.proof_of_address"])
        );
        assert_eq!(
            v["requirements"]["information_requested"]["message"],
            "Please send a newer proof of address."
        );
        assert!(v["requirements"]["currently_due"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d == "documents.proof_of_address"));
        let types: Vec<String> = app
            .state
            .store
            .list_events(&app.scope())
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.customer_id.as_deref() == Some(id.as_str()))
            .map(|e| e.event_type)
            .collect();
        assert!(
            types
                .iter()
                .filter(|t| *t == "business_customer.kyb_link.created")
                .count()
                >= 2
        );
    }
);

db_test!(a_sanctions_hit_needs_two_admins, |app| async move {
    app.import_list("2024-05-03").await;
    let id = app
        .case_in_review("Acme Corp", "Hasan Nasrallah", "hit")
        .await;
    let reviewer = app
        .operator("rev@kyb.example", OperatorRole::Reviewer)
        .await;
    // A reviewer is not offered Approve on a case with a sanctions hit, and is told why; a
    // form sent anyway is refused.
    let (_, page) = reviewer.get(&format!("/console/cases/{id}")).await;
    assert!(!page.contains("id=\"approve\""), "{page}");
    assert!(page.contains("id=\"approve-unavailable\""), "{page}");
    assert!(page.contains("only admins may approve it"), "{page}");
    let location = reviewer.decide(&id, "approve", &[]).await;
    assert!(location == "refused=admins_only", "{location}");
    let first = app
        .operator("admin1@kyb.example", OperatorRole::Admin)
        .await;
    let location = first.decide(&id, "approve", &[]).await;
    assert!(location.ends_with("done=first_approval"), "{location}");
    assert_eq!(
        app.customer_json(&id).await["verification_status"],
        "in_review"
    );
    let location = first.decide(&id, "approve", &[]).await;
    assert!(
        location == "refused=second_admin_needed",
        "the same admin twice is not two"
    );
    let second = app
        .operator("admin2@kyb.example", OperatorRole::Admin)
        .await;
    let location = second.decide(&id, "approve", &[]).await;
    assert!(location.ends_with("done=approved"), "{location}");
    assert_eq!(
        app.customer_json(&id).await["verification_status"],
        "approved"
    );
    let (_, case) = second.get(&format!("/console/cases/{id}")).await;
    assert!(
        case.contains("first approval by admin1@kyb.example")
            && case.contains("approve by admin2@kyb.example"),
        "{case}"
    );
});

db_test!(
    documents_are_shown_only_to_signed_in_operators,
    |app| async move {
        let id = app.case_in_review("Acme Corp", "Ada Obi", "docs").await;
        let doc = app
            .dump(&format!(
                "SELECT id FROM documents WHERE customer_id = '{id}' ORDER BY kind LIMIT 1"
            ))
            .await
            .remove(0);
        let path = format!("/console/cases/{id}/documents/{doc}");
        assert_eq!(
            Console::new(&app).get(&path).await.0,
            303,
            "to the sign-in page"
        );
        let reviewer = app
            .operator("rev@kyb.example", OperatorRole::Reviewer)
            .await;
        let r = reviewer
            .client
            .get(format!("{}{path}", reviewer.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(
            r.headers()["content-security-policy"],
            "default-src 'none'; sandbox"
        );
        assert!(r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment"));
        assert_eq!(r.headers()["x-frame-options"], "DENY");
        assert!(r.bytes().await.unwrap().starts_with(b"%PDF"));

        // Shown in place on the case page: a PDF in a frame of this origin only (Chromium
        // runs no PDF viewer in a sandboxed document), an image sandboxed.
        let get = |path: String| {
            let reviewer = &reviewer;
            async move {
                reviewer
                    .client
                    .get(format!("{}{path}", reviewer.base))
                    .send()
                    .await
                    .unwrap()
            }
        };
        let case = get(format!("/console/cases/{id}")).await;
        let csp = case.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            csp.contains("frame-src 'self'") && csp.contains("frame-ancestors 'none'"),
            "{csp}"
        );
        let html = case.text().await.unwrap();
        let preview = format!("{path}/preview");
        assert!(
            html.contains(&format!("<iframe class=\"preview\" src=\"{preview}\"")),
            "{html}"
        );
        let r = get(preview.clone()).await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "application/pdf");
        assert_eq!(r.headers()["x-content-type-options"], "nosniff");
        assert_eq!(r.headers()["x-frame-options"], "SAMEORIGIN");
        let csp = r.headers()["content-security-policy"].to_str().unwrap();
        assert!(
            csp.starts_with("default-src 'none';") && csp.contains("frame-ancestors 'self'"),
            "{csp}"
        );
        assert!(r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("inline"));
        assert_eq!(
            Console::new(&app).get(&preview).await.0,
            303,
            "signed in only"
        );
        app.exec(&format!(
            "UPDATE documents SET content_type = 'image/png' WHERE id = '{doc}'"
        ))
        .await;
        let html = get(format!("/console/cases/{id}"))
            .await
            .text()
            .await
            .unwrap();
        assert!(
            html.contains(&format!(
                "<img class=\"preview\" src=\"{preview}\" alt=\"The "
            )),
            "{html}"
        );
        let r = get(preview.clone()).await;
        assert_eq!(r.headers()["content-type"], "image/png");
        assert_eq!(
            r.headers()["content-security-policy"],
            "default-src 'none'; sandbox"
        );
        assert_eq!(r.headers()["x-frame-options"], "DENY");
        app.exec(&format!(
            "UPDATE documents SET content_type = 'application/pdf' WHERE id = '{doc}'"
        ))
        .await;

        // Its file gone from the document storage (a restore that missed the documents): a
        // 404 that says so, not a 500.
        let key = app
            .dump(&format!(
                "SELECT storage_key FROM documents WHERE id = '{doc}'"
            ))
            .await
            .remove(0);
        app.state
            .documents
            .delete(&object_store::path::Path::from(key))
            .await
            .unwrap();
        let r = reviewer
            .client
            .get(format!("{}{path}", reviewer.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
        assert!(r
            .text()
            .await
            .unwrap()
            .contains("missing from the document storage"));
    }
);

db_test!(
    a_flagged_case_is_in_the_queue_until_a_reviewer_clears_it,
    |app| async move {
        let id = app.case_in_review("Acme Corp", "Ada Obi", "flag").await;
        app.exec(&format!(
        "UPDATE business_customers SET verification_status = 'approved', review_flag = 'sanctions_new_hit' WHERE id = '{id}'"
    ))
    .await;
        let reviewer = app
            .operator("rev@kyb.example", OperatorRole::Reviewer)
            .await;
        let (_, queue) = reviewer.get("/console").await;
        assert!(
            queue.contains(&format!("/console/cases/{id}"))
                && queue.contains("new hit after a list update")
        );
        let location = reviewer.decide(&id, "clear-flag", &[("note", "")]).await;
        assert_eq!(
            location, "refused=flag_reason_required",
            "a reason is needed"
        );
        let location = reviewer
            .decide(
                &id,
                "clear-flag",
                &[("note", "same name, different company: checked the registry")],
            )
            .await;
        assert!(location.ends_with("done=flag_cleared"), "{location}");
        let (_, queue) = reviewer.get("/console").await;
        assert!(!queue.contains(&format!("/console/cases/{id}")));
        assert_eq!(
            app.customer_json(&id).await["verification_status"],
            "approved"
        );
        let audit = app
        .dump(&format!("SELECT actor_type FROM audit_log WHERE target_id = '{id}' AND action = 'business_customer.flag_cleared'"))
        .await;
        assert_eq!(audit, ["operator"]);
        // The reason stays in the console (the notes thread), never in the platform's audit log.
        let (_, page) = reviewer.get(&format!("/console/cases/{id}")).await;
        assert!(
            page.contains("different company: checked the registry"),
            "{page}"
        );
        let api = app
            .get("/v2/audit_logs?limit=100")
            .await
            .text()
            .await
            .unwrap();
        assert!(api.contains("business_customer.flag_cleared"), "{api}");
        assert!(!api.contains("different company"), "{api}");
    }
);

db_test!(no_approval_before_the_checks_have_run, |app| async move {
    let id = submitted_case(&app, "Acme Corp", "5551234", "Ada Obi", "early").await;
    let reviewer = app
        .operator("rev@kyb.example", OperatorRole::Reviewer)
        .await;
    let location = reviewer.decide(&id, "approve", &[]).await;
    assert!(location == "refused=checks_running", "{location}");
    assert_eq!(
        app.customer_json(&id).await["verification_status"],
        "in_review"
    );
    CheckRunner::new(app.state.clone())
        .run_once()
        .await
        .unwrap();
    let location = reviewer.decide(&id, "approve", &[]).await;
    assert!(location.ends_with("done=approved"), "{location}");
});

db_test!(
    a_disabled_operator_is_signed_out_and_cannot_sign_in,
    |app| async move {
        let reviewer = app
            .operator("rev@kyb.example", OperatorRole::Reviewer)
            .await;
        assert_eq!(reviewer.get("/console").await.0, 200);
        app.state
            .store
            .set_operator_disabled(
                "rev@kyb.example",
                true,
                &AuditContext::operator_cli(app.clock.now()),
            )
            .await
            .unwrap();
        assert_eq!(reviewer.get("/console").await.0, 303, "the session ended");
        assert_eq!(reviewer.login("rev@kyb.example", PASSWORD).await, 401);
        app.state
            .store
            .set_operator_disabled(
                "rev@kyb.example",
                false,
                &AuditContext::operator_cli(app.clock.now()),
            )
            .await
            .unwrap();
        assert_eq!(reviewer.login("rev@kyb.example", PASSWORD).await, 303);
    }
);

db_test!(the_queue_puts_risk_before_age, |app| async move {
    app.import_list("2024-05-03").await;
    // Older and only warned about (no registry), then newer with a sanctions hit, then one
    // whose checks have not run.
    let older = app
        .case_in_review("Older Widgets Corp", "Ada Obi", "old")
        .await;
    app.clock.advance(chrono::Duration::minutes(5));
    let risky = app
        .case_in_review("Newer Widgets Corp", "Hasan Nasrallah", "new")
        .await;
    app.clock.advance(chrono::Duration::minutes(5));
    let running = submitted_case(&app, "Latest Widgets Corp", "5551234", "Ben Cole", "run").await;
    let reviewer = app
        .operator("rev@kyb.example", OperatorRole::Reviewer)
        .await;
    let (_, queue) = reviewer.get("/console").await;
    let at = |id: &str| queue.find(&format!("/console/cases/{id}")).unwrap();
    assert!(at(&risky) < at(&older), "a failed check first");
    assert!(at(&older) < at(&running), "checks still running last");
    assert!(queue.contains("fail") && queue.contains("warn") && queue.contains("not run"));
    assert!(queue.contains("3 cases match"), "{queue}");
    assert!(queue.contains("0 of 2 admins"), "the hit needs two admins");
    // Oldest first on request.
    let (_, by_age) = reviewer.get("/console?sort=age").await;
    let at = |id: &str| by_age.find(&format!("/console/cases/{id}")).unwrap();
    assert!(at(&older) < at(&risky) && at(&risky) < at(&running));

    // Pages of one case follow each other by the sort keys, each case once, in order.
    let mut seen = Vec::new();
    let mut path = "/console?per_page=1".to_owned();
    loop {
        let (status, page) = reviewer.get(&path).await;
        assert_eq!(status, 200);
        assert!(page.contains("3 cases match"), "the count is of all pages");
        let ids: Vec<&String> = [&risky, &older, &running]
            .into_iter()
            .filter(|id| page.contains(&format!("/console/cases/{id}")))
            .collect();
        assert_eq!(ids.len(), 1, "{page}");
        seen.push(ids[0].clone());
        let Some(at) = page.find("id=\"next-page\"") else {
            break;
        };
        let href = page[..at].rfind("href=\"").unwrap() + 6;
        path = page[href..href + page[href..].find('"').unwrap()]
            .replace("&#38;", "&")
            .replace("&amp;", "&");
        assert!(seen.len() < 5, "paging ends: {path}");
    }
    assert_eq!(seen, [risky.clone(), older.clone(), running.clone()]);

    // Search: a part of the name, a person's name, the customer id; whatever is typed is text.
    let find = |q: &str| {
        let reviewer = &reviewer;
        let q = url::form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>();
        async move { reviewer.get(&format!("/console?q={q}")).await.1 }
    };
    let widgets = find("widgets corp").await;
    assert!(widgets.contains("3 cases match"), "{widgets}");
    let person = find("nasrallah").await;
    assert!(
        person.contains("1 case matches") && person.contains(&risky),
        "{person}"
    );
    let by_id = find(&older).await;
    assert!(by_id.contains("1 case matches") && by_id.contains(&older));
    assert!(
        find("%").await.contains("0 cases match"),
        "% is not a wildcard"
    );

    // Filters: a sanctions hit, the assignee, the age.
    let (_, hits) = reviewer.get("/console?flag=sanctions_hit").await;
    assert!(hits.contains("1 case matches") && hits.contains(&risky));
    assert!(reviewer
        .decide(&older, "assign", &[("action", "claim")])
        .await
        .ends_with("done=assigned"));
    let (_, mine) = reviewer.get("/console?assignee=mine").await;
    assert!(mine.contains("1 case matches") && mine.contains(&older));
    let (_, free) = reviewer.get("/console?assignee=unassigned").await;
    assert!(free.contains("2 cases match") && !free.contains(&format!("/console/cases/{older}")));
    app.clock.advance(chrono::Duration::days(3));
    let _newest =
        submitted_case(&app, "Newest Widgets Corp", "5551234", "Ben Cole", "newest").await;
    // (Three days later the reviewer's session has ended: another signs in.)
    let later = app
        .operator("later@kyb.example", OperatorRole::Reviewer)
        .await;
    let (_, waiting) = later.get("/console?older_than_days=2").await;
    assert!(waiting.contains("3 cases match"), "{waiting}");
    let (_, all) = later.get("/console").await;
    assert!(all.contains("4 cases match"), "{all}");
    // Whatever numbers a URL holds, the queue answers.
    for odd in [
        "older_than_days=4294967295",
        "per_page=0",
        "per_page=99999",
        "after=-1.-9223372036854775808.cust_x",
        "after=2.9223372036854775807.cust_x",
        "after=garbage",
    ] {
        let (status, page) = later.get(&format!("/console?{odd}")).await;
        assert_eq!(status, 200, "{odd}: {page}");
    }

    // A first admin approval of the hit shows as one of two.
    let admin = app
        .operator("admin1@kyb.example", OperatorRole::Admin)
        .await;
    assert!(admin
        .decide(&risky, "approve", &[])
        .await
        .ends_with("done=first_approval"));
    let (_, queue) = later.get("/console?flag=sanctions_hit").await;
    assert!(queue.contains("1 of 2 admins"), "{queue}");
});

db_test!(
    a_false_positive_needs_two_admins_and_is_remembered_until_the_entry_changes,
    |app| async move {
        app.import_list("2024-04-26").await;
        let id = app
            .case_in_review("Acme Corp", "Hasan Nasrallah", "fp")
            .await;
        let reviewer = app
            .operator("rev@kyb.example", OperatorRole::Reviewer)
            .await;
        // The hit side by side with what the customer gave.
        let (_, page) = reviewer.get(&format!("/console/cases/{id}")).await;
        for text in [
            "Sanctions hits",
            "Person: Hasan Nasrallah",
            "NASRALLAH, Hasan",
            "1960-08-31",
            "31 Aug 1960",
            "(agrees)",
            "Why it matched",
            "(exact)",
        ] {
            assert!(page.contains(text), "{text} in {page}");
        }
        assert!(
            !page.contains("value=\"false_positive\""),
            "a reviewer is not offered to clear a hit"
        );
        let verdict = |list: &'static str, entry: &'static str, v: &'static str| {
            vec![
                ("list", list),
                ("entry_id", entry),
                ("verdict", v),
                ("reason", "Different person: born in another country"),
            ]
        };
        let fp = verdict("ofac-sdn", "2686", "false_positive");
        let location = reviewer.decide(&id, "hits/verdict", &fp).await;
        assert!(
            location.ends_with("refused=admins_only_clear"),
            "{location}"
        );
        let location = reviewer
            .decide(
                &id,
                "hits/verdict",
                &verdict("ofac-sdn", "99999999", "true_match"),
            )
            .await;
        assert!(location.ends_with("refused=not_a_hit"), "{location}");
        let location = reviewer
            .decide(
                &id,
                "hits/verdict",
                &[
                    ("list", "ofac-sdn"),
                    ("entry_id", "2686"),
                    ("verdict", "true_match"),
                ],
            )
            .await;
        assert!(
            location.ends_with("refused=verdict_reason_required"),
            "{location}"
        );
        // Two admins clear it.
        let first = app
            .operator("admin1@kyb.example", OperatorRole::Admin)
            .await;
        assert!(first
            .decide(&id, "hits/verdict", &fp)
            .await
            .ends_with("done=verdict_pending"));
        assert!(first
            .decide(&id, "hits/verdict", &fp)
            .await
            .ends_with("refused=second_admin_needed_clear"));
        let location = reviewer.decide(&id, "approve", &[]).await;
        assert!(
            location == "refused=admins_only",
            "not cleared yet: {location}"
        );
        let second = app
            .operator("admin2@kyb.example", OperatorRole::Admin)
            .await;
        assert!(second
            .decide(&id, "hits/verdict", &fp)
            .await
            .ends_with("done=verdict_recorded"));
        let audit = app
            .dump("SELECT action FROM audit_log WHERE action = 'sanctions_hit.verdict'")
            .await;
        assert_eq!(audit.len(), 2, "every verdict is an audit row");
        // Cleared: a reviewer may approve.
        let location = reviewer.decide(&id, "approve", &[]).await;
        assert!(location.ends_with("done=approved"), "{location}");

        // A newer list with the entry unchanged: the hit stays cleared, nothing is flagged.
        app.import_list("2024-05-03").await;
        CheckRunner::new(app.state.clone())
            .run_once()
            .await
            .unwrap();
        let flag = app
            .dump(&format!(
                "SELECT COALESCE(review_flag, '') FROM business_customers WHERE id = '{id}'"
            ))
            .await;
        assert_eq!(flag, [""], "a cleared hit is not raised again");
        let evidence = app
            .dump(&format!(
                "SELECT CAST(evidence AS TEXT) FROM check_results WHERE customer_id = '{id}' AND kind = 'sanctions' ORDER BY seq DESC LIMIT 1"
            ))
            .await;
        assert!(evidence[0].contains("\"cleared\""), "{}", evidence[0]);

        // The entry changes (a new date of birth): the hit is raised again and says so.
        let mut entries = sdn_entries("2024-05-03");
        let e = entries.iter_mut().find(|e| e.id == "2686").unwrap();
        e.dates_of_birth
            .push(kyb_screening::DateOfBirth::parse_ofac("31 Aug 1961").unwrap());
        app.import_sdn("2024-06-01", &entries).await;
        CheckRunner::new(app.state.clone())
            .run_once()
            .await
            .unwrap();
        let flag = app
            .dump(&format!(
                "SELECT COALESCE(review_flag, '') FROM business_customers WHERE id = '{id}'"
            ))
            .await;
        assert_eq!(flag, ["sanctions_new_hit"]);
        let (_, page) = reviewer.get(&format!("/console/cases/{id}")).await;
        assert!(page.contains("the list entry has changed since"), "{page}");
    }
);

db_test!(a_confirmed_match_cannot_be_approved, |app| async move {
    app.import_list("2024-05-03").await;
    let id = app
        .case_in_review("Acme Corp", "Hasan Nasrallah", "tm")
        .await;
    let reviewer = app
        .operator("rev@kyb.example", OperatorRole::Reviewer)
        .await;
    let location = reviewer
        .decide(
            &id,
            "hits/verdict",
            &[
                ("list", "ofac-sdn"),
                ("entry_id", "2686"),
                ("verdict", "true_match"),
                ("reason", "Same name, same date of birth"),
            ],
        )
        .await;
    assert!(location.ends_with("done=verdict_recorded"), "{location}");
    let admin = app
        .operator("admin1@kyb.example", OperatorRole::Admin)
        .await;
    let location = admin.decide(&id, "approve", &[]).await;
    assert!(location.ends_with("refused=confirmed_match"), "{location}");
    let (_, page) = admin.get(&format!("/console/cases/{id}")).await;
    assert!(page.contains("true match by rev@kyb.example"), "{page}");
    // The verdict's reason is the console's: the platform's audit log has its digest only.
    let api = app
        .get("/v2/audit_logs?limit=100")
        .await
        .text()
        .await
        .unwrap();
    assert!(api.contains("sanctions_hit.verdict"), "{api}");
    assert!(!api.contains("Same name, same date of birth"), "{api}");
});

db_test!(
    a_check_that_keeps_failing_is_failed_then_rerun_or_decided_by_an_admin,
    |app| async move {
        app.import_list("2024-04-26").await;
        // A stored list entry is damaged: every run of the checks fails.
        app.exec("UPDATE sanctions_list_entries SET data = 'x_' || data WHERE position = 0")
            .await;
        let decided = submitted_case(&app, "Acme Corp", "5551234", "Ada Obi", "fail-a").await;
        let rerun = submitted_case(&app, "Beta Corp", "5551235", "Ben Cole", "fail-b").await;
        let runner = CheckRunner::new(app.state.clone());
        assert_eq!(runner.run_once().await.unwrap(), 2, "the first runs fail");
        // Each further run waits twice as long as the one before: 30 s, 1 min, 2 min, 4 min.
        for delay in [30, 60, 120, 240] {
            app.clock.advance(chrono::Duration::seconds(delay - 1));
            assert_eq!(
                runner.run_once().await.unwrap(),
                0,
                "not due before {delay} s"
            );
            app.clock.advance(chrono::Duration::seconds(1));
            assert_eq!(runner.run_once().await.unwrap(), 2, "due after {delay} s");
        }
        app.clock.advance(chrono::Duration::hours(2));
        assert_eq!(
            runner.run_once().await.unwrap(),
            0,
            "five runs, then failed"
        );
        let a = kyb_domain::CustomerId::parse(&decided).unwrap();
        let failed = app
            .state
            .store
            .failed_check_jobs(&app.platform, &a)
            .await
            .unwrap();
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].attempts, 5);
        assert!(
            failed[0].error.contains("sanctions entry"),
            "{}",
            failed[0].error
        );
        assert_eq!(app.state.store.pending_check_jobs(&a).await.unwrap(), 0);
        let audit = app
            .dump(&format!(
                "SELECT action FROM audit_log WHERE target_id = '{decided}' AND action = 'checks.failed'"
            ))
            .await;
        assert_eq!(audit.len(), 1);
        let metrics = reqwest::get(app.url("/metrics")).await.unwrap();
        assert!(metrics
            .text()
            .await
            .unwrap()
            .contains("kyb_check_jobs_failed 2"));

        // The case page says what failed; a reviewer may not approve.
        let reviewer = app
            .operator("rev@kyb.example", OperatorRole::Reviewer)
            .await;
        let (_, html) = reviewer.get(&format!("/console/cases/{decided}")).await;
        assert!(html.contains("Checks that failed"), "{html}");
        assert!(html.contains("failed 5 times"), "{html}");
        assert!(html.contains("only an admin may approve"), "{html}");
        let location = reviewer.decide(&decided, "approve", &[]).await;
        assert!(location.ends_with("refused=checks_failed"), "{location}");
        assert_eq!(
            app.customer_json(&decided).await["verification_status"],
            "in_review"
        );

        // An admin decides, with the failure on record.
        let admin = app.operator("adm@kyb.example", OperatorRole::Admin).await;
        let (_, html) = admin.get(&format!("/console/cases/{decided}")).await;
        assert!(html.contains("the failure is kept"), "{html}");
        let location = admin.decide(&decided, "approve", &[]).await;
        assert!(location.ends_with("done=approved"), "{location}");
        let details = app
            .dump(&format!(
                "SELECT CAST(details AS TEXT) FROM audit_log WHERE target_id = '{decided}' AND action = 'business_customer.approved'"
            ))
            .await;
        let details: Value = serde_json::from_str(&details[0]).unwrap();
        assert_eq!(details["failed_checks"][0]["attempts"], 5, "{details}");
        assert!(details["failed_checks"][0]["error"]
            .as_str()
            .unwrap()
            .contains("sanctions entry"));

        // The list is repaired; the reviewer runs the other case's checks again.
        app.exec("UPDATE sanctions_list_entries SET data = SUBSTR(data, 3) WHERE position = 0")
            .await;
        let location = reviewer.decide(&rerun, "checks/rerun", &[]).await;
        assert!(location.ends_with("done=checks_rerun"), "{location}");
        let location = reviewer.decide(&rerun, "checks/rerun", &[]).await;
        assert!(location.ends_with("refused=no_failed_checks"), "{location}");
        let audit = app
            .dump(&format!(
                "SELECT actor_type FROM audit_log WHERE target_id = '{rerun}' AND action = 'checks.rerun'"
            ))
            .await;
        assert_eq!(audit, ["operator"]);
        assert_eq!(runner.run_once().await.unwrap(), 1, "due at once");
        let b = kyb_domain::CustomerId::parse(&rerun).unwrap();
        assert!(app
            .state
            .store
            .failed_check_jobs(&app.platform, &b)
            .await
            .unwrap()
            .is_empty());
        assert_eq!(
            app.state
                .store
                .list_checks(&app.platform, &b)
                .await
                .unwrap()
                .len(),
            3
        );
        let location = reviewer.decide(&rerun, "approve", &[]).await;
        assert!(location.ends_with("done=approved"), "{location}");
    }
);

db_test!(
    cases_are_taken_given_and_noted_with_an_audit_row_each,
    |app| async move {
        let id = app.case_in_review("Acme Corp", "Ada Obi", "work").await;
        let case = format!("/console/cases/{id}");
        let rev = app
            .operator("rev@kyb.example", OperatorRole::Reviewer)
            .await;
        let other = app
            .operator("rev2@kyb.example", OperatorRole::Reviewer)
            .await;
        let admin = app.operator("admin@kyb.example", OperatorRole::Admin).await;
        let other_id = app
            .dump("SELECT id FROM operators WHERE email = 'rev2@kyb.example'")
            .await
            .remove(0);
        let (_, page) = rev.get(&case).await;
        assert!(page.contains("Nobody yet."), "{page}");
        assert!(
            !page.contains("id=\"assign\""),
            "only admins give cases away"
        );

        let claim = [("action", "claim")];
        assert!(rev
            .decide(&id, "assign", &claim)
            .await
            .ends_with("done=assigned"));
        let (_, page) = rev.get(&case).await;
        assert!(page.contains("You, since"), "{page}");
        let (_, page) = other.get(&case).await;
        assert!(page.contains("rev@kyb.example, since"), "{page}");
        // Another reviewer can neither take it nor give it back; nobody but an admin gives it
        // to someone.
        assert_eq!(
            other.decide(&id, "assign", &claim).await,
            "refused=assigned_to_other"
        );
        assert_eq!(
            other.decide(&id, "assign", &[("action", "release")]).await,
            "refused=assigned_to_other"
        );
        let give = [("action", "assign"), ("operator", other_id.as_str())];
        assert_eq!(
            rev.decide(&id, "assign", &give).await,
            "refused=admins_only_assign"
        );
        assert_eq!(
            admin
                .decide(
                    &id,
                    "assign",
                    &[("action", "assign"), ("operator", "op_nobody")]
                )
                .await,
            "refused=no_such_operator"
        );
        assert!(admin
            .decide(&id, "assign", &give)
            .await
            .ends_with("done=assigned"));
        let (_, page) = other.get(&case).await;
        assert!(page.contains("You, since"), "{page}");

        // Notes: an empty one is refused; a note shows on the case page, for the team only.
        let page = other.refused_page(&id, "notes", &[("body", "")]).await;
        assert_eq!(refusal_code(&page), "note_required");
        let text = "Called the director: the address is a shared office.";
        assert!(other
            .decide(&id, "notes", &[("body", text)])
            .await
            .ends_with("done=note_added"));
        let (_, page) = rev.get(&case).await;
        assert!(
            page.contains(text) && page.contains("rev2@kyb.example,"),
            "{page}"
        );
        assert!(other
            .decide(&id, "assign", &[("action", "release")])
            .await
            .ends_with("done=released"));

        let audit = app
            .dump(&format!(
                "SELECT action FROM audit_log WHERE target_id = '{id}' \
                 AND action IN ('business_customer.assigned', 'business_customer.note_added') \
                 ORDER BY seq"
            ))
            .await;
        assert_eq!(
            audit,
            [
                "business_customer.assigned",
                "business_customer.assigned",
                "business_customer.note_added",
                "business_customer.assigned",
            ]
        );
        let api = app
            .get("/v2/audit_logs?limit=100")
            .await
            .text()
            .await
            .unwrap();
        assert!(api.contains("business_customer.note_added"), "{api}");
        assert!(
            !api.contains("shared office"),
            "the platform never reads a note"
        );
        assert!(!app
            .customer_json(&id)
            .await
            .to_string()
            .contains("shared office"));

        // Nobody works on it now: giving it back again is refused. An admin takes over a case
        // another operator has.
        assert_eq!(
            rev.decide(&id, "assign", &[("action", "release")]).await,
            "refused=not_assigned"
        );
        assert!(rev
            .decide(&id, "assign", &claim)
            .await
            .ends_with("done=assigned"));
        assert!(admin
            .decide(&id, "assign", &claim)
            .await
            .ends_with("done=assigned"));
        let (_, page) = rev.get(&case).await;
        assert!(page.contains("admin@kyb.example, since"), "{page}");
    }
);

db_test!(
    an_operator_limited_to_a_platform_sees_nothing_of_another,
    |app| async move {
        let ours = app.case_in_review("Acme Corp", "Ada Obi", "ours").await;
        let (beta, beta_key) = create_platform(
            &app.state.store,
            &app.clock,
            "Beta Platform",
            kyb_domain::Mode::Test,
        )
        .await;
        let r = app
            .create_as(
                &beta_key,
                &new_idempotency_key(),
                &body_with_email(&unique_email()).to_string(),
            )
            .await;
        assert_eq!(r.status(), 200);
        let theirs = r.json::<Value>().await.unwrap()["customer_id"]
            .as_str()
            .unwrap()
            .to_owned();

        let admin = app.operator("admin@kyb.example", OperatorRole::Admin).await;
        let (_, all) = admin.get("/console?status=all").await;
        assert!(all.contains("2 cases match"), "{all}");

        // A reviewer limited to the first platform.
        let hash = kyb_server::console::password::hash(PASSWORD).unwrap();
        let store = &app.state.store;
        store
            .create_operator(
                "scoped@kyb.example",
                OperatorRole::Reviewer,
                &hash,
                std::slice::from_ref(&app.platform),
                &AuditContext::operator_cli(app.clock.now()),
            )
            .await
            .unwrap();
        let scoped = Console::new(&app);
        assert_eq!(scoped.login("scoped@kyb.example", PASSWORD).await, 303);
        let (_, queue) = scoped.get("/console?status=all").await;
        assert!(queue.contains("1 case matches"), "{queue}");
        assert!(queue.contains(&ours) && !queue.contains(&theirs));
        assert!(!queue.contains("Beta Platform"), "not even in the filter");
        let (_, queue) = scoped
            .get(&format!("/console?status=all&platform={beta}"))
            .await;
        assert!(queue.contains("0 cases match"), "{queue}");
        let (_, queue) = scoped.get(&format!("/console?q={theirs}&status=all")).await;
        assert!(queue.contains("0 cases match"), "{queue}");

        // The other platform's case is no case at all: its page, its forms.
        let (status, _) = scoped.get(&format!("/console/cases/{theirs}")).await;
        assert_eq!(status, 404);
        let csrf = scoped.csrf(&format!("/console/cases/{ours}")).await;
        for (action, form) in [
            ("approve", vec![("confirm", "yes")]),
            ("reject", vec![("reason_code", "other"), ("confirm", "yes")]),
            ("notes", vec![("body", "hello")]),
            ("assign", vec![("action", "claim")]),
        ] {
            let mut form = form;
            form.push(("csrf", csrf.as_str()));
            let (status, _, _) = scoped
                .post(&format!("/console/cases/{theirs}/{action}"), &form)
                .await;
            assert_eq!(status, 404, "{action}");
        }
        // The other platform's case gets a document (moved from ours behind kyb's back).
        app.exec(&format!(
            "UPDATE documents SET platform_id = '{beta}', customer_id = '{theirs}' WHERE customer_id = '{ours}'"
        ))
        .await;
        let their_docs = app
            .dump(&format!(
                "SELECT id FROM documents WHERE customer_id = '{theirs}'"
            ))
            .await;
        assert!(!their_docs.is_empty());
        for doc in their_docs {
            for path in [
                format!("/console/cases/{theirs}/documents/{doc}"),
                format!("/console/cases/{theirs}/documents/{doc}/preview"),
            ] {
                assert_eq!(scoped.get(&path).await.0, 404, "{path}");
                assert_eq!(
                    admin.get(&path).await.0,
                    200,
                    "{path} for one who sees both"
                );
            }
        }
        // A case goes only to someone who may open it.
        let scoped_id = app
            .dump("SELECT id FROM operators WHERE email = 'scoped@kyb.example'")
            .await
            .remove(0);
        let (_, their_page) = admin.get(&format!("/console/cases/{theirs}")).await;
        assert!(!their_page.contains(&format!("value=\"{scoped_id}\"")));
        let (_, our_page) = admin.get(&format!("/console/cases/{ours}")).await;
        assert!(our_page.contains(&format!("value=\"{scoped_id}\"")));
        let to_scoped = [("action", "assign"), ("operator", scoped_id.as_str())];
        assert_eq!(
            admin.decide(&theirs, "assign", &to_scoped).await,
            "refused=no_such_operator"
        );
        assert!(admin
            .decide(&ours, "assign", &to_scoped)
            .await
            .ends_with("done=assigned"));
        assert_eq!(
            app.dump(&format!(
                "SELECT COUNT(*) || '' FROM audit_log WHERE target_id = '{theirs}' \
                 AND actor_type = 'operator'"
            ))
            .await,
            ["0"]
        );

        // A new limit ends the account's sessions.
        store
            .set_operator_platforms(
                "scoped@kyb.example",
                &[],
                &AuditContext::operator_cli(app.clock.now()),
            )
            .await
            .unwrap();
        let (status, _) = scoped.get("/console").await;
        assert_eq!(status, 303, "signed out");
    }
);

crate::db_test_with!(
    the_case_page_shows_the_registry_beside_what_was_given,
    |mut c: kyb_server::Config| {
        c.registry_sec_file = Some(
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../testdata/sec/company_tickers.json"
            )
            .into(),
        );
        c
    },
    |app| async move {
        // Apple's name, with another company's registration number.
        let id = submitted_case(&app, "Apple Inc.", "0000789019", "Ada Obi", "reg").await;
        CheckRunner::new(app.state.clone())
            .run_once()
            .await
            .unwrap();
        let reviewer = app
            .operator("rev@kyb.example", OperatorRole::Reviewer)
            .await;
        let (_, page) = reviewer.get(&format!("/console/cases/{id}")).await;
        let registry = &page[page.find("id=\"registry\"").expect("a registry section")..];
        let registry = &registry[..registry.find("</table>").unwrap()];
        assert!(registry.contains("Found in"), "{registry}");
        assert!(registry.contains("<tr class=\"differs\"><th scope=\"row\">Registration number</th><td>0000789019</td><td>320193"), "{registry}");
        assert!(
            registry.contains("<tr><th scope=\"row\">Name</th>"),
            "the name agrees: {registry}"
        );
        assert!(
            page.contains("Ada Obi") && page.contains("(sanctions: no hit)"),
            "{page}"
        );
    }
);

db_test!(
    passwords_are_changed_by_their_owner_and_reset_by_a_one_time_link,
    |app| async move {
        let reviewer = app
            .operator("rev@kyb.example", OperatorRole::Reviewer)
            .await;
        let elsewhere = Console::new(&app);
        assert_eq!(elsewhere.login("rev@kyb.example", PASSWORD).await, 303);
        let admin = app.operator("admin@kyb.example", OperatorRole::Admin).await;
        let rev_id = app
            .dump("SELECT id FROM operators WHERE email = 'rev@kyb.example'")
            .await
            .remove(0);

        // The owner changes it: the current password is checked, the new one twice.
        let csrf = reviewer.csrf("/console/password").await;
        let change = |current: &'static str, new: &'static str, again: &'static str| {
            let (reviewer, csrf) = (&reviewer, csrf.clone());
            async move {
                reviewer
                    .post(
                        "/console/password",
                        &[
                            ("csrf", csrf.as_str()),
                            ("current_password", current),
                            ("new_password", new),
                            ("new_password_again", again),
                        ],
                    )
                    .await
            }
        };
        let (status, _, page) = change(
            "wrong password!!",
            "a brand new password",
            "a brand new password",
        )
        .await;
        assert_eq!(status, 422);
        assert!(page.contains("The current password is wrong."));
        let (status, _, page) =
            change(PASSWORD, "a brand new password", "another new password").await;
        assert_eq!(status, 422);
        assert!(page.contains("differ"));
        let (status, _, page) =
            change(PASSWORD, " a brand new password ", " a brand new password ").await;
        assert_eq!(status, 200, "{page}");
        assert!(page.contains("Your password is changed"));
        assert_eq!(
            reviewer.get("/console").await.0,
            200,
            "this session goes on"
        );
        assert_eq!(elsewhere.get("/console").await.0, 303, "the others end");
        // A password is what was typed, spaces and all.
        let spaced = Console::new(&app);
        assert_eq!(
            spaced
                .login("rev@kyb.example", "a brand new password")
                .await,
            401
        );
        assert_eq!(
            spaced
                .login("rev@kyb.example", " a brand new password ")
                .await,
            303
        );

        // Only admins manage operators.
        assert_eq!(reviewer.get("/console/operators").await.0, 403);
        let rcsrf = reviewer.csrf("/console").await;
        let (status, _, _) = reviewer
            .post(
                &format!("/console/operators/{rev_id}/reset"),
                &[("csrf", rcsrf.as_str())],
            )
            .await;
        assert_eq!(status, 403);

        // An admin makes a reset link, shown once.
        let make = || async {
            let csrf = admin.csrf("/console/operators").await;
            let (status, _, page) = admin
                .post(
                    &format!("/console/operators/{rev_id}/reset"),
                    &[("csrf", csrf.as_str())],
                )
                .await;
            assert_eq!(status, 200, "{page}");
            let at = page.find("/console/reset/").expect("the link, once");
            let token = &page[at + 15..];
            token[..token.find('<').unwrap()].to_owned()
        };
        let first = make().await;
        let second = make().await;
        let stranger = Console::new(&app);
        let (status, page) = stranger.get(&format!("/console/reset/{first}")).await;
        assert_eq!(status, 404, "a newer link ends the older one");
        assert!(page.contains("This link cannot be used"));
        let (status, page) = stranger.get(&format!("/console/reset/{second}")).await;
        assert_eq!(status, 200);
        assert!(page.contains("Set a new password") && page.contains("rev@kyb.example"));
        let set = |token: String, new: &'static str| {
            let stranger = &stranger;
            async move {
                stranger
                    .post(
                        &format!("/console/reset/{token}"),
                        &[("new_password", new), ("new_password_again", new)],
                    )
                    .await
            }
        };
        let (status, _, _) = set(second.clone(), "short").await;
        assert_eq!(status, 422);
        let (status, location, _) = set(second.clone(), "set by the reset link").await;
        assert_eq!(status, 303);
        assert_eq!(location.as_deref(), Some("/console/login?reset=done"));
        assert_eq!(reviewer.get("/console").await.0, 303, "every session ends");
        let (status, _, _) = set(second.clone(), "once more from the link").await;
        assert_eq!(status, 404, "used once");
        let fresh = Console::new(&app);
        assert_eq!(
            fresh
                .login("rev@kyb.example", " a brand new password ")
                .await,
            401,
            "the password before the reset"
        );
        assert_eq!(
            fresh
                .login("rev@kyb.example", "set by the reset link")
                .await,
            303
        );

        // Not for an admin's account (one admin could take over another's, and be both of
        // the two a sanctions case needs), and not by an admin limited to some platforms.
        let other_admin = app
            .dump("SELECT id FROM operators WHERE email = 'admin@kyb.example'")
            .await
            .remove(0);
        let csrf = admin.csrf("/console/operators").await;
        let (status, _, page) = admin
            .post(
                &format!("/console/operators/{other_admin}/reset"),
                &[("csrf", csrf.as_str())],
            )
            .await;
        assert_eq!(status, 403);
        assert!(page.contains("command line"), "{page}");
        let hash = kyb_server::console::password::hash(PASSWORD).unwrap();
        app.state
            .store
            .create_operator(
                "scoped-admin@kyb.example",
                OperatorRole::Admin,
                &hash,
                std::slice::from_ref(&app.platform),
                &AuditContext::operator_cli(app.clock.now()),
            )
            .await
            .unwrap();
        let scoped_admin = Console::new(&app);
        assert_eq!(
            scoped_admin
                .login("scoped-admin@kyb.example", PASSWORD)
                .await,
            303
        );
        assert_eq!(scoped_admin.get("/console/operators").await.0, 403);
        let (_, queue) = scoped_admin.get("/console").await;
        assert!(!queue.contains("/console/operators"));
        let scsrf = scoped_admin.csrf("/console").await;
        let (status, _, _) = scoped_admin
            .post(
                &format!("/console/operators/{rev_id}/reset"),
                &[("csrf", scsrf.as_str())],
            )
            .await;
        assert_eq!(status, 403);

        // A link expires after a day.
        let third = make().await;
        app.clock.advance(chrono::Duration::hours(25));
        assert_eq!(
            stranger.get(&format!("/console/reset/{third}")).await.0,
            404
        );
        assert_eq!(
            app.dump("SELECT COUNT(*) || '' FROM operator_resets WHERE id_hash LIKE '%' AND length(id_hash) = 64")
                .await,
            ["3"],
            "only hashes are kept"
        );

        assert_eq!(admin.login("admin@kyb.example", PASSWORD).await, 303);
        let cli = AuditContext::operator_cli(app.clock.now());
        // Disabling the account ends its links: enabled again, a link made before stays dead.
        let fifth = make().await;
        for disabled in [true, false] {
            app.state
                .store
                .set_operator_disabled("rev@kyb.example", disabled, &cli)
                .await
                .unwrap();
        }
        assert_eq!(
            stranger.get(&format!("/console/reset/{fifth}")).await.0,
            404
        );
        // A new password set otherwise (here on the command line) ends the links too.
        let sixth = make().await;
        let other = kyb_server::console::password::hash("set on the command line").unwrap();
        app.state
            .store
            .set_operator_password(&rev_id, &other, None, &cli)
            .await
            .unwrap();
        assert_eq!(
            stranger.get(&format!("/console/reset/{sixth}")).await.0,
            404
        );

        // A link made for a reviewer ends when the reviewer becomes an admin.
        let fourth = make().await;
        app.state
            .store
            .set_operator_role(
                "rev@kyb.example",
                OperatorRole::Admin,
                &AuditContext::operator_cli(app.clock.now()),
            )
            .await
            .unwrap();
        assert_eq!(
            stranger.get(&format!("/console/reset/{fourth}")).await.0,
            404
        );

        // Each change is a row of the installation's audit chain, naming who made it (the
        // command line, the admin, or the account itself) and never holding a link.
        let (rows, _) = app
            .state
            .store
            .audit_chain(&kyb_store::audit::AuditChain::Installation)
            .await
            .unwrap();
        let about_rev: Vec<(&str, &str)> = rows
            .iter()
            .filter(|r| r.target_id == rev_id)
            .map(|r| (r.action.as_str(), r.actor_id.as_deref().unwrap()))
            .collect();
        let (rev, adm) = (rev_id.as_str(), other_admin.as_str());
        assert_eq!(
            about_rev,
            [
                ("operator.created", "cli"),
                ("operator.password_changed", rev),
                ("operator.reset_link_created", adm),
                ("operator.reset_link_created", adm),
                ("operator.password_reset", rev),
                ("operator.reset_link_created", adm),
                ("operator.reset_link_created", adm),
                ("operator.disabled", "cli"),
                ("operator.enabled", "cli"),
                ("operator.reset_link_created", adm),
                ("operator.password_changed", "cli"),
                ("operator.reset_link_created", adm),
                ("operator.role_changed", "cli"),
            ]
        );
        assert!(rows
            .iter()
            .filter(|r| r.actor_id.as_deref() != Some("cli"))
            .all(|r| r.client_addr.is_some() && r.request_id.is_some()));
        let text = serde_json::to_string(&rows).unwrap();
        for token in [&first, &second, &third, &fourth, &fifth, &sixth] {
            assert!(!text.contains(token.as_str()));
        }
        // The installation's log is sealed like a platform's, and verifies.
        let installation = kyb_store::audit::AuditChain::Installation;
        let logs = &app.state.audit_logs;
        let checkpoint = logs
            .seal(&app.state.store, &app.clock, &installation)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(checkpoint.tree_size, rows.len() as u64);
        let report = app
            .state
            .store
            .verify_audit_log(&installation, &|o, n| logs.open(o, n))
            .await
            .unwrap()
            .unwrap();
        assert_eq!((report.rows, report.pending), (rows.len() as i64, 0));
    }
);

db_test!(check_evidence_reads_as_sentences, |app| async move {
    // The same files on two cases: the second's documents check names each document once,
    // with the other case linked, however many of its files match.
    let first = submitted_case(&app, "Acme Corp", "5551234", "Ada Obi", "same").await;
    let second = submitted_case(&app, "Beta Corp", "5551235", "Ben Cole", "same").await;
    assert_eq!(app.run_checks().await, 2);
    let documents = app
        .dump(&format!(
            "SELECT COUNT(*) || '' FROM documents WHERE customer_id = '{second}'"
        ))
        .await
        .remove(0);
    let duplicates = app
        .dump(&format!(
            "SELECT CAST(evidence AS TEXT) FROM check_results WHERE customer_id = '{second}' AND kind = 'documents'"
        ))
        .await
        .remove(0);
    let duplicates: Value = serde_json::from_str(&duplicates).unwrap();
    assert_eq!(
        duplicates["duplicates"]
            .as_array()
            .unwrap()
            .len()
            .to_string(),
        documents,
        "one entry per document and other case: {duplicates}"
    );
    let rev = app
        .operator("rev@kyb.example", OperatorRole::Reviewer)
        .await;
    let (_, page) = rev.get(&format!("/console/cases/{second}")).await;
    let line = "Certificate of incorporation: the same file is in 1 other case of this platform.";
    assert_eq!(page.matches(line).count(), 1, "{page}");
    assert!(page.contains(&format!("<a href=\"/console/cases/{first}\">{first}</a>")));
    assert!(page.contains("no sanctions list is imported"), "{page}");
    // The raw evidence only behind a disclosure.
    let open = page
        .find("<details><summary>Details<span class=\"visually-hidden\"> of the documents check")
        .expect("the raw evidence");
    let close = open + page[open..].find("</details>").unwrap();
    assert!(page[open..close].contains("other_customer_id"));
    assert_eq!(
        page.matches("other_customer_id").count(),
        documents.parse::<usize>().unwrap()
    );
});

db_test!(
    items_asked_for_again_are_shown_where_they_are_changed_and_must_be_changed_or_confirmed,
    |app| async move {
        use crate::hosted::{with_csrf, Browser, BUSINESS, PDF};
        let id = app.case_in_review("Acme Corp", "Ada Obi", "asked").await;
        let reviewer = app
            .operator("rev@kyb.example", OperatorRole::Reviewer)
            .await;
        reviewer
            .decide(
                &id,
                "request-info",
                &[
                    ("items", "business_details.legal_name"),
                    ("items", "people"),
                    ("items", "documents.proof_of_address"),
                    (
                        "message",
                        "Please check the name and send a newer proof of address.",
                    ),
                ],
            )
            .await;
        let link = app.customer_json(&id).await["kyb_link"]
            .as_str()
            .unwrap()
            .to_owned();
        let b = Browser::new(&app);
        let csrf = b.start(&link).await;

        // Each step shows what concerns it, marked; the review shows all.
        let (_, business) = b.get("/kyb/flow/business").await;
        assert!(business.contains("Business details: Legal name: <strong>not changed yet"));
        assert!(
            business.contains("Asked for again</strong>"),
            "the field is marked"
        );
        assert!(
            !business.contains("Document: Proof of business address"),
            "{business}"
        );
        let (_, people) = b.get("/kyb/flow/people").await;
        assert!(people
            .contains("People: directors, control persons and owners: <strong>not changed yet"));
        let (_, documents) = b.get("/kyb/flow/documents").await;
        assert!(documents.contains("Document: Proof of business address: <strong>not changed yet"));
        let (_, review) = b.get("/kyb/flow/review").await;
        assert_eq!(review.matches("not changed yet").count(), 3, "{review}");

        // Submitting with nothing changed or confirmed is refused.
        let submit = [
            ("csrf", csrf.as_str()),
            ("attest", "yes"),
            ("attested_by", "Ada Obi"),
        ];
        let (status, html, _) = b.post("/kyb/flow/submit", &submit).await;
        assert_eq!(status, 422);
        assert!(html.contains("Change each item asked for again"), "{html}");

        // The name is changed, the people confirmed as they are.
        let mut changed = BUSINESS.to_vec();
        changed[0] = ("legal_name", "Acme Corporation");
        assert_eq!(
            b.post("/kyb/flow/business", &with_csrf(&csrf, &changed))
                .await
                .0,
            303
        );
        let (_, business) = b.get("/kyb/flow/business").await;
        assert!(
            business.contains("Legal name: <strong>changed</strong>"),
            "{business}"
        );
        assert!(!business.contains("Asked for again</strong>"));
        let confirm = [
            ("csrf", csrf.as_str()),
            ("item", "people"),
            ("step", "people"),
        ];
        let (status, _, location) = b.post("/kyb/flow/confirm", &confirm).await;
        assert_eq!(
            (status, location.as_deref()),
            (303, Some("/kyb/flow/people#asked"))
        );
        let (_, people) = b.get("/kyb/flow/people").await;
        assert!(people.contains("<strong>confirmed as still correct</strong>"));
        let forged = [
            ("csrf", "nope"),
            ("item", "documents.proof_of_address"),
            ("step", "documents"),
        ];
        assert_eq!(b.post("/kyb/flow/confirm", &forged).await.0, 403);
        // Confirming again, or confirming what was not asked for, writes nothing (one audit
        // row at the end) and changes nothing.
        for (item, step) in [
            ("people", "people"),
            ("business_details.tax_id", "business"),
        ] {
            let again = [("csrf", csrf.as_str()), ("item", item), ("step", step)];
            assert_eq!(b.post("/kyb/flow/confirm", &again).await.0, 303);
        }
        // Only a step of the flow is a way back; anything else goes to the review.
        let elsewhere = [
            ("csrf", csrf.as_str()),
            ("item", "people"),
            ("step", "//evil.example"),
        ];
        let (status, _, location) = b.post("/kyb/flow/confirm", &elsewhere).await;
        assert_eq!(
            (status, location.as_deref()),
            (303, Some("/kyb/flow/review#asked"))
        );

        let (_, case) = reviewer.get(&format!("/console/cases/{id}")).await;
        assert!(
            case.contains(
                "Confirmed as still correct: People: directors, control persons and owners"
            ),
            "the timeline says what the customer confirmed"
        );

        // The platform sees only what is still open as due.
        let due = app.customer_json(&id).await["requirements"]["currently_due"].clone();
        assert_eq!(
            due,
            serde_json::json!(["documents.proof_of_address"]),
            "{due}"
        );
        let (status, _, _) = b.post("/kyb/flow/submit", &submit).await;
        assert_eq!(status, 422, "the proof of address is still open");

        // A newer proof of address: everything asked is answered, and it goes in.
        let mut newer = PDF.to_vec();
        newer.extend_from_slice(b"% newer proof\n");
        assert_eq!(
            b.upload(&csrf, "proof_of_address", "newer.pdf", newer)
                .await
                .0,
            303
        );
        let (_, documents) = b.get("/kyb/flow/documents").await;
        assert!(documents.contains("Proof of business address: <strong>changed</strong>"));
        let (status, html, _) = b.post("/kyb/flow/submit", &submit).await;
        assert_eq!(status, 200, "{html}");
        assert_eq!(
            app.customer_json(&id).await["verification_status"],
            "in_review"
        );
        assert_eq!(
            app.dump(&format!(
                "SELECT action FROM audit_log WHERE target_id = '{id}' AND action = 'info_request.item_confirmed'"
            ))
            .await,
            ["info_request.item_confirmed"]
        );
    }
);
