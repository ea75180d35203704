//! The whole hosted flow in real headless Chromium, driven through WebDriver (chromedriver):
//! open the link, fill every step, upload a real PDF, submit, and see the API report
//! `in_review`; then a reviewer in the console approves one case and asks for more information
//! on another. With `KYB_SCREENSHOTS=1`, screenshots of every step at desktop and phone width
//! are written to `docs/screenshots/`.

use crate::helpers::*;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
/// How long a wait for the next page may take before the test gives up. Only a guard against
/// hanging: on a loaded 2-core machine, with the whole suite beside it, a page can take seconds.
const PATIENCE: Duration = Duration::from_secs(60);

/// chromedriver on a free port, stopped when dropped.
struct Driver {
    child: Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts chromedriver, or `None` (with a note) when the browser is not installed outside CI.
async fn driver() -> Option<Driver> {
    if !std::path::Path::new(CHROMEDRIVER).exists() || !std::path::Path::new(CHROMIUM).exists() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but {CHROMIUM} or {CHROMEDRIVER} is missing: .ci/run installs chromium and chromium-driver"
        );
        eprintln!("chromium or chromedriver not installed: skipping the browser test (apt-get install chromium chromium-driver)");
        return None;
    }
    let port = free_port();
    let driver = Driver {
        child: Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts"),
        port,
    };
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Some(driver);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not listen on port {port}");
}

async fn browser(driver: &Driver, profile: &std::path::Path) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": CHROMIUM,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--hide-scrollbars",
                format!("--user-data-dir={}", profile.display()),
            ]
        }),
    );
    // chromedriver is on loopback: plain HTTP, no TLS stack needed.
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("a Chromium session")
}

/// Screenshots of the current page at desktop and phone width, when asked for.
async fn shoot(c: &Client, name: &str) {
    if std::env::var("KYB_SCREENSHOTS").as_deref() != Ok("1") {
        return;
    }
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/screenshots");
    std::fs::create_dir_all(dir).unwrap();
    for (label, width, height) in [("desktop", 1280, 1000), ("phone", 360, 780)] {
        c.set_window_size(width, height).await.unwrap();
        // The page's full height, so the screenshot shows the whole step.
        let full: Value = c
            .execute("return document.documentElement.scrollHeight", vec![])
            .await
            .unwrap();
        let h = full
            .as_u64()
            .unwrap_or(height as u64)
            .clamp(height as u64, 4000) as u32;
        c.set_window_size(width, h + 140).await.unwrap();
        let png = c.screenshot().await.unwrap();
        std::fs::write(format!("{dir}/{name}-{label}.png"), png).unwrap();
    }
    c.set_window_size(1280, 1000).await.unwrap();
}

/// axe-core (vendored in `testdata/axe`), run on the current page: every WCAG 2.0 and 2.1 A
/// and AA rule must pass. Also: the page has a language, a title and a main landmark, and at a
/// 360 px wide window nothing scrolls sideways.
async fn accessible(c: &Client, what: &str) {
    accessible_in(c, what, "en").await;
}

/// [`accessible`], for a page in the language `lang`; axe runs at 1280 px and at 360 px.
async fn accessible_in(c: &Client, what: &str, lang: &str) {
    axe(c, what).await;
    c.set_window_size(360, 780).await.unwrap();
    axe(c, &format!("{what} at 360 px")).await;
    c.set_window_size(1280, 1000).await.unwrap();
    page_basics(c, what, lang).await;
}

async fn axe(c: &Client, what: &str) {
    const AXE: &str = include_str!("../../../../testdata/axe/axe.min.js");
    c.execute(&format!("{AXE}\n;return true;"), vec![])
        .await
        .unwrap();
    let violations = c
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, { runOnly: { type: 'tag',
                 values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
               .then(r => done(r.violations.map(v => ({ id: v.id, impact: v.impact,
                   help: v.help, nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ')) }))))
               .catch(e => done([{ id: 'axe-failed', help: String(e) }]));",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(violations, json!([]), "axe-core on {what}");
}

/// The page has the language `lang`, a title and one main landmark, and at a 360 px wide
/// window nothing scrolls sideways.
async fn page_basics(c: &Client, what: &str, lang: &str) {
    let basics = c
        .execute(
            "return [document.documentElement.lang, document.title,
                     document.querySelectorAll('main').length];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(basics[0], lang, "{what} has its language");
    assert!(
        basics[1].as_str().is_some_and(|t| !t.is_empty()),
        "{what} has a title"
    );
    assert_eq!(basics[2], 1, "{what} has one main landmark");
    c.set_window_size(360, 780).await.unwrap();
    let widths = c
        .execute(
            "const w = document.documentElement.clientWidth;
             const wide = [...document.querySelectorAll('body *')]
               .filter(e => e.getBoundingClientRect().right > w + 1 || e.scrollWidth > w + 1)
               .slice(-5)
               .map(e => e.tagName + (e.id ? '#' + e.id : '') + '.' + e.className);
             return [document.documentElement.scrollWidth, w, wide];",
            vec![],
        )
        .await
        .unwrap();
    c.set_window_size(1280, 1000).await.unwrap();
    assert!(
        widths[0].as_u64() <= widths[1].as_u64(),
        "{what} scrolls sideways at 360 px: {widths}"
    );
}

/// The Tab key, as the keyboard sends it (not typed into an element: into a file input that
/// would be a file name).
async fn press_tab(c: &Client) {
    use fantoccini::actions::{InputSource, KeyAction, KeyActions};
    let tab: char = fantoccini::key::Key::Tab.into();
    let keys = KeyActions::new("keyboard".into())
        .then(KeyAction::Down { value: tab })
        .then(KeyAction::Up { value: tab });
    c.perform_actions(keys).await.unwrap();
}

/// With the keyboard alone, Tab from the top of the page reaches every control a pointer could
/// use (links, buttons, fields, disclosures; not what a closed disclosure hides), in order, and
/// never gets stuck (a frame that kept the focus would stop the walk).
async fn keyboard_reaches_everything(c: &Client, what: &str) {
    let found = c
        .execute(
            "let n = 0;
             for (const e of document.querySelectorAll(
                 'a[href], button, input:not([type=hidden]), select, textarea, summary')) {
               if (e.disabled || e.getClientRects().length === 0) continue;
               const closed = e.closest('details:not([open])');
               if (closed && e.tagName !== 'SUMMARY') continue;
               e.setAttribute('data-kb', String(n++));
             }
             document.activeElement && document.activeElement.blur();
             window.scrollTo(0, 0);
             return [n, document.querySelectorAll('iframe').length];",
            vec![],
        )
        .await
        .unwrap();
    let (controls, frames) = (found[0].as_u64().unwrap(), found[1].as_u64().unwrap());
    let mut reached = std::collections::BTreeSet::new();
    // Each control once (twice round, the walk may start anywhere), the browser's own stops,
    // and each frame's own controls: a PDF viewer's toolbar holds a few dozen, and how many it
    // shows yet depends on how far it has loaded, so each frame is allowed a generous number.
    // A frame that kept the focus for good would still use all of them up and fail the walk.
    for _ in 0..(controls * 2 + 10 + frames * 60) {
        press_tab(c).await;
        let at = c
            .execute(
                "const e = document.activeElement;
                 return e && e.getAttribute('data-kb');",
                vec![],
            )
            .await
            .unwrap();
        if let Some(n) = at.as_str() {
            reached.insert(n.parse::<u64>().unwrap());
        }
        if reached.len() as u64 == controls {
            return;
        }
    }
    let missed: Vec<u64> = (0..controls).filter(|n| !reached.contains(n)).collect();
    let names = c
        .execute(
            "return arguments[0].map(n => {
               const e = document.querySelector(`[data-kb='${n}']`);
               return e.tagName + ' ' + (e.id || e.getAttribute('name') || e.textContent.trim().slice(0, 30));
             });",
            vec![json!(missed)],
        )
        .await
        .unwrap();
    panic!("{what}: the Tab key never reaches {names}");
}

/// The text of the element the locator finds.
async fn text_of(c: &Client, at: Locator<'_>) -> String {
    c.find(at).await.unwrap().text().await.unwrap()
}

async fn fill(c: &Client, id: &str, value: &str) {
    let e = c.find(Locator::Id(id)).await.unwrap();
    e.clear().await.unwrap();
    e.send_keys(value).await.unwrap();
}

/// Date inputs take typed keys in the browser's locale; set the value as a form would.
async fn set_date(c: &Client, id: &str, value: &str) {
    let e = c.find(Locator::Id(id)).await.unwrap();
    c.execute(
        "arguments[0].value = arguments[1];",
        vec![serde_json::to_value(&e).unwrap(), json!(value)],
    )
    .await
    .unwrap();
}

async fn select(c: &Client, id: &str, value: &str) {
    c.find(Locator::Id(id))
        .await
        .unwrap()
        .select_by_value(value)
        .await
        .unwrap();
}

async fn press(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// Presses what sends a form or follows a link, and waits (bounded) until the next page has
/// replaced this one: a check right after a click could otherwise still read the old page.
async fn submit(c: &Client, css: &str) {
    c.execute("window.__kybBefore = true; return true;", vec![])
        .await
        .unwrap();
    press(c, css).await;
    wait_for_new_page(c, css).await;
}

/// Waits (bounded) until the page marked before `css` was pressed is replaced and loaded.
async fn wait_for_new_page(c: &Client, css: &str) {
    for _ in 0..PATIENCE.as_millis() / 100 {
        let old = c
            .execute("return window.__kybBefore === true;", vec![])
            .await;
        if matches!(old, Ok(Value::Bool(false))) {
            // The new document exists; wait for it to be complete.
            let ready = c.execute("return document.readyState;", vec![]).await;
            if matches!(ready, Ok(Value::String(ref r)) if r == "complete") {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("pressing {css} led to no new page");
}

/// The page's `h1`, waiting (bounded) for the page after a click to load.
async fn heading(c: &Client) -> String {
    let h1 = c
        .wait()
        .at_most(PATIENCE)
        .for_element(Locator::Css("h1"))
        .await
        .expect("a page with a heading");
    h1.text().await.unwrap()
}

/// Waits (bounded) until the page's heading is `expected`.
async fn on_page(c: &Client, expected: &str) {
    for _ in 0..PATIENCE.as_millis() / 100 {
        if let Ok(h1) = c.find(Locator::Css("h1")).await {
            if h1.text().await.map(|t| t == expected).unwrap_or(false) {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("expected the page {expected:?}, got {:?}", heading(c).await);
}

async fn run(postgres: bool) {
    let Some(driver) = driver().await else { return };
    let Some(app) = spawn_for_browser(postgres).await else {
        return;
    };
    let profile = tempfile::tempdir().unwrap();
    let c = browser(&driver, profile.path()).await;
    // The platform's brand on every page: axe checks the accent colour and the links too.
    app.state
        .store
        .change_platform_branding(
            &app.platform,
            kyb_store::BrandingUpdate::Values(kyb_domain::branding::Branding {
                accent_color: Some("#5b2a86".into()),
                support_email: Some("help@acme.example".into()),
                privacy_url: Some("https://acme.example/privacy".into()),
                terms_url: Some("https://acme.example/terms".into()),
                ..Default::default()
            }),
            &kyb_store::AuditContext::operator_cli(app.clock.now()),
        )
        .await
        .unwrap();

    let r = app
        .create_as(&app.key, &new_idempotency_key(), &seed_body())
        .await;
    let created: Value = r.json().await.unwrap();
    let id = created["customer_id"].as_str().unwrap().to_owned();
    let link = created["kyb_link"].as_str().unwrap().to_owned();
    assert!(link.starts_with(&app.address));

    c.goto(&link).await.unwrap();
    on_page(&c, "Verify your business for Acme Platform").await;
    shoot(&c, "1-start").await;
    submit(&c, "button[type=submit]").await;

    // Step 1, first with a mistake to show the error summary.
    on_page(&c, "Business details").await;
    select(&c, "entity_type", "llc").await;
    fill(&c, "registration_number", "5551234").await;
    set_date(&c, "date_of_incorporation", "2019-03-01").await;
    fill(&c, "tax_id", "1234567").await;
    fill(&c, "website", "https://acme.example").await;
    fill(
        &c,
        "business_description",
        "Payments software for small shops",
    )
    .await;
    submit(&c, "form button[type=submit]").await;
    let summary = c
        .wait()
        .at_most(PATIENCE)
        .for_element(Locator::Css(".error-summary"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        summary.contains("EIN (Employer Identification Number) must be in the official format"),
        "{summary}"
    );
    shoot(&c, "2-business-details-error").await;
    // The field in error has a red border like every field in error (not the grey of the
    // others), and the focus ring is dark enough to see on white (3:1 at least).
    let looks = c
        .execute(
            "const bad = document.getElementById('tax_id');
             const good = document.getElementById('website');
             bad.focus();
             const s = getComputedStyle(bad);
             return [s.borderTopColor, getComputedStyle(good).borderTopColor, s.outlineColor];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        looks,
        json!(["rgb(176, 0, 32)", "rgb(107, 118, 133)", "rgb(11, 12, 12)"]),
        "error border, normal border, focus ring"
    );
    fill(&c, "tax_id", "12-3456789").await;
    shoot(&c, "2-business-details").await;
    submit(&c, "form button[type=submit]").await;

    // Step 2.
    on_page(&c, "People").await;
    fill(&c, "full_name", "Ada Obi").await;
    set_date(&c, "date_of_birth", "1980-04-23").await;
    select(&c, "nationality", "NGA").await;
    select(&c, "role", "director").await;
    press(&c, "#is_control_person").await;
    fill(&c, "ownership", "60").await;
    submit(&c, "#person-form + form button[type=submit]").await;
    let table = c
        .wait()
        .at_most(PATIENCE)
        .for_element(Locator::Css("table"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        table.contains("Ada Obi") && table.contains("Control person"),
        "{table}"
    );
    shoot(&c, "3-people").await;
    // On a phone, the table's headings and buttons keep their words whole, and its caption is
    // a caption, not a cell.
    c.set_window_size(360, 780).await.unwrap();
    let table = c
        .execute(
            "const one = e => { const r = document.createRange(); r.selectNodeContents(e);
                                return r.getClientRects().length; };
             const words = [...document.querySelectorAll('th, td button')]
               .filter(e => e.textContent.trim().split(/\\s+/).length === 1 && one(e) > 1)
               .map(e => e.textContent.trim());
             return [words, getComputedStyle(document.querySelector('caption')).display];",
            vec![],
        )
        .await
        .unwrap();
    c.set_window_size(1280, 1000).await.unwrap();
    assert_eq!(
        table,
        json!([[], "table-caption"]),
        "words broken on a phone"
    );
    // Remove asks first, on a real page; going back removes nothing.
    submit(&c, "form[action$='/delete'] button").await;
    on_page(&c, "Remove this person?").await;
    accessible(&c, "the confirmation before removing a person").await;
    keyboard_reaches_everything(&c, "the confirmation before removing a person").await;
    submit(&c, "a[href='/kyb/flow/people']").await;
    on_page(&c, "People").await;
    assert!(text_of(&c, Locator::Css("table")).await.contains("Ada Obi"));
    submit(&c, "form[action='/kyb/flow/people/continue'] button").await;

    // Step 3: a real PDF from disk, three times.
    on_page(&c, "Documents").await;
    let pdf = profile.path().join("certificate.pdf");
    std::fs::write(&pdf, crate::hosted::PDF).unwrap();
    for kind in [
        "certificate_of_incorporation",
        "proof_of_address",
        "ownership_structure",
    ] {
        select(&c, "kind", kind).await;
        c.find(Locator::Id("file"))
            .await
            .unwrap()
            .send_keys(&pdf.display().to_string())
            .await
            .unwrap();
        submit(&c, "form[enctype='multipart/form-data'] button").await;
        on_page(&c, "Documents").await;
    }
    let uploaded = text_of(&c, Locator::Css("table")).await;
    assert_eq!(uploaded.matches("PDF, ").count(), 3, "{uploaded}");
    assert!(
        !uploaded.contains("application/"),
        "no media types: {uploaded}"
    );
    shoot(&c, "4-documents").await;
    submit(&c, "a.button[href='/kyb/flow/review']").await;

    // Step 4.
    on_page(&c, "Review and submit").await;
    assert!(
        c.find(Locator::Id("missing")).await.is_err(),
        "nothing is missing"
    );
    press(&c, "#attest").await;
    fill(&c, "attested_by", "Ada Obi").await;
    shoot(&c, "5-review").await;
    submit(&c, "form[action='/kyb/flow/submit'] button").await;
    on_page(&c, "Thank you: your business verification is submitted").await;
    shoot(&c, "6-submitted").await;
    c.close().await.unwrap();

    let v: Value = app
        .get(&format!("/v2/business_customer/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["verification_status"], "in_review");
    assert_eq!(v["requirements"]["currently_due"], json!([]));
}

/// Waits (bounded) for the page after a click to show a notice saying `expected`, and returns
/// its text. The page before the click may have a notice too, or be replaced while it is read:
/// those are looked at again, not taken as the answer.
async fn notice_saying(c: &Client, expected: &str) -> String {
    let deadline = std::time::Instant::now() + PATIENCE;
    let mut seen = Vec::new();
    while std::time::Instant::now() < deadline {
        if let Ok(notices) = c.find_all(Locator::Css(".notice")).await {
            for n in notices {
                if let Ok(text) = n.text().await {
                    if text.contains(expected) {
                        return text;
                    }
                    seen.push(text);
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no notice saying {expected:?}; saw {seen:?}");
}

/// A reviewer signs in, approves one case from the queue and asks for more on another.
async fn run_console(postgres: bool) {
    let Some(driver) = driver().await else { return };
    let Some(app) = spawn_for_browser(postgres).await else {
        return;
    };
    app.import_list("2024-05-03").await;
    let approve = crate::hosted::submitted_case(&app, "Acme Corp", "5551234", "Ada Obi", "a").await;
    let ask =
        crate::hosted::submitted_case(&app, "Beta Trading Ltd", "5551235", "Ben Cole", "b").await;
    let hit =
        crate::hosted::submitted_case(&app, "Gamma Ltd", "5551236", "Hasan Nasrallah", "c").await;
    assert_eq!(
        kyb_server::checks::CheckRunner::new(app.state.clone())
            .run_once()
            .await
            .unwrap(),
        3
    );
    let hash = kyb_server::console::password::hash("reviewer password 1").unwrap();
    app.state
        .store
        .create_operator(
            "rev@kyb.example",
            kyb_store::OperatorRole::Reviewer,
            &hash,
            &[],
            &kyb_store::AuditContext::operator_cli(app.clock.now()),
        )
        .await
        .unwrap();
    let hash = kyb_server::console::password::hash("admin password 1").unwrap();
    app.state
        .store
        .create_operator(
            "admin@kyb.example",
            kyb_store::OperatorRole::Admin,
            &hash,
            &[],
            &kyb_store::AuditContext::operator_cli(app.clock.now()),
        )
        .await
        .unwrap();
    let profile = tempfile::tempdir().unwrap();
    let c = browser(&driver, profile.path()).await;

    c.goto(&app.url("/console")).await.unwrap();
    on_page(&c, "Sign in").await;
    accessible(&c, "the sign-in page").await;
    keyboard_reaches_everything(&c, "the sign-in page").await;
    // Signing in with the keyboard alone: the address field has the focus first, Tab goes to
    // the password, Enter sends.
    c.execute(
        "document.activeElement && document.activeElement.blur(); return true;",
        vec![],
    )
    .await
    .unwrap();
    let tab = fantoccini::key::Key::Tab.to_string();
    let enter = fantoccini::key::Key::Enter.to_string();
    c.active_element()
        .await
        .unwrap()
        .send_keys(&tab)
        .await
        .unwrap();
    for _ in 0..5 {
        if c.execute("return document.activeElement.id;", vec![])
            .await
            .unwrap()
            == "email"
        {
            break;
        }
        c.active_element()
            .await
            .unwrap()
            .send_keys(&tab)
            .await
            .unwrap();
    }
    let typing = c.active_element().await.unwrap();
    typing.send_keys("rev@kyb.example").await.unwrap();
    typing.send_keys(&tab).await.unwrap();
    let typing = c.active_element().await.unwrap();
    typing.send_keys("reviewer password 1").await.unwrap();
    shoot(&c, "7-console-sign-in").await;
    c.execute("window.__kybBefore = true; return true;", vec![])
        .await
        .unwrap();
    typing.send_keys(&enter).await.unwrap();
    on_page(&c, "Review queue").await;
    shoot(&c, "8-console-queue").await;
    accessible(&c, "the queue").await;
    keyboard_reaches_everything(&c, "the queue").await;
    // Search and filters, with the keyboard's form: a person's name finds the hit.
    fill(&c, "q", "nasrallah").await;
    select(&c, "flag", "sanctions_hit").await;
    submit(&c, "#apply-filters").await;
    on_page(&c, "Review queue").await;
    let count = text_of(&c, Locator::Id("queue-count")).await;
    assert!(count.starts_with("1 case matches"), "{count}");
    accessible(&c, "the filtered queue").await;
    c.goto(&app.url("/console")).await.unwrap();
    on_page(&c, "Review queue").await;

    submit(&c, &format!("a[href='/console/cases/{approve}']")).await;
    on_page(&c, "Acme Corp").await;
    shoot(&c, "9-console-case").await;
    accessible(&c, "a case").await;
    keyboard_reaches_everything(&c, "a case").await;
    // The uploaded PDFs are shown in place, each in a frame that holds Chromium's PDF viewer
    // (a frame the policy blocked would hold an error page, which we could not read).
    let viewers = c
        .execute(
            "return [...document.querySelectorAll('iframe.preview')].map(f => {
               const d = f.contentDocument;
               return d ? d.contentType : 'blocked';
             });",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        viewers,
        json!(["application/pdf", "application/pdf", "application/pdf"]),
        "each uploaded PDF in its viewer"
    );
    // The reviewer takes the case and writes a note.
    submit(&c, "#claim").await;
    on_page(&c, "Acme Corp").await;
    fill(
        &c,
        "note-body",
        "Checked the certificate against the registry extract.",
    )
    .await;
    submit(&c, "#add-note").await;
    on_page(&c, "Acme Corp").await;
    let notes = text_of(&c, Locator::Css("ol.notes")).await;
    assert!(notes.contains("registry extract"), "{notes}");
    // The decision is final: Approve asks for the box first (the browser refuses the form
    // without it, with no script).
    press(&c, "#approve").await;
    on_page(&c, "Acme Corp").await;
    let status = text_of(&c, Locator::Id("status")).await;
    assert_eq!(status, "in_review", "not approved without the box");
    press(&c, "#approve-confirm").await;
    submit(&c, "#approve").await;
    notice_saying(&c, "The case is approved").await;

    c.goto(&app.url(&format!("/console/cases/{ask}")))
        .await
        .unwrap();
    on_page(&c, "Beta Trading Ltd").await;
    // Sent with nothing picked: refused, on the case page, saying why (and still open).
    press(&c, "details.request-info summary").await;
    submit(&c, "#request-info").await;
    on_page(&c, "Beta Trading Ltd").await;
    let why = text_of(&c, Locator::Css(".error-summary[data-refusal]")).await;
    assert!(why.contains("Pick at least one item"), "{why}");
    accessible(&c, "a refused form").await;
    press(&c, "input[value='documents.proof_of_address']").await;
    fill(
        &c,
        "message",
        "Please upload a proof of address from the last three months.",
    )
    .await;
    submit(&c, "#request-info").await;
    notice_saying(&c, "More information was requested").await;
    shoot(&c, "10-console-info-requested").await;

    // The customer, in a browser of their own, opens the fresh link: the documents step shows
    // what was asked, marked, with a way to confirm it is still correct.
    let fresh: Value = app
        .get(&format!("/v2/business_customer/{ask}"))
        .await
        .json()
        .await
        .unwrap();
    let customer_profile = tempfile::tempdir().unwrap();
    let customer = browser(&driver, customer_profile.path()).await;
    customer
        .goto(fresh["kyb_link"].as_str().unwrap())
        .await
        .unwrap();
    submit(&customer, "button[type=submit]").await;
    customer
        .goto(&app.url("/kyb/flow/documents"))
        .await
        .unwrap();
    on_page(&customer, "Documents").await;
    let asked = text_of(&customer, Locator::Id("asked")).await;
    assert!(
        asked.contains("Please upload a proof of address from the last three months.")
            && asked.contains("Proof of business address: not changed yet"),
        "{asked}"
    );
    shoot(&customer, "12-more-information-asked").await;
    accessible(&customer, "a step with information asked for again").await;
    keyboard_reaches_everything(&customer, "a step with information asked for again").await;
    customer.close().await.unwrap();

    // A sanctions hit, side by side with what the customer gave, and the reviewer's verdict.
    c.goto(&app.url(&format!("/console/cases/{hit}")))
        .await
        .unwrap();
    on_page(&c, "Gamma Ltd").await;
    let comparison = text_of(&c, Locator::Css("section.hit")).await;
    assert!(
        comparison.contains("NASRALLAH, Hasan") && comparison.contains("31 Aug 1960"),
        "{comparison}"
    );
    shoot(&c, "11-console-sanctions-hit").await;
    accessible(&c, "a case with a sanctions hit").await;
    keyboard_reaches_everything(&c, "a case with a sanctions hit").await;
    press(&c, "section.hit input[value='true_match']").await;
    fill(
        &c,
        "reason-ofac-sdn-2686",
        "Same name and date of birth as the listed person.",
    )
    .await;
    submit(&c, "form.verdict button[type=submit]").await;
    notice_saying(&c, "verdict on the hit is recorded").await;
    // The confirmed match is rejected: no reason is picked until the reviewer picks one, and
    // the decision asks for the box.
    let picked = c
        .find(Locator::Id("reason_code"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(picked.as_deref(), Some(""), "no reason preselected");
    select(&c, "reason_code", "sanctions_match").await;
    press(&c, "#reject-confirm").await;
    submit(&c, "#reject").await;
    notice_saying(&c, "The case is rejected").await;
    accessible(&c, "a rejected case").await;
    for (path, title) in [
        ("/console/password", "Change your password"),
        ("/console/cases/cust_nothere", "No such case"),
    ] {
        c.goto(&app.url(path)).await.unwrap();
        on_page(&c, title).await;
        accessible(&c, title).await;
    }

    // A new list entry flags the approved case; the reviewer looks and keeps it as it is.
    app.exec(&format!(
        "UPDATE business_customers SET review_flag = 'sanctions_new_hit' WHERE id = '{approve}'"
    ))
    .await;
    c.goto(&app.url(&format!("/console/cases/{approve}")))
        .await
        .unwrap();
    on_page(&c, "Acme Corp").await;
    accessible(&c, "a flagged case").await;
    fill(
        &c,
        "flag_note",
        "The new entry is a different person: other date of birth.",
    )
    .await;
    submit(&c, "#clear-flag").await;
    notice_saying(&c, "The flag is cleared").await;

    // An admin gives a case to the reviewer, and makes the reviewer a password reset link.
    c.goto(&app.url("/console")).await.unwrap();
    submit(&c, "form[action='/console/logout'] button").await;
    on_page(&c, "Sign in").await;
    fill(&c, "email", "admin@kyb.example").await;
    fill(&c, "password", "admin password 1").await;
    submit(&c, "form button[type=submit]").await;
    on_page(&c, "Review queue").await;
    c.goto(&app.url(&format!("/console/cases/{ask}")))
        .await
        .unwrap();
    on_page(&c, "Beta Trading Ltd").await;
    let rev_id = app
        .dump("SELECT id FROM operators WHERE email = 'rev@kyb.example'")
        .await
        .remove(0);
    select(&c, "assign-to", &rev_id).await;
    submit(&c, "#assign").await;
    notice_saying(&c, "The case is assigned").await;
    let assignee = text_of(&c, Locator::Id("assignee")).await;
    assert!(assignee.starts_with("rev@kyb.example"), "{assignee}");
    accessible(&c, "a case an admin assigned").await;
    c.goto(&app.url("/console/operators")).await.unwrap();
    on_page(&c, "Operators").await;
    accessible(&c, "the operators page").await;
    keyboard_reaches_everything(&c, "the operators page").await;
    submit(&c, "form[action$='/reset'] button").await;
    let link = c
        .wait()
        .at_most(PATIENCE)
        .for_element(Locator::Css("#reset-link code.link"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    accessible(&c, "the operators page with a reset link").await;
    c.goto(&link).await.unwrap();
    on_page(&c, "Set a new password").await;
    accessible(&c, "the reset page").await;
    fill(&c, "new_password", "a password from the link").await;
    fill(&c, "new_password_again", "a password from the link").await;
    submit(&c, "form button[type=submit]").await;
    on_page(&c, "Sign in").await;
    c.close().await.unwrap();

    for (id, status) in [(&approve, "approved"), (&ask, "more_info")] {
        let v: Value = app
            .get(&format!("/v2/business_customer/{id}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(v["verification_status"], status, "{v}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_in_chromium_sqlite() {
    run_console(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_in_chromium_postgres() {
    run_console(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hosted_flow_in_chromium_sqlite() {
    run(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hosted_flow_in_chromium_postgres() {
    run(true).await;
}

/// Sends the Enter key to an element (a button, a link) and waits for the page it leads to:
/// what a keyboard user does.
async fn enter(c: &Client, css: &str) {
    c.execute("window.__kybBefore = true; return true;", vec![])
        .await
        .unwrap();
    let enter: char = fantoccini::key::Key::Enter.into();
    c.find(Locator::Css(css))
        .await
        .unwrap()
        .send_keys(&enter.to_string())
        .await
        .unwrap();
    wait_for_new_page(c, css).await;
}

/// Types into a field, or into a list (which chooses the first option starting with it).
async fn type_into(c: &Client, id: &str, text: &str) {
    let e = c.find(Locator::Id(id)).await.unwrap();
    if e.tag_name().await.unwrap() != "select" {
        e.clear().await.unwrap();
    }
    e.send_keys(text).await.unwrap();
}

/// Space on a checkbox, as the keyboard ticks it.
async fn tick(c: &Client, id: &str) {
    c.find(Locator::Id(id))
        .await
        .unwrap()
        .send_keys(" ")
        .await
        .unwrap();
}

/// Every page of the walk: axe at both widths, the language, nothing sideways, and the Tab
/// key reaching every control at both widths.
async fn check_page(c: &Client, what: &str, lang: kyb_server::i18n::Lang) {
    accessible_in(c, what, lang.code()).await;
    keyboard_reaches_everything(c, &format!("{what} at 1280 px")).await;
    c.set_window_size(360, 780).await.unwrap();
    keyboard_reaches_everything(c, &format!("{what} at 360 px")).await;
}

/// The whole flow in every language, at a phone's width, with the keyboard alone: the switcher
/// on the start page, typing into fields and lists, Space on checkboxes, Enter on buttons and
/// links. Every page passes axe at 360 px and 1280 px. The pages have no script at all (their
/// policy allows none), so this is the flow without JavaScript too.
async fn walk_in_every_language(postgres: bool) {
    use kyb_server::i18n::{Lang, Tr};
    let Some(driver) = driver().await else { return };
    let Some(app) = spawn_for_browser(postgres).await else {
        return;
    };
    let pdf_dir = tempfile::tempdir().unwrap();
    let pdf = pdf_dir.path().join("certificate.pdf");
    std::fs::write(&pdf, crate::hosted::PDF).unwrap();
    for lang in Lang::ALL {
        let tr = Tr::new(lang);
        let with_platform = |id: &str| {
            let mut args = fluent_bundle::FluentArgs::new();
            args.set("platform", "Acme Platform");
            tr.args(id, &args)
        };
        let what = |page: &str| format!("{page} ({})", lang.code());
        let profile = tempfile::tempdir().unwrap();
        let c = browser(&driver, profile.path()).await;
        c.set_window_size(360, 780).await.unwrap();
        let r = app.create(&body_with_email(&unique_email())).await;
        let created: Value = r.json().await.unwrap();
        let id = created["customer_id"].as_str().unwrap().to_owned();
        c.goto(created["kyb_link"].as_str().unwrap()).await.unwrap();
        // Chromium asks for English; the switcher changes it, and the choice stays.
        if lang != Lang::En {
            enter(&c, &format!("nav.languages a[hreflang='{}']", lang.code())).await;
        }
        on_page(&c, &with_platform("start-heading")).await;
        check_page(&c, &what("the start page"), lang).await;
        shoot(&c, &format!("{}-1-start", lang.code())).await;
        enter(&c, "form button[type=submit]").await;

        on_page(&c, &tr.t("step-business")).await;
        check_page(&c, &what("business details"), lang).await;
        type_into(&c, "entity_type", &tr.t("entity-llc")).await;
        type_into(&c, "registration_number", "5551234").await;
        set_date(&c, "date_of_incorporation", "2019-03-01").await;
        type_into(&c, "tax_id", "123456789").await;
        type_into(&c, "website", "acme.example").await;
        type_into(&c, "business_description", "Payments software").await;
        enter(&c, "form button[type=submit]").await;

        on_page(&c, &tr.t("step-people")).await;
        check_page(&c, &what("people"), lang).await;
        type_into(&c, "full_name", "Ada Obi").await;
        set_date(&c, "date_of_birth", "1980-04-23").await;
        type_into(&c, "nationality", &tr.t("country-GHA")).await;
        type_into(&c, "role", &tr.t("role-director")).await;
        tick(&c, "is_control_person").await;
        type_into(&c, "ownership", "60").await;
        enter(&c, "#person-form + form button[type=submit]").await;
        on_page(&c, &tr.t("step-people")).await;
        let listed = text_of(&c, Locator::Css("table")).await;
        for chosen in [
            tr.t("country-GHA"),
            tr.t("role-director"),
            tr.date_text("1980-04-23"),
        ] {
            assert!(listed.contains(&chosen), "{chosen}: {listed}");
        }
        check_page(&c, &what("people with a person"), lang).await;
        enter(&c, "form[action='/kyb/flow/people/continue'] button").await;

        on_page(&c, &tr.t("step-documents")).await;
        check_page(&c, &what("documents"), lang).await;
        for kind in [
            "certificate_of_incorporation",
            "proof_of_address",
            "ownership_structure",
        ] {
            type_into(&c, "kind", &tr.t(&format!("doc-{kind}"))).await;
            c.find(Locator::Id("file"))
                .await
                .unwrap()
                .send_keys(&pdf.display().to_string())
                .await
                .unwrap();
            enter(&c, "form[enctype='multipart/form-data'] button").await;
        }
        on_page(&c, &tr.t("step-documents")).await;
        check_page(&c, &what("documents uploaded"), lang).await;
        enter(&c, "a.button[href='/kyb/flow/review']").await;

        on_page(&c, &tr.t("step-review")).await;
        check_page(&c, &what("the review"), lang).await;
        shoot(&c, &format!("{}-5-review", lang.code())).await;
        tick(&c, "attest").await;
        type_into(&c, "attested_by", "Ada Obi").await;
        enter(&c, "form[action='/kyb/flow/submit'] button").await;
        on_page(&c, &tr.t("submitted-heading")).await;
        check_page(&c, &what("the submitted page"), lang).await;
        c.close().await.unwrap();

        // What the keyboard chose is what was stored.
        let v: Value = app
            .get(&format!("/v2/business_customer/{id}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            v["verification_status"],
            "in_review",
            "{}: {v}",
            lang.code()
        );
        let customer = app
            .state
            .store
            .get_customer(
                &app.scope(),
                &kyb_domain::CustomerId::parse(&id).unwrap(),
                app.clock.now(),
            )
            .await
            .unwrap()
            .unwrap();
        let facts = &customer.facts;
        assert_eq!(facts.profile.entity_type, "llc");
        assert_eq!(facts.profile.tax_id, "12-3456789", "tidied");
        assert_eq!(facts.profile.website, "https://acme.example", "tidied");
        assert!(facts.people[0].is_control_person);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_language_in_chromium_sqlite() {
    walk_in_every_language(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_language_in_chromium_postgres() {
    walk_in_every_language(true).await;
}
