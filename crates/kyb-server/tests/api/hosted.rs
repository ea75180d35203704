//! The hosted flow over HTTP, as a browser without JavaScript uses it: real cookies, real forms,
//! real multipart uploads.

use crate::helpers::*;
use crate::{db_test, db_test_with};
use chrono::Duration;
use serde_json::Value;

/// A minimal, valid one-page PDF.
pub const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\nxref\n0 4\n0000000000 65535 f \n0000000009 00000 n \n0000000052 00000 n \n0000000101 00000 n \ntrailer<</Size 4/Root 1 0 R>>\nstartxref\n164\n%%EOF\n";

/// A browser: its own cookie jar, no automatic redirects.
pub(crate) struct Browser {
    client: reqwest::Client,
    base: String,
}

impl Browser {
    pub(crate) fn new(app: &TestApp) -> Self {
        Self::speaking(app, None)
    }

    /// A browser whose `Accept-Language` is `languages` (none when `None`).
    pub(crate) fn speaking(app: &TestApp, languages: Option<&str>) -> Self {
        let mut headers = reqwest::header::HeaderMap::new();
        if let Some(l) = languages {
            headers.insert("accept-language", l.parse().unwrap());
        }
        Self {
            client: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .default_headers(headers)
                .build()
                .unwrap(),
            base: app.address.clone(),
        }
    }

    pub(crate) async fn get(&self, path: &str) -> (u16, String) {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    pub(crate) async fn post(
        &self,
        path: &str,
        form: &[(&str, &str)],
    ) -> (u16, String, Option<String>) {
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .form(form)
            .send()
            .await
            .unwrap();
        let location = location_of(&r);
        (r.status().as_u16(), r.text().await.unwrap(), location)
    }

    pub(crate) async fn upload(
        &self,
        csrf: &str,
        kind: &str,
        name: &str,
        bytes: Vec<u8>,
    ) -> (u16, String) {
        let form = reqwest::multipart::Form::new()
            .text("csrf", csrf.to_owned())
            .text("kind", kind.to_owned())
            .part(
                "file",
                reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()),
            );
        let r = self
            .client
            .post(format!("{}/kyb/flow/documents", self.base))
            .multipart(form)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    /// A GET's status and where it redirects to, if anywhere.
    async fn goes_to(&self, path: &str) -> (u16, Option<String>) {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        let location = location_of(&r);
        (r.status().as_u16(), location)
    }

    /// Opens a link and presses Start; returns the CSRF token of the session.
    pub(crate) async fn start(&self, link: &str) -> String {
        let path = link
            .strip_prefix("https://kyb.test")
            .or_else(|| link.strip_prefix(&self.base))
            .unwrap();
        let (status, html) = self.get(path).await;
        assert_eq!(status, 200, "{html}");
        let (status, _, location) = self
            .post(&format!("{path}/start"), &[("csrf", &csrf_of(&html))])
            .await;
        assert_eq!(status, 303);
        assert_eq!(location.as_deref(), Some("/kyb/flow/business"));
        let (status, html) = self.get("/kyb/flow/business").await;
        assert_eq!(status, 200);
        csrf_of(&html)
    }
}

async fn new_link(app: &TestApp) -> (String, String) {
    let r = app.create(&body_with_email(&unique_email())).await;
    let v: Value = r.json().await.unwrap();
    (
        v["customer_id"].as_str().unwrap().to_owned(),
        v["kyb_link"].as_str().unwrap().to_owned(),
    )
}

async fn customer(app: &TestApp, id: &str) -> Value {
    app.get(&format!("/v2/business_customer/{id}"))
        .await
        .json()
        .await
        .unwrap()
}

/// The four steps' pages.
const FLOW_PAGES: [&str; 4] = [
    "/kyb/flow/business",
    "/kyb/flow/people",
    "/kyb/flow/documents",
    "/kyb/flow/review",
];

pub(crate) const BUSINESS: [(&str, &str); 8] = [
    ("legal_name", "Acme Corp Solutions Ltd"),
    ("entity_type", "llc"),
    ("registration_number", "5551234"),
    ("date_of_incorporation", "2019-03-01"),
    ("tax_id", "12-3456789"),
    ("website", "https://acme.example"),
    ("business_description", "Payments software for small shops"),
    (
        "operating_address",
        "123 Business Street, New York, NY 10001",
    ),
];

pub(crate) fn with_csrf<'a>(
    csrf: &'a str,
    fields: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    let mut all = vec![("csrf", csrf)];
    all.extend_from_slice(fields);
    all
}

db_test!(
    the_start_page_consumes_nothing_and_is_locked_down,
    |app| async move {
        let (id, link) = new_link(&app).await;
        let path = link.strip_prefix("https://kyb.test").unwrap();
        for _ in 0..2 {
            let r = app.client.get(app.url(path)).send().await.unwrap();
            assert_eq!(r.status(), 200);
            let h = r.headers();
            let csp = h["content-security-policy"].to_str().unwrap();
            assert!(
                csp.contains("default-src 'none'")
                    && csp.contains("frame-ancestors 'none'")
                    && !csp.contains("unsafe-inline")
            );
            assert_eq!(h["x-frame-options"], "DENY");
            assert_eq!(h["referrer-policy"], "no-referrer");
            assert_eq!(h["cache-control"], "no-store");
            let html = r.text().await.unwrap();
            assert!(html.contains("Acme Platform"), "the platform's name");
            assert!(html.contains("Certificate of incorporation".to_lowercase().as_str()));
            assert!(!html.contains("<script"), "no JavaScript");
        }
        let v = customer(&app, &id).await;
        assert_eq!(
            v["kyb_link"].as_str(),
            Some(link.as_str()),
            "a prefetch does not burn the link"
        );
        assert_eq!(v["progress"], "not_started");
        assert!(app
            .state
            .store
            .list_events(&app.scope())
            .await
            .unwrap()
            .iter()
            .all(|e| e.event_type != "business_customer.kyb_link.opened"));
    }
);

db_test!(
    start_consumes_the_link_and_opens_a_session,
    |app| async move {
        let (id, link) = new_link(&app).await;
        let path = link.strip_prefix("https://kyb.test").unwrap().to_owned();
        // Without the start page's token nothing happens.
        let outsider = Browser::new(&app);
        let (status, html, _) = outsider
            .post(&format!("{path}/start"), &[("csrf", "forged")])
            .await;
        assert_eq!(status, 403, "{html}");
        assert_eq!(customer(&app, &id).await["progress"], "not_started");

        let browser = Browser::new(&app);
        let r = browser.client.get(app.url(&path)).send().await.unwrap();
        let html = r.text().await.unwrap();
        let r = browser
            .client
            .post(app.url(&format!("{path}/start")))
            .form(&[("csrf", csrf_of(&html))])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let cookies: Vec<&str> = r
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap())
            .collect();
        let session = cookies
            .iter()
            .find(|c| c.starts_with("kyb_session="))
            .expect("a session cookie");
        assert!(
            session.contains("HttpOnly")
                && session.contains("SameSite=Lax")
                && session.contains("Secure"),
            "{session}"
        );

        let v = customer(&app, &id).await;
        assert_eq!(v["kyb_link"], Value::Null, "the link is used");
        assert_eq!(v["progress"], "in_progress");
        let events = app.state.store.list_events(&app.scope()).await.unwrap();
        assert_eq!(
            events.last().unwrap().event_type,
            "business_customer.kyb_link.opened"
        );
        let audit = app.state.store.list_audit(&app.platform).await.unwrap();
        let opened = audit
            .iter()
            .find(|a| a.action == "kyb_link.opened")
            .unwrap();
        assert_eq!(opened.actor_type, "customer_session");

        // The same link in another browser: it says where to go on.
        let (status, html) = Browser::new(&app).get(&path).await;
        assert_eq!(status, 410);
        assert!(
            html.contains("This link was opened already")
                && html.contains("Go on in the browser where you opened it first")
                && html.contains("ask Acme Platform to send you a new link"),
            "{html}"
        );
    }
);

db_test_with!(
    documents_and_people_per_customer_are_capped,
    |mut c: kyb_server::Config| {
        c.max_documents_per_customer = 2;
        c.max_document_bytes_per_customer = 4 * PDF.len() as u64;
        c.max_people_per_customer = 1;
        c
    },
    |app| async move {
        let (id, link) = new_link(&app).await;
        let b = Browser::new(&app);
        let csrf = b.start(&link).await;
        // Two documents, then the count is reached.
        for kind in ["certificate_of_incorporation", "proof_of_address"] {
            let (status, html) = b.upload(&csrf, kind, "doc.pdf", PDF.to_vec()).await;
            assert_eq!(status, 303, "{html}");
        }
        let (status, html) = b
            .upload(&csrf, "ownership_structure", "doc.pdf", PDF.to_vec())
            .await;
        assert_eq!(status, 422);
        assert!(html.contains("at most 2 documents"), "{html}");
        // Total size: after a delete the count fits, but a file of 3 PDFs' size does not.
        let doc_id = app
            .dump(&format!(
                "SELECT id FROM documents WHERE customer_id = '{id}' ORDER BY id"
            ))
            .await
            .remove(0);
        let (status, _, _) = b
            .post(
                &format!("/kyb/flow/documents/{doc_id}/delete"),
                &[("csrf", &csrf), ("confirm", "yes")],
            )
            .await;
        assert_eq!(status, 303);
        let mut big = PDF.to_vec();
        big.extend(std::iter::repeat_n(b' ', 2 * PDF.len() + 1));
        let (status, html) = b.upload(&csrf, "ownership_structure", "big.pdf", big).await;
        assert_eq!(status, 422);
        assert!(html.contains("MB in all"), "{html}");
        let kept = app
            .dump(&format!(
                "SELECT id FROM documents WHERE customer_id = '{id}' AND deleted_at IS NULL"
            ))
            .await;
        assert_eq!(kept.len(), 1, "refused uploads leave no row");

        // One person, then the cap.
        let person = |name: &'static str| {
            [
                ("full_name", name),
                ("date_of_birth", "1980-04-23"),
                ("nationality", "NGA"),
                ("role", "director"),
                ("is_control_person", "yes"),
                ("ownership", "10"),
            ]
        };
        assert_eq!(
            b.post("/kyb/flow/people", &with_csrf(&csrf, &person("Ada Obi")))
                .await
                .0,
            303
        );
        let (status, html, _) = b
            .post("/kyb/flow/people", &with_csrf(&csrf, &person("Ben Cole")))
            .await;
        assert_eq!(status, 422, "{html}");
        assert!(html.contains("at most 1 people"), "{html}");
    }
);

db_test!(
    a_new_link_or_a_deactivated_platform_ends_sessions,
    |app| async move {
        // A session started from the first link ends when a new link is issued.
        let (id, link) = new_link(&app).await;
        let b = Browser::new(&app);
        b.start(&link).await;
        assert_eq!(b.get("/kyb/flow/business").await.0, 200);
        let r = app.issue_link_as(&app.key, &id).await;
        assert_eq!(r.status(), 200);
        let second: Value = r.json().await.unwrap();
        let (status, _) = b.get("/kyb/flow/business").await;
        assert_ne!(status, 200, "the old session ended");
        b.start(second["kyb_link"].as_str().unwrap()).await;
        assert_eq!(b.get("/kyb/flow/business").await.0, 200);

        // Deactivating the platform ends the session and refuses its links.
        let (_, other_link) = new_link(&app).await;
        let ctx = kyb_store::AuditContext::operator_cli(app.clock.now());
        app.state
            .store
            .set_platform_active(&app.platform, false, &ctx)
            .await
            .unwrap();
        assert_ne!(b.get("/kyb/flow/business").await.0, 200);
        let path = other_link.strip_prefix("https://kyb.test").unwrap();
        let (status, html) = b.get(path).await;
        assert_eq!(status, 403);
        assert!(html.contains("not available"), "{html}");
        // Back on, the link works again (the ended session stays ended).
        app.state
            .store
            .set_platform_active(&app.platform, true, &ctx)
            .await
            .unwrap();
        assert_ne!(b.get("/kyb/flow/business").await.0, 200);
        assert_eq!(b.get(path).await.0, 200);
    }
);

db_test!(https_deployments_send_hsts, |app| async move {
    // The test app's public_url is https://kyb.test.
    for path in [
        "/v2/business_customer",
        "/kyb/static/app.css",
        "/console/login",
    ] {
        let r = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(
            r.headers()["strict-transport-security"],
            "max-age=31536000",
            "{path}"
        );
    }
    // Over plain http (public_url unset), no HSTS: a browser would pin an address it cannot use.
    let plain = spawn_for_browser(false).await.unwrap();
    let r = plain.client.get(plain.url("/livez")).send().await.unwrap();
    assert!(r.headers().get("strict-transport-security").is_none());
});

db_test!(expired_revoked_and_unknown_links_say_so, |app| async move {
    let (id, link) = new_link(&app).await;
    let old = link.strip_prefix("https://kyb.test").unwrap().to_owned();
    assert_eq!(app.issue_link_as(&app.key, &id).await.status(), 200);
    let b = Browser::new(&app);
    let (status, html) = b.get(&old).await;
    assert_eq!(status, 410);
    assert!(html.contains("replaced"), "{html}");

    let (_, link) = new_link(&app).await;
    app.clock.advance(Duration::days(8));
    let (status, html) = b.get(link.strip_prefix("https://kyb.test").unwrap()).await;
    assert_eq!(status, 410);
    assert!(html.contains("expired"), "{html}");

    let (status, html) = b.get("/kyb/not-a-real-token").await;
    assert_eq!(status, 404);
    assert!(html.contains("not valid"), "{html}");
    let r = app
        .client
        .get(app.url("/kyb/flow/nothing-here"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(r.headers()["referrer-policy"], "no-referrer");
    assert!(
        r.text().await.unwrap().contains("Page not found"),
        "an HTML page, not the API's JSON"
    );
    // Guessing is rate limited per address.
    let mut last = 0;
    for i in 0..25 {
        last = b.get(&format!("/kyb/guess-{i}")).await.0;
    }
    assert_eq!(last, 429);
});

db_test!(the_whole_flow_without_javascript, |app| async move {
    let (id, link) = new_link(&app).await;
    let b = Browser::new(&app);
    assert_eq!(
        b.get("/kyb/flow/business").await.0,
        401,
        "no session, no flow"
    );
    let csrf = b.start(&link).await;

    // Step 1: a bad EIN is named with its rule; what was typed stays; nothing is saved.
    let mut bad = BUSINESS.to_vec();
    bad[4] = ("tax_id", "1234567");
    let (status, html, _) = b.post("/kyb/flow/business", &with_csrf(&csrf, &bad)).await;
    assert_eq!(status, 422);
    assert!(
        html.contains("There is a problem") && html.contains("href=\"#tax_id\""),
        "error summary links to the field"
    );
    assert!(
        html.contains("EIN (Employer Identification Number) must be in the official format"),
        "{html}"
    );
    assert!(
        html.contains("value=\"1234567\"") && html.contains("value=\"5551234\""),
        "typed values kept"
    );
    let due = customer(&app, &id).await["requirements"]["currently_due"].clone();
    assert!(due
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d == "business_details.registration_number"));
    // A name with an invisible character is refused as a field error, naming the character.
    let mut hidden = BUSINESS.to_vec();
    hidden[0] = ("legal_name", "Acme\u{200B} Holdings");
    let (status, html, _) = b
        .post("/kyb/flow/business", &with_csrf(&csrf, &hidden))
        .await;
    assert_eq!(status, 422);
    assert!(
        html.contains("href=\"#legal_name\"") && html.contains("U+200B at character 5"),
        "{html}"
    );
    // A forged form saves nothing either.
    let (status, _, _) = b
        .post("/kyb/flow/business", &with_csrf("forged", &BUSINESS))
        .await;
    assert_eq!(status, 403);
    let (status, _, location) = b
        .post("/kyb/flow/business", &with_csrf(&csrf, &BUSINESS))
        .await;
    assert_eq!((status, location.as_deref()), (303, Some("/kyb/flow")));
    assert_eq!(
        b.goes_to("/kyb/flow").await,
        (303, Some("/kyb/flow/people".to_owned())),
        "on to the people on a first pass"
    );

    // Step 2: people.
    let (status, html, _) = b
        .post("/kyb/flow/people/continue", &[("csrf", &csrf)])
        .await;
    assert_eq!(status, 422);
    assert!(html.contains("at least one person who controls the business"));
    let hidden = [
        ("full_name", "Ada\u{202E} Obi"),
        ("date_of_birth", "1980-04-23"),
        ("nationality", "NGA"),
        ("role", "director"),
        ("is_control_person", "yes"),
        ("ownership", "60"),
    ];
    let (status, html, _) = b.post("/kyb/flow/people", &with_csrf(&csrf, &hidden)).await;
    assert_eq!(status, 422);
    assert!(html.contains("U+202E"), "{html}");
    let ada = [
        ("full_name", "Ada Obi"),
        ("date_of_birth", "1980-04-23"),
        ("nationality", "NGA"),
        ("role", "director"),
        ("is_control_person", "yes"),
        ("ownership", "60"),
    ];
    assert_eq!(
        b.post("/kyb/flow/people", &with_csrf(&csrf, &ada)).await.0,
        303
    );
    let ben = [
        ("full_name", "Ben Cole"),
        ("date_of_birth", "1975-01-01"),
        ("nationality", "USA"),
        ("role", "shareholder"),
        ("ownership", "50"),
    ];
    let (status, html, _) = b.post("/kyb/flow/people", &with_csrf(&csrf, &ben)).await;
    assert_eq!(status, 422);
    assert!(
        html.contains("Total ownership would be 110\u{a0}%"),
        "{html}"
    );
    assert!(html.contains("value=\"Ben Cole\""));
    let ben = [
        ("full_name", "Ben Cole"),
        ("date_of_birth", "1975-01-01"),
        ("nationality", "USA"),
        ("role", "shareholder"),
        ("ownership", "40"),
    ];
    assert_eq!(
        b.post("/kyb/flow/people", &with_csrf(&csrf, &ben)).await.0,
        303
    );
    let (_, html) = b.get("/kyb/flow/people").await;
    assert!(
        html.contains("Ada Obi")
            && html.contains("Ben Cole")
            && html.contains("total ownership 100")
    );
    let people = app
        .dump(&format!(
            "SELECT id FROM people WHERE customer_id = '{id}' ORDER BY full_name"
        ))
        .await;
    let ben_id = &people[1];
    let edited = [
        ("full_name", "Ben Cole"),
        ("date_of_birth", "1975-01-01"),
        ("nationality", "GBR"),
        ("role", "shareholder"),
        ("ownership", "25"),
    ];
    assert_eq!(
        b.post(
            &format!("/kyb/flow/people/{ben_id}"),
            &with_csrf(&csrf, &edited)
        )
        .await
        .0,
        303
    );
    assert_eq!(
        app.dump(&format!(
            "SELECT nationality FROM people WHERE id = '{ben_id}'"
        ))
        .await,
        ["GBR"]
    );
    // Remove asks first, on a page of its own; nothing is removed until it is confirmed.
    let (status, html, _) = b
        .post(
            &format!("/kyb/flow/people/{ben_id}/delete"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(status, 200);
    assert!(
        html.contains("Remove this person?") && html.contains("name=\"confirm\" value=\"yes\""),
        "{html}"
    );
    assert_eq!(
        b.post(
            &format!("/kyb/flow/people/{ben_id}/delete"),
            &[("csrf", &csrf), ("confirm", "yes")]
        )
        .await
        .0,
        303
    );
    assert_eq!(
        app.dump(&format!(
            "SELECT full_name FROM people WHERE customer_id = '{id}'"
        ))
        .await,
        ["Ada Obi"]
    );
    let (_, _, location) = b
        .post("/kyb/flow/people/continue", &[("csrf", &csrf)])
        .await;
    assert_eq!(location.as_deref(), Some("/kyb/flow"));
    assert_eq!(
        b.goes_to("/kyb/flow").await,
        (303, Some("/kyb/flow/documents".to_owned()))
    );

    // Step 3: documents, judged by content.
    let (status, html) = b
        .upload(
            &csrf,
            "certificate_of_incorporation",
            "certificate.pdf",
            b"just text, not a PDF".to_vec(),
        )
        .await;
    assert_eq!(status, 422);
    assert!(
        html.contains("must be a PDF, PNG or JPEG")
            && html.contains("of a type we cannot read, judged by what is inside it"),
        "{html}"
    );
    // A ZIP archive named .pdf is called a ZIP file, not by its media type.
    let zip = b"PK\x03\x04\x14\x00\x00\x00\x08\x00rest of an archive".to_vec();
    let (status, html) = b
        .upload(
            &csrf,
            "certificate_of_incorporation",
            "certificate.pdf",
            zip,
        )
        .await;
    assert_eq!(status, 422);
    assert!(html.contains("This one is a ZIP file"), "{html}");
    assert!(
        !html.contains("application/zip"),
        "no media types shown: {html}"
    );
    assert!(
        html.contains("<option value=\"certificate_of_incorporation\" selected>"),
        "the type chosen stays chosen after a refused upload: {html}"
    );
    for kind in [
        "certificate_of_incorporation",
        "proof_of_address",
        "ownership_structure",
    ] {
        let (status, html) = b
            .upload(&csrf, kind, &format!("{kind}.pdf"), PDF.to_vec())
            .await;
        assert_eq!(status, 303, "{html}");
    }
    let stored = app
        .dump(&format!(
            "SELECT sha256 || ' ' || storage_key FROM documents WHERE customer_id = '{id}'"
        ))
        .await;
    assert_eq!(stored.len(), 3);
    use sha2::Digest;
    let sha = hex::encode(sha2::Sha256::digest(PDF));
    assert!(
        stored
            .iter()
            .all(|s| s.starts_with(&sha) && !s.contains(".pdf")),
        "SHA-256 kept, server-made names: {stored:?}"
    );
    let doc_ids = app
        .dump(&format!(
            "SELECT id FROM documents WHERE customer_id = '{id}' ORDER BY kind"
        ))
        .await;
    let r = b
        .client
        .get(app.url(&format!("/kyb/flow/documents/{}", doc_ids[0])))
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
    assert_eq!(r.bytes().await.unwrap().as_ref(), PDF);
    assert_eq!(
        Browser::new(&app)
            .get(&format!("/kyb/flow/documents/{}", doc_ids[0]))
            .await
            .0,
        401,
        "never public"
    );

    // Delete one and put it back: the row is marked deleted and its bytes are gone.
    let key = app
        .dump(&format!(
            "SELECT storage_key FROM documents WHERE id = '{}'",
            doc_ids[0]
        ))
        .await
        .remove(0);
    let file = app.state.config.data_dir.join("documents").join(&key);
    assert!(
        file.exists(),
        "stored under the data directory: {}",
        file.display()
    );
    let (status, html, _) = b
        .post(
            &format!("/kyb/flow/documents/{}/delete", doc_ids[0]),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(status, 200);
    assert!(html.contains("Delete this document?"), "{html}");
    assert!(file.exists(), "nothing deleted before it is confirmed");
    let (status, _, _) = b
        .post(
            &format!("/kyb/flow/documents/{}/delete", doc_ids[0]),
            &[("csrf", &csrf), ("confirm", "yes")],
        )
        .await;
    assert_eq!(status, 303);
    assert!(!file.exists(), "the bytes are removed");
    assert_eq!(
        b.get(&format!("/kyb/flow/documents/{}", doc_ids[0]))
            .await
            .0,
        404
    );
    let due = customer(&app, &id).await["requirements"]["currently_due"].clone();
    assert_eq!(
        due,
        serde_json::json!(["documents.certificate_of_incorporation"])
    );
    let (status, _) = b
        .upload(
            &csrf,
            "certificate_of_incorporation",
            "again.pdf",
            PDF.to_vec(),
        )
        .await;
    assert_eq!(status, 303);

    // Step 4: review and submit. A change made from the review comes back to it.
    let (status, _, location) = b
        .post("/kyb/flow/business", &with_csrf(&csrf, &BUSINESS))
        .await;
    assert_eq!((status, location.as_deref()), (303, Some("/kyb/flow")));
    assert_eq!(
        b.goes_to("/kyb/flow").await,
        (303, Some("/kyb/flow/review".to_owned()))
    );
    let (status, html, _) = b
        .post("/kyb/flow/submit", &[("csrf", &csrf), ("attested_by", "")])
        .await;
    assert_eq!(status, 422);
    assert!(
        html.contains("Confirm that the information is true")
            && html.contains("Enter your full name")
    );
    let (status, html, _) = b
        .post(
            "/kyb/flow/submit",
            &[
                ("csrf", &csrf),
                ("attest", "yes"),
                ("attested_by", "Ada Obi"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("submitted"));

    let v = customer(&app, &id).await;
    assert_eq!(v["verification_status"], "in_review");
    assert_eq!(v["progress"], "submitted");
    assert_eq!(v["requirements"]["currently_due"], serde_json::json!([]));
    let events = app.state.store.list_events(&app.scope()).await.unwrap();
    let updated = events
        .iter()
        .find(|e| e.event_type == "business_customer.verification_status.updated")
        .unwrap();
    assert_eq!(
        updated.payload["data"]["previous_attributes"]["verification_status"],
        "pending"
    );
    assert_eq!(
        updated.payload["data"]["object"]["verification_status"],
        "in_review"
    );
    assert!(events
        .iter()
        .any(|e| e.event_type == "business_customer.submitted"));
    // The session ends with the submission: its pages now only say that it was submitted.
    let (status, html) = b.get("/kyb/flow/review").await;
    assert_eq!(status, 200);
    assert!(html.contains("your business verification is submitted"));
    assert!(!html.contains("csrf"), "no form of the flow");
    assert_error(app.issue_link_as(&app.key, &id).await, 409, "invalid_state").await;
});

db_test!(a_new_link_resumes_saved_progress, |app| async move {
    let (id, link) = new_link(&app).await;
    let b = Browser::new(&app);
    let csrf = b.start(&link).await;
    assert_eq!(
        b.post("/kyb/flow/business", &with_csrf(&csrf, &BUSINESS))
            .await
            .0,
        303
    );
    // The customer leaves; the platform sends a new link; the old session ends with it.
    let r: Value = app.issue_link_as(&app.key, &id).await.json().await.unwrap();
    let b2 = Browser::new(&app);
    b2.start(r["kyb_link"].as_str().unwrap()).await;
    let (_, html) = b2.get("/kyb/flow/business").await;
    assert!(
        html.contains("value=\"12-3456789\""),
        "saved details are back"
    );
    assert_eq!(
        b.get("/kyb/flow/business").await.0,
        401,
        "the older session ended"
    );
});

db_test!(sessions_end_after_idle_time, |app| async move {
    let (_, link) = new_link(&app).await;
    let b = Browser::new(&app);
    b.start(&link).await;
    // Every page says when the session ends, idle and at the latest, before it does.
    let idle_end = (app.clock.now() + Duration::minutes(30)).format("%H:%M UTC");
    for page in FLOW_PAGES {
        let (_, html) = b.get(page).await;
        assert!(
            html.contains(&format!(
                "this session ends at {idle_end} if you leave it idle"
            )),
            "{page}: {html}"
        );
    }
    app.clock.advance(Duration::minutes(29));
    assert_eq!(b.get("/kyb/flow/business").await.0, 200);
    app.clock.advance(Duration::minutes(31));
    let (status, html) = b.get("/kyb/flow/business").await;
    assert_eq!(status, 401);
    assert!(html.contains("Your session has ended"));
});

db_test!(
    sessions_end_after_their_absolute_lifetime,
    |app| async move {
        let (_, link) = new_link(&app).await;
        let b = Browser::new(&app);
        b.start(&link).await;
        // Active every 25 minutes, yet over after 8 hours.
        for _ in 0..19 {
            app.clock.advance(Duration::minutes(25));
            assert_eq!(b.get("/kyb/flow/business").await.0, 200);
        }
        app.clock.advance(Duration::minutes(25));
        assert_eq!(b.get("/kyb/flow/business").await.0, 401);
    }
);

db_test!(uploads_over_the_limit_are_refused, |app| async move {
    let (id, link) = new_link(&app).await;
    let b = Browser::new(&app);
    let csrf = b.start(&link).await;
    let mut big = PDF.to_vec();
    big.resize(10 * 1024 * 1024 + 1, b' ');
    let (status, html) = b.upload(&csrf, "proof_of_address", "big.pdf", big).await;
    assert_eq!(status, 422, "{}", &html[..html.len().min(300)]);
    assert!(html.contains("must be 10 MB or smaller"));
    assert!(app
        .dump(&format!(
            "SELECT id FROM documents WHERE customer_id = '{id}'"
        ))
        .await
        .is_empty());
});

db_test!(
    the_store_refuses_an_incomplete_submission,
    |app| async move {
        let (id, link) = new_link(&app).await;
        Browser::new(&app).start(&link).await;
        let hash = app.dump("SELECT id_hash FROM kyb_sessions").await.remove(0);
        let session = app
            .state
            .store
            .find_session(&hash, app.clock.now(), Duration::minutes(30))
            .await
            .unwrap()
            .expect("the session just started");
        let ctx = kyb_store::AuditContext::operator_cli(app.clock.now());
        let catalog = app.state.catalog.clone();
        let result = app
            .state
            .store
            .submit(
                &session,
                "Ada Obi",
                &ctx,
                |c| {
                    kyb_domain::kyb::currently_due(
                        catalog.for_country(&c.registered_country),
                        &c.facts.profile,
                        &c.facts.people,
                        c.facts.document_kinds.iter().map(String::as_str),
                    )
                },
                |_, _| Vec::new(),
            )
            .await;
        match result {
            Err(kyb_store::StoreError::Incomplete(due)) => {
                assert!(due.contains(&"people.control_person".to_owned()))
            }
            other => panic!("expected Incomplete, got {other:?}"),
        }
        assert_eq!(
            customer(&app, &id).await["verification_status"],
            "pending",
            "nothing changed"
        );
    }
);

/// Creates a customer and opens its link as the customer would; returns the customer id.
pub async fn customer_who_opened_the_link(app: &TestApp) -> String {
    let (id, link) = new_link(app).await;
    Browser::new(app).start(&link).await;
    id
}

/// A case taken through the whole hosted flow and submitted: the business `name` (also its legal
/// name) with `registration_number`, one controlling person, and the three documents (`tag`
/// makes their bytes unique to this case; the same tag makes the same bytes). Returns the
/// customer id.
pub async fn submitted_case(
    app: &TestApp,
    name: &str,
    registration_number: &str,
    person: &str,
    tag: &str,
) -> String {
    submitted_in_browser(app, name, registration_number, person, tag)
        .await
        .0
}

/// `submitted_case`, also giving the browser that submitted and the link it opened.
async fn submitted_in_browser(
    app: &TestApp,
    name: &str,
    registration_number: &str,
    person: &str,
    tag: &str,
) -> (String, Browser, String) {
    let mut body = body_with_email(&unique_email());
    body["business_name"] = Value::String(name.to_owned());
    let r = app.create(&body).await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    let id = v["customer_id"].as_str().unwrap().to_owned();
    let link = v["kyb_link"].as_str().unwrap().to_owned();
    let b = Browser::new(app);
    let csrf = b.start(&link).await;
    let mut business = BUSINESS.to_vec();
    business[0] = ("legal_name", name);
    business[2] = ("registration_number", registration_number);
    let (status, html, _) = b
        .post("/kyb/flow/business", &with_csrf(&csrf, &business))
        .await;
    assert_eq!(status, 303, "{html}");
    // Born on a date the list gives for Hasan Nasrallah, so that his hit is not a likely false
    // positive (a contradicting date of birth makes it one).
    let who = [
        ("full_name", person),
        ("date_of_birth", "1960-08-31"),
        ("nationality", "USA"),
        ("role", "director"),
        ("is_control_person", "yes"),
        ("ownership", "100"),
    ];
    assert_eq!(
        b.post("/kyb/flow/people", &with_csrf(&csrf, &who)).await.0,
        303
    );
    let mut pdf = PDF.to_vec();
    pdf.extend_from_slice(format!("% {tag}\n").as_bytes());
    for kind in [
        "certificate_of_incorporation",
        "proof_of_address",
        "ownership_structure",
    ] {
        let mut bytes = pdf.clone();
        bytes.extend_from_slice(kind.as_bytes());
        let (status, html) = b.upload(&csrf, kind, "doc.pdf", bytes).await;
        assert_eq!(status, 303, "{html}");
    }
    let (status, html, _) = b
        .post(
            "/kyb/flow/submit",
            &[("csrf", &csrf), ("attest", "yes"), ("attested_by", person)],
        )
        .await;
    assert_eq!(status, 200, "{html}");
    (id, b, link)
}

/// Opens a fresh link of a case sent back for more information, confirms each item asked for
/// again as still correct, and submits again without changes. Returns the first page the
/// customer sees.
pub async fn resubmit(app: &TestApp, link: &str, person: &str) -> String {
    let b = Browser::new(app);
    let csrf = b.start(link).await;
    let (status, first) = b.get("/kyb/flow/business").await;
    assert_eq!(status, 200);
    for item in asked_items(&b.get("/kyb/flow/review").await.1) {
        let form = [("csrf", csrf.as_str()), ("item", &item), ("step", "review")];
        assert_eq!(b.post("/kyb/flow/confirm", &form).await.0, 303);
    }
    let (status, html, _) = b
        .post(
            "/kyb/flow/submit",
            &[("csrf", &csrf), ("attest", "yes"), ("attested_by", person)],
        )
        .await;
    assert_eq!(status, 200, "{html}");
    first
}

db_test!(
    the_link_again_or_back_goes_on_in_the_browser_that_opened_it,
    |app| async move {
        let (_, link) = new_link(&app).await;
        let path = link.strip_prefix("https://kyb.test").unwrap().to_owned();
        let b = Browser::new(&app);
        let csrf = b.start(&link).await;
        // The e-mail's link opened again, or Back to the start page: the flow goes on where
        // it is (nothing saved yet: the business details).
        assert_eq!(b.goes_to(&path).await, (303, Some("/kyb/flow".to_owned())));
        assert_eq!(
            b.goes_to("/kyb/flow").await,
            (303, Some("/kyb/flow/business".to_owned()))
        );
        let (status, _, _) = b
            .post("/kyb/flow/business", &with_csrf(&csrf, &BUSINESS))
            .await;
        assert_eq!(status, 303);
        assert_eq!(
            b.goes_to("/kyb/flow").await,
            (303, Some("/kyb/flow/people".to_owned()))
        );
        // Start pressed again on the page from before (its form token is gone): the same.
        let (status, _, location) = b.post(&format!("{path}/start"), &[("csrf", "x")]).await;
        assert_eq!((status, location.as_deref()), (303, Some("/kyb/flow")));
        assert_eq!(
            Browser::new(&app)
                .post(&format!("{path}/start"), &[("csrf", "x")])
                .await
                .0,
            410,
            "another browser does not go on"
        );

        // After submitting, Back and the link say it was submitted, in that browser.
        let (id, b, link) =
            submitted_in_browser(&app, "Acme Corp", "5551234", "Ada Obi", "back").await;
        for page in ["/kyb/flow/review", "/kyb/flow/documents"] {
            let (status, html) = b.get(page).await;
            assert_eq!(status, 200, "{page}");
            assert!(
                html.contains("your business verification is submitted"),
                "{html}"
            );
        }
        let path = link.strip_prefix("https://kyb.test").unwrap();
        let (status, html) = b.get(path).await;
        assert_eq!(status, 200);
        assert!(
            html.contains("your business verification is submitted"),
            "{html}"
        );
        let (status, _, _) = b.post("/kyb/flow/submit", &[("csrf", "x")]).await;
        assert_eq!(status, 409, "nothing more is taken");
        assert_eq!(
            customer(&app, &id).await["verification_status"],
            "in_review"
        );
        // Another browser learns nothing of it.
        let (status, html) = Browser::new(&app).get(path).await;
        assert_eq!(status, 410);
        assert!(!html.contains("submitted"), "{html}");
    }
);

/// The items a page offers to confirm as still correct.
fn asked_items(html: &str) -> Vec<String> {
    html.split("name=\"item\" value=\"")
        .skip(1)
        .map(|rest| rest[..rest.find('"').unwrap()].to_owned())
        .collect()
}

db_test!(
    what_could_be_tidied_is_tidied_before_it_is_checked,
    |app| async move {
        let (id, link) = new_link(&app).await;
        let b = Browser::new(&app);
        let csrf = b.start(&link).await;
        // An EIN without its dash, a file number with spaces and lower case, a website without
        // https://: accepted, and saved tidied.
        let mut typed = BUSINESS.to_vec();
        for (field, value) in [
            ("tax_id", "123456789"),
            ("registration_number", " 555 12ab "),
            ("website", "acme.example"),
        ] {
            let at = typed.iter().position(|(f, _)| *f == field).unwrap();
            typed[at] = (field, value);
        }
        let (status, html, _) = b
            .post("/kyb/flow/business", &with_csrf(&csrf, &typed))
            .await;
        assert_eq!(status, 303, "{html}");
        let (_, page) = b.get("/kyb/flow/business").await;
        for saved in [
            "value=\"12-3456789\"",
            "value=\"55512AB\"",
            "value=\"https://acme.example\"",
        ] {
            assert!(page.contains(saved), "{saved}: {page}");
        }
        assert_eq!(
            customer(&app, &id).await["requirements"]["currently_due"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d.as_str().unwrap().starts_with("business_details."))
                .count(),
            0
        );
        // The legal forms are the jurisdiction's (a US business): no UK "sole trader".
        assert!(
            page.contains("value=\"s_corporation\"") && !page.contains("value=\"sole_trader\"")
        );
        let mut wrong = BUSINESS.to_vec();
        wrong[1] = ("entity_type", "sole_trader");
        let (status, html, _) = b
            .post("/kyb/flow/business", &with_csrf(&csrf, &wrong))
            .await;
        assert_eq!(status, 422);
        assert!(html.contains("Choose the type of entity from the list"));

        // Nationalities by the names people type: "United States" before the islands, and no
        // "The United States Of America" behind "United Republic of Tanzania".
        let (_, people) = b.get("/kyb/flow/people").await;
        let at = |name: &str| {
            people
                .find(&format!(">{name}</option>"))
                .unwrap_or_else(|| panic!("{name}"))
        };
        assert!(at("United Kingdom") < at("United States"));
        assert!(at("United States") < at("United States Minor Outlying Islands"));
        assert!(at("Tanzania") < at("United Kingdom"));
        assert!(!people.contains(">The "), "no name starts with The");
        assert!(!people.contains("United Republic"));
    }
);

db_test!(the_platforms_brand_is_on_every_page, |app| async move {
    let brand = kyb_domain::branding::Branding {
        display_name: Some("Acme Pay".into()),
        accent_color: Some("#1f3a5f".into()),
        support_email: Some("help@acme.example".into()),
        privacy_url: Some("https://acme.example/privacy".into()),
        terms_url: Some("https://acme.example/terms".into()),
        return_url: Some("https://acme.example/done".into()),
        ..Default::default()
    };
    app.state
        .store
        .change_platform_branding(
            &app.platform,
            kyb_store::BrandingUpdate::Values(brand),
            &kyb_store::AuditContext::operator_cli(app.clock.now()),
        )
        .await
        .unwrap();
    let png = include_bytes!("../../../../testdata/brand/logo.png");
    let branded = app
        .state
        .store
        .change_platform_branding(
            &app.platform,
            kyb_store::BrandingUpdate::Logo(Some(png)),
            &kyb_store::AuditContext::operator_cli(app.clock.now()),
        )
        .await
        .unwrap();
    let logo_sha = branded.logo_sha256.unwrap();
    let (_, b, link) = submitted_in_browser(&app, "Acme Corp", "5551234", "Ada Obi", "brand").await;
    let path = link.strip_prefix("https://kyb.test").unwrap();
    // The submitted page (the link again), with the way back to the platform.
    let (status, html) = b.get(path).await;
    assert_eq!(status, 200);
    for shown in [
        "alt=\"\">Acme Pay</p>",
        &format!("href=\"/kyb/brand/{}/style.css\"", app.platform),
        "href=\"mailto:help@acme.example\"",
        "href=\"https://acme.example/privacy\"",
        "href=\"https://acme.example/terms\"",
        "href=\"https://acme.example/done\">Back to Acme Pay</a>",
        &format!(
            "<img class=\"logo\" src=\"/kyb/brand/{}/logo?v={logo_sha}\" alt=\"\">",
            app.platform
        ),
    ] {
        assert!(html.contains(shown), "{shown}: {html}");
    }
    // A fresh customer's pages carry it too, from the start page on.
    let (_, fresh) = new_link(&app).await;
    let b = Browser::new(&app);
    let fresh_path = fresh.strip_prefix("https://kyb.test").unwrap();
    let (_, start) = b.get(fresh_path).await;
    assert!(
        start.contains("Verify your business for Acme Pay"),
        "{start}"
    );
    b.start(&fresh).await;
    for page in FLOW_PAGES {
        let (_, html) = b.get(page).await;
        assert!(
            html.contains("alt=\"\">Acme Pay</p>") && html.contains("Privacy notice"),
            "{page}"
        );
    }
    // The logo, from kyb: its own type, never sniffed, allowed to do nothing but be shown.
    let logo = app
        .client
        .get(app.url(&format!("/kyb/brand/{}/logo", app.platform)))
        .send()
        .await
        .unwrap();
    assert_eq!(logo.status(), 200);
    assert_eq!(logo.headers()["content-type"], "image/png");
    assert_eq!(
        logo.headers()["content-security-policy"],
        "default-src 'none'; sandbox"
    );
    assert_eq!(logo.headers()["x-content-type-options"], "nosniff");
    assert_eq!(logo.bytes().await.unwrap().as_ref(), png);
    let none = app
        .client
        .get(app.url("/kyb/brand/plat_doesnotexist00000000000/logo"))
        .send()
        .await
        .unwrap();
    assert_eq!(none.status(), 404);
    // The colour's stylesheet, from kyb; a platform without a colour gets an empty one.
    let css = app
        .client
        .get(app.url(&format!("/kyb/brand/{}/style.css", app.platform)))
        .send()
        .await
        .unwrap();
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
    assert!(css.text().await.unwrap().contains("background: #1f3a5f;"));
    let none = app
        .client
        .get(app.url("/kyb/brand/plat_doesnotexist00000000000/style.css"))
        .send()
        .await
        .unwrap();
    assert_eq!(none.status(), 200);
    assert_eq!(none.text().await.unwrap(), "");
});

db_test!(the_pages_speak_the_customers_language, |app| async move {
    // The browser asks for French (after German, which kyb does not speak).
    let (_, link) = new_link(&app).await;
    let path = link.strip_prefix("https://kyb.test").unwrap().to_owned();
    let b = Browser::speaking(&app, Some("de-DE,fr-FR;q=0.8,en;q=0.5"));
    let (status, start) = b.get(&path).await;
    assert_eq!(status, 200);
    assert!(start.contains("<html lang=\"fr\">"), "{start}");
    assert!(start.contains("Vérifiez votre entreprise pour"), "{start}");
    let month = kyb_server::i18n::Tr::new(kyb_server::i18n::Lang::Fr).t(&format!(
        "month-{}",
        chrono::Datelike::month(&(app.clock.now() + Duration::days(7)))
    ));
    assert!(
        start.contains(&format!("{month} ")),
        "the expiry in French: {start}"
    );
    assert!(start.contains("href=\"?lang=en\""), "the switcher: {start}");
    let csrf = b.start(&link).await;
    // Errors, labels and the jurisdiction's own words in French.
    let mut business = BUSINESS.to_vec();
    business[0] = ("legal_name", "");
    business[4] = ("tax_id", "1234567");
    let (status, html, _) = b
        .post("/kyb/flow/business", &with_csrf(&csrf, &business))
        .await;
    assert_eq!(status, 422);
    for said in [
        "Saisissez la dénomination sociale",
        "EIN (numéro d'identification d'employeur) doit respecter le format officiel\u{202f}: deux chiffres, un tiret, sept chiffres, par exemple 12-3456789",
        "Erreur\u{202f}:",
    ] {
        assert!(html.contains(&said.replace('\'', "&#39;")), "{said}: {html}");
    }
    let (status, html, _) = b
        .post("/kyb/flow/business", &with_csrf(&csrf, &BUSINESS))
        .await;
    assert_eq!(status, 303, "{html}");
    // A decimal typed the French way; dates and numbers shown the French way.
    let ada = [
        ("full_name", "Ada Obi"),
        ("date_of_birth", "1980-04-23"),
        ("nationality", "NGA"),
        ("role", "director"),
        ("is_control_person", "yes"),
        ("ownership", "12,5"),
    ];
    let (status, html, _) = b.post("/kyb/flow/people", &with_csrf(&csrf, &ada)).await;
    assert_eq!(status, 303, "{html}");
    let (_, people) = b.get("/kyb/flow/people").await;
    for said in [
        "Né(e) le 23 avril 1980, Nigéria",
        "12,5\u{a0}%",
        "Administrateur ou dirigeant",
    ] {
        assert!(people.contains(said), "{said}: {people}");
    }
    // The switcher: the choice is remembered and beats the browser's languages; the page
    // comes back without the query. A page shown for a form goes back to its own page.
    let (status, to) = b.goes_to("/kyb/flow/people?lang=en").await;
    assert_eq!((status, to.as_deref()), (303, Some("/kyb/flow/people")));
    let (_, people) = b.get("/kyb/flow/people").await;
    assert!(people.contains("<html lang=\"en\">") && people.contains("Born 23 April 1980"));
    let (status, to) = b.goes_to("/kyb/flow/submit?lang=fr").await;
    assert_eq!((status, to.as_deref()), (303, Some("/kyb/flow/review")));
    let (_, review) = b.get("/kyb/flow/review").await;
    assert!(review.contains("Vérifier et envoyer"), "{review}");
    // A language kyb does not speak is not a choice.
    let (status, html) = b.get("/kyb/flow/review?lang=de").await;
    assert_eq!(status, 200);
    assert!(html.contains("<html lang=\"fr\">"));

    // The platform's default, for a browser that asks for no language kyb speaks; a browser
    // that asks for one gets it.
    app.state
        .store
        .change_platform_branding(
            &app.platform,
            kyb_store::BrandingUpdate::Values(kyb_domain::branding::Branding {
                language: Some("fr".into()),
                ..Default::default()
            }),
            &kyb_store::AuditContext::operator_cli(app.clock.now()),
        )
        .await
        .unwrap();
    let (_, link) = new_link(&app).await;
    let path = link.strip_prefix("https://kyb.test").unwrap().to_owned();
    let (_, html) = Browser::speaking(&app, Some("de")).get(&path).await;
    assert!(
        html.contains("<html lang=\"fr\">"),
        "the platform's default"
    );
    let (_, html) = Browser::speaking(&app, Some("en-GB")).get(&path).await;
    assert!(
        html.contains("<html lang=\"en\">"),
        "the browser's language"
    );
    // Pages of no platform speak the browser's language too.
    let (status, html) = Browser::speaking(&app, Some("fr"))
        .get("/kyb/not-a-real-token-at-all-0000000000000000")
        .await;
    assert_eq!(status, 404);
    assert!(html.contains("Ce lien n&#39;est pas valide"), "{html}");
    let (_, html) = Browser::speaking(&app, Some("fr"))
        .get("/kyb/flow/review")
        .await;
    assert!(html.contains("Votre session a pris fin"), "{html}");
});
