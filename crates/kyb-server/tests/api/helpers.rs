//! `spawn_app()`: a real kyb on port 0 over a fresh database (a temp SQLite file, or a uniquely
//! named PostgreSQL database that is dropped afterwards), plus typed request helpers.

use chrono::{SubsecRound, Utc};
use kyb_domain::{ApiKeySecret, Clock, Mode, PlatformId};
use kyb_server::{AppState, Application, Config, RawConfig};
use kyb_store::{secrets, AuditContext, Scope, Store};
use serde_json::{json, Value};

/// Runs one behaviour test on both databases: `db_test!(name, |app| async move { ... })`
/// makes `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! db_test {
    ($name:ident, |$app:ident| $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let $app = $crate::helpers::spawn_sqlite().await;
                $body.await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some($app) = $crate::helpers::spawn_postgres().await else {
                    return;
                };
                $body.await
            }
        }
    };
}

/// `db_test!(name, config = |c| { ...; c }, |app| async move { ... })`: the same, with a changed
/// configuration.
#[macro_export]
macro_rules! db_test_with {
    ($name:ident, $tweak:expr, |$app:ident| $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let $app = $crate::helpers::spawn_with(false, $tweak).await.unwrap();
                $body.await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some($app) = $crate::helpers::spawn_with(true, $tweak).await else {
                    return;
                };
                $body.await
            }
        }
    };
}

/// An app on SQLite or PostgreSQL (`None`: PostgreSQL unreachable outside CI) with a changed
/// configuration.
pub async fn spawn_with(postgres: bool, tweak: impl FnOnce(Config) -> Config) -> Option<TestApp> {
    let pg = if postgres {
        Some(kyb_testkit::postgres_database().await?)
    } else {
        None
    };
    Some(spawn_app_on(pg, tweak).await)
}

pub async fn spawn_postgres() -> Option<TestApp> {
    let pg = kyb_testkit::postgres_database().await?;
    Some(spawn_app_on(Some(pg), |c| c).await)
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub state: AppState,
    pub clock: Clock,
    pub platform: PlatformId,
    /// A test-mode key of `platform`.
    pub key: String,
    _dir: tempfile::TempDir,
    _pg: Option<kyb_testkit::PgDatabase>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

pub fn test_config(dir: &std::path::Path, database_url: String) -> Config {
    let raw = RawConfig {
        listen: "127.0.0.1:0".into(),
        data_dir: dir.to_path_buf(),
        database_url: Some(database_url),
        public_url: Some("https://kyb.test".into()),
        workers: false,
        // Webhook tests deliver to receivers on 127.0.0.1 over plain http.
        webhooks_allow_insecure: true,
        ..RawConfig::default()
    };
    Config::try_from(raw).expect("test configuration is valid")
}

/// An app whose links point at its real address (for a real browser), on SQLite or PostgreSQL.
pub async fn spawn_for_browser(postgres: bool) -> Option<TestApp> {
    let pg = if postgres {
        Some(kyb_testkit::postgres_database().await?)
    } else {
        None
    };
    Some(
        spawn_app_on(pg, |mut c| {
            c.public_url = None;
            c
        })
        .await,
    )
}

pub async fn spawn_sqlite() -> TestApp {
    spawn_app_on(None, |c| c).await
}

pub async fn spawn_app_on(
    pg: Option<kyb_testkit::PgDatabase>,
    tweak: impl FnOnce(Config) -> Config,
) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let url = match &pg {
        Some(pg) => pg.url().to_owned(),
        None => format!("sqlite://{}", dir.path().join("kyb.db").display()),
    };
    let config = tweak(test_config(dir.path(), url));
    let clock = Clock::manual(Utc::now().trunc_subsecs(0));
    let app = Application::build_with_clock(config, clock.clone())
        .await
        .expect("app builds");
    let address = format!("http://{}", app.local_addr());
    let state = app.state().clone();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until(async {
        let _ = rx.await;
    }));
    let (platform, key) = create_platform(&state.store, &clock, "Acme Platform", Mode::Test).await;
    TestApp {
        address,
        client: reqwest::Client::new(),
        state,
        clock,
        platform,
        key,
        _dir: dir,
        _pg: pg,
        shutdown: Some(tx),
    }
}

pub async fn create_platform(
    store: &Store,
    clock: &Clock,
    name: &str,
    mode: Mode,
) -> (PlatformId, String) {
    let ctx = AuditContext::operator_cli(clock.now());
    let platform = store.create_platform(name, &ctx).await.unwrap();
    let key = create_key(store, clock, &platform.id, mode).await;
    (platform.id, key)
}

pub async fn create_key(store: &Store, clock: &Clock, platform: &PlatformId, mode: Mode) -> String {
    let secret = ApiKeySecret::generate(mode);
    let ctx = AuditContext::operator_cli(clock.now());
    store
        .create_key(
            platform,
            mode,
            secret.lookup_prefix(),
            &secrets::hash_secret(secret.expose_secret()),
            None,
            &ctx,
        )
        .await
        .unwrap();
    secret.expose_secret().to_owned()
}

/// The vendor's example body, read verbatim from the documentation.
pub fn seed_body() -> String {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/seed/create-business-customer.txt"
    ))
    .expect("testdata/seed/create-business-customer.txt is readable");
    let start = doc
        .find("Example Request")
        .expect("the seed has an example request");
    let open = start + doc[start..].find('{').unwrap();
    let close = open + doc[open..].find('}').unwrap();
    doc[open..=close].to_owned()
}

/// A valid body with a unique e-mail address.
pub fn body_with_email(email: &str) -> Value {
    json!({
        "business_name": "Acme Corp Solutions Ltd",
        "business_email": email,
        "phone_number": "+1-555-0123",
        "registered_address": "123 Business Street, Suite 100, New York, NY 10001",
        "registered_country": "USA"
    })
}

pub fn unique_email() -> String {
    format!(
        "ops+{}@acme.example",
        kyb_domain::EventId::generate().as_str()[4..].to_lowercase()
    )
}

pub fn new_idempotency_key() -> String {
    kyb_domain::RequestId::generate().into_string()
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub fn scope(&self) -> Scope {
        Scope {
            platform_id: self.platform.clone(),
            mode: Mode::Test,
        }
    }

    /// `POST /v2/business_customer` with a JSON body, this app's key and a fresh idempotency key.
    pub async fn create(&self, body: &Value) -> reqwest::Response {
        self.create_as(&self.key, &new_idempotency_key(), &body.to_string())
            .await
    }

    pub async fn create_as(
        &self,
        key: &str,
        idempotency_key: &str,
        body: &str,
    ) -> reqwest::Response {
        self.client
            .post(self.url("/v2/business_customer"))
            .header("ngnc-sec-key", key)
            .header("idempotency-key", idempotency_key)
            .header("content-type", "application/json")
            .body(body.to_owned())
            .send()
            .await
            .unwrap()
    }

    /// Creates a customer and returns its id.
    pub async fn create_customer(&self) -> String {
        let r = self.create(&body_with_email(&unique_email())).await;
        assert_eq!(r.status(), 200);
        let v: Value = r.json().await.unwrap();
        v["customer_id"].as_str().unwrap().to_owned()
    }

    /// A POST with a JSON body, this app's key and a fresh idempotency key.
    pub async fn post_json(&self, path: &str, body: &Value) -> reqwest::Response {
        self.post_json_as(&self.key, path, body).await
    }

    pub async fn delete(&self, path: &str) -> reqwest::Response {
        self.client
            .delete(self.url(path))
            .header("ngnc-sec-key", &self.key)
            .send()
            .await
            .unwrap()
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.get_as(&self.key, path).await
    }

    pub async fn get_as(&self, key: &str, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .header("ngnc-sec-key", key)
            .send()
            .await
            .unwrap()
    }

    pub async fn issue_link_as(&self, key: &str, customer_id: &str) -> reqwest::Response {
        self.client
            .post(self.url(&format!("/v2/business_customer/{customer_id}/kyb_link")))
            .header("ngnc-sec-key", key)
            .header("idempotency-key", new_idempotency_key())
            .send()
            .await
            .unwrap()
    }

    /// A GET with this app's key whose answer is 200 and JSON.
    pub async fn get_json(&self, path: &str) -> Value {
        let r = self.get(path).await;
        assert_eq!(r.status(), 200, "GET {path}");
        r.json().await.unwrap()
    }

    /// A new live-mode key of this app's platform.
    pub async fn live_key(&self) -> String {
        create_key(&self.state.store, &self.clock, &self.platform, Mode::Live).await
    }

    /// A POST with a JSON body, `key` and a fresh idempotency key.
    pub async fn post_json_as(&self, key: &str, path: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .header("ngnc-sec-key", key)
            .header("idempotency-key", new_idempotency_key())
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// The platform's newest audit row, as `GET /v2/audit_logs` lists it.
    pub async fn newest_audit_row(&self) -> Value {
        self.get_json("/v2/audit_logs?limit=1").await["data"][0].clone()
    }

    /// The action of the platform's newest audit row.
    pub async fn newest_audit_action(&self) -> Value {
        self.newest_audit_row().await["action"].clone()
    }

    pub async fn customer_count(&self) -> i64 {
        self.state
            .store
            .count_customers(&self.scope())
            .await
            .unwrap()
    }
}

/// Asserts the error shape of DESIGN.md and returns the `error` object.
pub async fn assert_error(r: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(r.status().as_u16(), status, "status");
    let header_id = r
        .headers()
        .get("x-request-id")
        .expect("x-request-id header")
        .to_str()
        .unwrap()
        .to_owned();
    let v: Value = r.json().await.expect("error body is JSON");
    assert_eq!(v["status"], "error", "{v}");
    assert_eq!(v["error"]["code"], code, "{v}");
    assert!(v["error"]["type"].is_string(), "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{v}"
    );
    assert_eq!(
        v["request_id"],
        header_id.as_str(),
        "request_id matches x-request-id"
    );
    assert!(header_id.starts_with("req_"));
    v["error"].clone()
}

/// The OFAC SDN list of `testdata/ofac/sdn-{date}.csv`, parsed.
pub fn sdn_entries(date: &str) -> Vec<kyb_screening::ListEntry> {
    let path = format!(
        "{}/../../testdata/ofac/sdn-{date}.csv",
        env!("CARGO_MANIFEST_DIR")
    );
    kyb_screening::lists::ofac::parse_main(&std::fs::read(path).unwrap()).unwrap()
}

impl TestApp {
    /// Imports `entries` as the OFAC SDN version of `date`; how many customers it queued for
    /// re-screening.
    pub async fn import_sdn(&self, date: &str, entries: &[kyb_screening::ListEntry]) -> u64 {
        match self
            .state
            .store
            .import_sanctions(
                "ofac-sdn",
                date,
                &format!("sha-{date}"),
                entries,
                self.clock.now(),
            )
            .await
            .unwrap()
        {
            kyb_store::Imported::New(_, rescreens) => rescreens,
            kyb_store::Imported::AlreadyImported(_) => {
                panic!("the version of {date} imported twice")
            }
        }
    }

    /// Imports the OFAC SDN file of `date` from `testdata`.
    pub async fn import_list(&self, date: &str) -> u64 {
        self.import_sdn(date, &sdn_entries(date)).await
    }
}

impl TestApp {
    /// Runs SQL straight on the database, for states the API cannot reach yet.
    pub async fn exec(&self, sql: &str) {
        if let Some(b) = self.state.store.as_sqlite() {
            sqlx::query(sql).execute(b.pool()).await.unwrap();
        } else if let Some(b) = self.state.store.as_postgres() {
            sqlx::query(sql).execute(b.pool()).await.unwrap();
        }
    }

    /// Reads one text column of a query straight from the database.
    pub async fn dump(&self, sql: &str) -> Vec<String> {
        if let Some(b) = self.state.store.as_sqlite() {
            sqlx::query_scalar(sql).fetch_all(b.pool()).await.unwrap()
        } else if let Some(b) = self.state.store.as_postgres() {
            sqlx::query_scalar(sql).fetch_all(b.pool()).await.unwrap()
        } else {
            unreachable!("two backends")
        }
    }
}

/// The CSRF token of the first form of a page.
pub fn csrf_of(html: &str) -> String {
    let at = html
        .find("name=\"csrf\" value=\"")
        .expect("a form with a CSRF token")
        + 19;
    html[at..at + html[at..].find('"').unwrap()].to_owned()
}

/// Where a response redirects to, if anywhere.
pub fn location_of(r: &reqwest::Response) -> Option<String> {
    r.headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned())
}
