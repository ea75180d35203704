//! The `kyb` binary as an operator uses it: platforms, keys, migrations, and `serve` answering the
//! README walkthrough and stopping cleanly on SIGTERM. On SQLite and on PostgreSQL.

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};

struct Kyb {
    dir: tempfile::TempDir,
    database_url: String,
    _pg: Option<kyb_testkit::PgDatabase>,
}

impl Kyb {
    fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let database_url = format!("sqlite://{}", dir.path().join("kyb.db").display());
        Self {
            dir,
            database_url,
            _pg: None,
        }
    }

    async fn postgres() -> Option<Self> {
        let pg = kyb_testkit::postgres_database().await?;
        Some(Self {
            dir: tempfile::tempdir().unwrap(),
            database_url: pg.url().to_owned(),
            _pg: Some(pg),
        })
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_kyb"));
        cmd.current_dir(self.dir.path())
            .arg("--data-dir")
            .arg(self.dir.path().join("data"))
            .arg("--database-url")
            .arg(&self.database_url);
        for (k, _) in std::env::vars() {
            if k.starts_with("KYB_") {
                cmd.env_remove(k);
            }
        }
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command().args(args).output().unwrap()
    }

    fn json(&self, args: &[&str]) -> Value {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "kyb {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("kyb {args:?} printed no JSON ({e})"))
    }

    /// Starts `kyb serve` on a free port; returns the child, its base URL and its log so far.
    fn serve(&self) -> (Child, String, Log) {
        self.serve_with(&[])
    }

    fn serve_with(&self, env: &[(&str, &str)]) -> (Child, String, Log) {
        let mut child = self
            .command()
            .args(["serve", "--listen", "127.0.0.1:0"])
            .envs(env.iter().copied())
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        // Read the log on a thread of its own (it keeps draining so the child never blocks on a
        // full pipe) and wait, bounded, for the line that says where it listens.
        let stderr = BufReader::new(child.stderr.take().unwrap());
        let log = Log::default();
        let (tx, rx) = std::sync::mpsc::channel();
        let lines = log.clone();
        std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                if let Some(rest) = line.split("address=").nth(1) {
                    let _ = tx.send(
                        rest.split_whitespace()
                            .next()
                            .unwrap_or_default()
                            .to_owned(),
                    );
                }
                lines.0.lock().unwrap().push(line);
            }
            lines.1.store(true, std::sync::atomic::Ordering::SeqCst);
        });
        match rx.recv_timeout(std::time::Duration::from_secs(60)) {
            Ok(addr) => (child, format!("http://{addr}"), log),
            Err(_) => {
                let _ = child.kill();
                panic!("kyb serve did not report its address within 60 s");
            }
        }
    }
}

/// The lines a running `kyb serve` has logged, and whether its log has ended (the process
/// closed it).
#[derive(Clone, Default)]
struct Log(
    std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    std::sync::Arc<std::sync::atomic::AtomicBool>,
);

impl Log {
    /// Waits (bounded) until every line the stopped process wrote has been read: the process
    /// may exit before its last lines leave the pipe.
    fn read_to_end(&self) {
        for _ in 0..600 {
            if self.1.load(std::sync::atomic::Ordering::SeqCst) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("the log of kyb serve did not end within 30 s of its exit");
    }

    fn contains(&self, needle: &str) -> bool {
        self.0.lock().unwrap().iter().any(|l| l.contains(needle))
    }
}

fn seed_body() -> String {
    let seed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/seed/create-business-customer.txt"
    ))
    .unwrap();
    let start = seed.find("Example Request").unwrap();
    let open = start + seed[start..].find('{').unwrap();
    let close = open + seed[open..].find('}').unwrap();
    seed[open..=close].to_owned()
}

fn stop(mut child: Child) -> std::process::ExitStatus {
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    child.wait().unwrap()
}

macro_rules! both_databases {
    ($name:ident, |$kyb:ident| $body:expr) => {
        mod $name {
            use super::*;

            #[tokio::test]
            async fn sqlite() {
                let $kyb = Kyb::sqlite();
                $body.await
            }

            #[tokio::test]
            async fn postgres() {
                let Some($kyb) = Kyb::postgres().await else {
                    return;
                };
                $body.await
            }
        }
    };
}

both_databases!(platforms_and_keys, |kyb| async move {
    let created = kyb.json(&["platform", "create", "--name", "Acme", "--json"]);
    let platform = created["platform_id"].as_str().unwrap().to_owned();
    assert!(platform.starts_with("plat_"));
    let test_key = created["api_key"].as_str().unwrap().to_owned();
    assert!(test_key.starts_with("sk_test_"), "{test_key}");

    let live = kyb.json(&["platform", "create", "--name", "Beta", "--live", "--json"]);
    assert!(live["api_key"].as_str().unwrap().starts_with("sk_live_"));
    let platforms = kyb.json(&["platform", "list", "--json"]);
    assert_eq!(platforms.as_array().unwrap().len(), 2);

    let key = kyb.json(&["key", "create", "--platform", &platform, "--live", "--json"]);
    assert!(key["api_key"].as_str().unwrap().starts_with("sk_live_"));
    let key_id = key["key_id"].as_str().unwrap().to_owned();

    let keys = kyb.json(&["key", "list", "--platform", &platform, "--json"]);
    let listed = keys.to_string();
    assert_eq!(keys.as_array().unwrap().len(), 2);
    assert!(!listed.contains(&test_key), "listing never shows a secret");
    assert!(!listed.contains(key["api_key"].as_str().unwrap()));

    let revoked = kyb.json(&["key", "revoke", &key_id, "--json"]);
    assert!(revoked["revoked_at"].is_string());

    let out = kyb.run(&["key", "revoke", "key_doesnotexist"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no API key with id key_doesnotexist"));
    let out = kyb.run(&["key", "create", "--platform", "plat_doesnotexist"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no platform with id plat_doesnotexist"));

    assert!(kyb
        .run(&["platform", "deactivate", &platform])
        .status
        .success());
    let listed = kyb.json(&["platform", "list", "--json"]);
    let p = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == platform.as_str())
        .unwrap();
    assert_eq!(p["active"], false);
    assert!(kyb
        .run(&["platform", "activate", &platform])
        .status
        .success());
    assert!(!kyb
        .run(&["platform", "deactivate", "plat_doesnotexist"])
        .status
        .success());

    // Policies: several at once, each said back; a lifetime out of range or no policy at all is
    // refused with the option named.
    let out = kyb.run(&[
        "platform",
        "policy",
        &platform,
        "--auto-approve",
        "on",
        "--link-ttl",
        "3d",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("approved automatically"), "{said}");
    assert!(said.contains("new links last 3days"), "{said}");
    let out = kyb.run(&["platform", "policy", &platform, "--link-ttl", ""]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("the service's KYB_LINK_TTL"));
    for (args, says) in [
        (
            vec!["--link-ttl", "2m"],
            "--link-ttl must be 5 minutes to 30 days",
        ),
        (vec!["--link-ttl", "soon"], "is not a duration"),
        (vec![], "nothing to change"),
    ] {
        let mut all = vec!["platform", "policy", platform.as_str()];
        all.extend(args);
        let out = kyb.run(&all);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{err}");
    }

    assert!(
        kyb.run(&["migrate"]).status.success(),
        "migrating twice is harmless"
    );
});

both_databases!(
    serve_runs_the_walkthrough_and_stops_on_sigterm,
    |kyb| async move {
        let created = kyb.json(&["platform", "create", "--name", "Acme", "--json"]);
        let key = created["api_key"].as_str().unwrap().to_owned();
        let (child, base, log) = kyb.serve();
        let client = reqwest::Client::new();
        let r = client
            .post(format!("{base}/v2/business_customer"))
            .header("ngnc-sec-key", &key)
            .header("idempotency-key", "walkthrough-1")
            .header("content-type", "application/json")
            .body(seed_body())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let request_id = r.headers()["x-request-id"].to_str().unwrap().to_owned();
        let v: Value = r.json().await.unwrap();
        assert!(
            v["kyb_link"]
                .as_str()
                .unwrap()
                .starts_with(&format!("{base}/kyb/")),
            "public_url follows --listen"
        );

        // A key revoked from the shell while the service runs is refused at once.
        let keys = kyb.json(&["key", "list", "--json"]);
        let key_id = keys[0]["id"].as_str().unwrap().to_owned();
        assert!(kyb.run(&["key", "revoke", &key_id]).status.success());
        let r = client
            .get(format!("{base}/v2/business_customer"))
            .header("ngnc-sec-key", &key)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
        let refused_id = r.headers()["x-request-id"].to_str().unwrap().to_owned();

        let status = tokio::task::spawn_blocking(move || stop(child))
            .await
            .unwrap();
        assert!(
            status.success(),
            "kyb serve exits 0 after SIGTERM: {status:?}"
        );
        log.read_to_end();
        for id in [&request_id, &refused_id] {
            assert!(log.contains(id), "request {id} is in the log");
        }
        assert!(log.contains("kyb stopped"));
        assert!(!log.contains(&key), "the API key is never logged");
    }
);

both_databases!(settings_layer_file_then_environment, |kyb| async move {
    let created = kyb.json(&["platform", "create", "--name", "Acme", "--json"]);
    let key = created["api_key"].as_str().unwrap().to_owned();
    std::fs::write(
        kyb.dir.path().join("kyb.toml"),
        "public_url = \"https://kyb.example.com/\"\nlink_ttl = \"2d\"\n",
    )
    .unwrap();
    // The environment wins over the file.
    let (child, base, _log) = kyb.serve_with(&[("KYB_LINK_TTL", "3d")]);
    let before = chrono::Utc::now();
    let r = reqwest::Client::new()
        .post(format!("{base}/v2/business_customer"))
        .header("ngnc-sec-key", &key)
        .header("idempotency-key", "layers-1")
        .header("content-type", "application/json")
        .body(seed_body())
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    let after = chrono::Utc::now();
    assert!(
        v["kyb_link"]
            .as_str()
            .unwrap()
            .starts_with("https://kyb.example.com/kyb/"),
        "{v}"
    );
    // Expiry is the request's time plus 3 days, in whole seconds (rounded down).
    let expires: chrono::DateTime<chrono::Utc> =
        v["link_expires_at"].as_str().unwrap().parse().unwrap();
    let three_days = chrono::Duration::days(3);
    assert!(
        expires > before + three_days - chrono::Duration::seconds(1)
            && expires <= after + three_days,
        "expires {expires}, asked between {before} and {after}"
    );
    let status = tokio::task::spawn_blocking(move || stop(child))
        .await
        .unwrap();
    assert!(status.success());
});

both_databases!(audit_verify_and_export, |kyb| async move {
    let created = kyb.json(&["platform", "create", "--name", "Acme", "--json"]);
    let platform = created["platform_id"].as_str().unwrap().to_owned();
    kyb.json(&["key", "create", "--platform", &platform, "--json"]);
    // Written, not sealed yet (the service seals every few seconds; it is not running).
    let out = kyb.run(&["audit", "verify"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout)
        .contains(&format!("{platform}: ok, 0 rows in the tree (0 of them from the old chain), 0 signed checkpoints, 3 not sealed yet")));
    let out = kyb.run(&["audit", "seal"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("{platform}: 3 rows, root ")));
    let out = kyb.run(&["audit", "verify"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!(
        "{platform}: ok, 3 rows in the tree (0 of them from the old chain), 1 signed checkpoints\n"
    )));

    let file = kyb.dir.path().join("audit.jsonl");
    assert!(kyb
        .run(&["audit", "export", "--output", file.to_str().unwrap()])
        .status
        .success());
    let lines: Vec<Value> = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let actions: Vec<&str> = lines
        .iter()
        .map(|l| l["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["platform.created", "api_key.created", "api_key.created"]
    );
    assert_eq!(
        lines
            .iter()
            .map(|l| l["platform_seq"].clone())
            .collect::<Vec<_>>(),
        [1, 2, 3]
    );

    // Edit a row behind kyb's back: verify fails and names it.
    let sql = format!("UPDATE audit_log SET action = 'api_key.revoked' WHERE platform_id = '{platform}' AND platform_seq = 2");
    tamper(&kyb, &sql).await;
    let out = kyb.run(&["audit", "verify"]);
    assert!(!out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("{platform}: BROKEN: row 2 ("))
            && stdout.contains("does not match its leaf in the tree: it was edited"),
        "{stdout}"
    );
});

both_databases!(no_link_token_at_rest_or_in_the_log, |kyb| async move {
    let created = kyb.json(&["platform", "create", "--name", "Acme", "--json"]);
    let key = created["api_key"].as_str().unwrap().to_owned();
    let (child, base, log) = kyb.serve_with(&[(
        "RUST_LOG",
        "info,kyb=debug,kyb_server=debug,kyb_store=debug",
    )]);
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let post = |path: &str, idem: &str, body: String| {
        client
            .post(format!("{base}{path}"))
            .header("ngnc-sec-key", &key)
            .header("idempotency-key", idem)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let token_of = |body: &Value| {
        let link = body["kyb_link"].as_str().unwrap();
        link.rsplit_once("/kyb/").unwrap().1.to_owned()
    };

    // Create, replay (the exact bytes come back), then issue a second link.
    let first = post("/v2/business_customer", "at-rest-1", seed_body())
        .await
        .unwrap();
    assert_eq!(first.status(), 200);
    let first_bytes = first.bytes().await.unwrap();
    let replay = post("/v2/business_customer", "at-rest-1", seed_body())
        .await
        .unwrap();
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    assert_eq!(
        replay.bytes().await.unwrap(),
        first_bytes,
        "a replay is byte for byte"
    );
    let first: Value = serde_json::from_slice(&first_bytes).unwrap();
    let customer = first["customer_id"].as_str().unwrap().to_owned();
    let old_token = token_of(&first);
    assert_eq!(old_token.len(), 43);
    let second: Value = post(
        &format!("/v2/business_customer/{customer}/kyb_link"),
        "at-rest-2",
        "{}".into(),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let token = token_of(&second);

    // The customer opens the link and starts a session.
    let page = client
        .get(format!("{base}/kyb/{token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let start_cookie = format!("kyb_start={}", set_cookie(&page, "kyb_start"));
    let html = page.text().await.unwrap();
    let csrf = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_owned();
    let started = client
        .post(format!("{base}/kyb/{token}/start"))
        .header("cookie", &start_cookie)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert!(started.status().is_redirection(), "{}", started.status());
    let session = set_cookie(&started, "kyb_session");

    // The platform still sees its links in full: events carry them as delivered.
    let events: Value = client
        .get(format!("{base}/v2/events?limit=100"))
        .header("ngnc-sec-key", &key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let links: Vec<&str> = events["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["data"]["object"]["kyb_link"].as_str())
        .collect();
    assert!(links.iter().any(|l| l.ends_with(&old_token)), "{events}");
    assert!(links.iter().any(|l| l.ends_with(&token)), "{events}");

    let status = tokio::task::spawn_blocking(move || stop(child))
        .await
        .unwrap();
    assert!(status.success());
    log.read_to_end();

    // Nothing at rest and nothing logged holds a token or the session id.
    let dump = dump_database(&kyb).await;
    assert!(dump.len() > 1000, "the dump read the tables");
    assert!(
        log.contains("/kyb/{token}"),
        "the start page's request is logged, redacted"
    );
    for (what, secret) in [
        ("first link token", &old_token),
        ("second link token", &token),
        ("session id", &session),
    ] {
        for form in [secret.clone(), hex_of(secret)] {
            assert!(
                !dump.contains(&form),
                "the {what} is stored in the database"
            );
            assert!(!log.contains(&form), "the {what} is in the log");
        }
    }
});

/// The value of the cookie `name` that a response sets.
fn set_cookie(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next()?.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
        .unwrap_or_else(|| panic!("the response sets {name}"))
}

fn hex_of(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

/// Every row of every table, as text (PostgreSQL shows `bytea` in hex).
async fn dump_database(kyb: &Kyb) -> String {
    use sqlx::{Connection, Row};
    let mut out = String::new();
    if kyb.database_url.starts_with("sqlite:") {
        let mut c = sqlx::SqliteConnection::connect(&kyb.database_url)
            .await
            .unwrap();
        let tables: Vec<String> =
            sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table'")
                .fetch_all(&mut c)
                .await
                .unwrap();
        for table in tables {
            let columns: Vec<String> =
                sqlx::query_scalar(&format!("SELECT name FROM pragma_table_info('{table}')"))
                    .fetch_all(&mut c)
                    .await
                    .unwrap();
            for column in columns {
                let rows = sqlx::query(&format!(
                    "SELECT CAST(\"{column}\" AS BLOB) FROM \"{table}\""
                ))
                .fetch_all(&mut c)
                .await
                .unwrap();
                for row in rows {
                    let v: Option<Vec<u8>> = row.get(0);
                    out.push_str(&String::from_utf8_lossy(&v.unwrap_or_default()));
                    out.push('\n');
                }
            }
        }
    } else {
        let mut c = sqlx::PgConnection::connect(&kyb.database_url)
            .await
            .unwrap();
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'",
        )
        .fetch_all(&mut c)
        .await
        .unwrap();
        for table in tables {
            let rows: Vec<String> =
                sqlx::query_scalar(&format!("SELECT CAST(t AS TEXT) FROM \"{table}\" t"))
                    .fetch_all(&mut c)
                    .await
                    .unwrap();
            for row in rows {
                out.push_str(&row);
                out.push('\n');
            }
        }
    }
    out
}

/// Runs SQL on the database directly, as an attacker with database access would.
async fn tamper(kyb: &Kyb, sql: &str) {
    use sqlx::Connection;
    if kyb.database_url.starts_with("sqlite:") {
        let mut c = sqlx::SqliteConnection::connect(&kyb.database_url)
            .await
            .unwrap();
        sqlx::query(sql).execute(&mut c).await.unwrap();
    } else {
        let mut c = sqlx::PgConnection::connect(&kyb.database_url)
            .await
            .unwrap();
        sqlx::query(sql).execute(&mut c).await.unwrap();
    }
}

#[test]
fn a_wrong_setting_is_named_at_start() {
    let kyb = Kyb::sqlite();
    let out = kyb
        .command()
        .args(["serve"])
        .env("KYB_LINK_TTL", "soon")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("link_ttl = \"soon\" is not a duration"),
        "{stderr}"
    );
    let out = kyb
        .command()
        .args(["serve", "--listen", "nowhere"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("listen = \"nowhere\""));
}

#[test]
fn the_default_data_dir_is_kyb_data_under_the_working_directory() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kyb"))
        .current_dir(dir.path())
        .args(["platform", "create", "--name", "Acme", "--json"])
        .env_remove("KYB_DATABASE_URL")
        .env_remove("KYB_DATA_DIR")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.path().join("kyb-data/kyb.db").exists());
}

/// Kills `kyb serve` with SIGKILL in the middle of a burst of webhook deliveries: after a
/// restart, every event reaches the receiver at least once, in order per customer.
async fn killed_mid_burst(kyb: Kyb) {
    use kyb_testkit::receiver::{Receiver, Reply};
    use std::collections::{HashMap, HashSet};
    use std::time::Duration;

    const CUSTOMERS: usize = 30;
    let key = kyb.json(&["platform", "create", "--name", "Acme", "--json"])["api_key"]
        .as_str()
        .unwrap()
        .to_owned();
    let receiver = Receiver::start().await;
    receiver.reply_always(Reply::status(200).after(Duration::from_millis(150)));
    let env = [
        ("KYB_WEBHOOKS_ALLOW_INSECURE", "true"),
        ("KYB_WEBHOOKS_TIMEOUT", "2s"),
        ("KYB_WEBHOOKS_LEASE", "3s"),
        ("KYB_WEBHOOKS_CONCURRENCY", "4"),
        ("KYB_WEBHOOKS_RETRY_SCHEDULE", "0s,1s,1s,1s,1s,1s,1s,1s"),
    ];
    let (child, base, log) = kyb.serve_with(&env);
    let http = reqwest::Client::new();
    let post = |path: &str, body: serde_json::Value| {
        http.post(format!("{base}{path}"))
            .header("ngnc-sec-key", &key)
            .header("idempotency-key", format!("k{}", rand_suffix()))
            .json(&body)
            .send()
    };
    let r = post(
        "/v2/webhook_endpoints",
        serde_json::json!({ "url": receiver.url() }),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let mut customers = Vec::new();
    for i in 0..CUSTOMERS {
        let r = post(
            "/v2/business_customer",
            serde_json::json!({
                "business_name": format!("Burst {i} Ltd"),
                "business_email": format!("burst{i}@acme.example"),
                "phone_number": "+1-555-0123",
                "registered_address": "1 Main Street, New York",
                "registered_country": "USA"
            }),
        )
        .await
        .unwrap();
        assert_eq!(r.status(), 200);
        let v: Value = r.json().await.unwrap();
        customers.push(v["customer_id"].as_str().unwrap().to_owned());
    }
    receiver.wait_for_hits(8, Duration::from_secs(60)).await;
    assert!(
        log.contains("KYB_WEBHOOKS_ALLOW_INSECURE is on"),
        "the insecure setting is warned about at start"
    );
    let mut child = child;
    child.kill().unwrap();
    child.wait().unwrap();
    let before = receiver.hits().len();
    assert!(
        before < 2 * CUSTOMERS,
        "killed in the middle of the burst ({before} sent)"
    );

    let (child, base, _) = kyb.serve_with(&env);
    let mut events: Vec<(String, String)> = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut url = format!("{base}/v2/events?limit=100");
        if let Some(a) = &after {
            url.push_str(&format!("&starting_after={a}"));
        }
        let page: Value = http
            .get(url)
            .header("ngnc-sec-key", &key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for e in page["data"].as_array().unwrap() {
            let customer = e["data"]["object"]["customer_id"].as_str().unwrap();
            events.push((customer.to_owned(), e["id"].as_str().unwrap().to_owned()));
        }
        after = events.last().map(|(_, id)| id.clone());
        if page["has_more"] != true {
            break;
        }
    }
    events.reverse(); // oldest first
    assert_eq!(events.len(), 2 * CUSTOMERS);
    let wanted: HashSet<&str> = events.iter().map(|(_, id)| id.as_str()).collect();
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    loop {
        let got: HashSet<String> = receiver
            .hits()
            .iter()
            .map(|h| h.header("webhook-id").to_owned())
            .collect();
        if wanted.iter().all(|id| got.contains(*id)) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "after the restart {} of {} events arrived",
            wanted.iter().filter(|id| got.contains(**id)).count(),
            wanted.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // In order per customer: the first arrival of each event follows the order of events.
    let mut first_seen: HashMap<String, Vec<String>> = HashMap::new();
    let mut seen = HashSet::new();
    for h in receiver.hits() {
        let id = h.header("webhook-id").to_owned();
        if seen.insert(id.clone()) {
            let customer = h.json()["data"]["object"]["customer_id"]
                .as_str()
                .unwrap()
                .to_owned();
            first_seen.entry(customer).or_default().push(id);
        }
    }
    for c in &customers {
        let expected: Vec<String> = events
            .iter()
            .filter(|(customer, _)| customer == c)
            .map(|(_, id)| id.clone())
            .collect();
        assert_eq!(first_seen[c], expected, "{c}");
    }
    assert!(stop(child).success());
}

fn rand_suffix() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_burst_sqlite() {
    killed_mid_burst(Kyb::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_burst_postgres() {
    if let Some(kyb) = Kyb::postgres().await {
        killed_mid_burst(kyb).await;
    }
}

const OFAC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/ofac");
const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata");

both_databases!(every_list_imports_and_screens, |kyb| async move {
    // The SDN publication as a folder of four files, the consolidated list likewise, the UN XML.
    let sdn = kyb.json(&[
        "sanctions",
        "import",
        "--source",
        "ofac-sdn",
        "--date",
        "2024-01-15",
        &format!("{DATA}/ofac/older-package"),
        "--json",
    ]);
    assert_eq!(sdn["entry_count"], 7379);
    assert!(
        sdn["alias_count"].as_i64().unwrap() > 10_000,
        "alt.csv's aliases: {sdn}"
    );
    // This sample's companions also cover entries its sdn.csv does not have: counted, not fatal.
    assert_eq!(sdn["unmatched_rows"]["sdn_comments.csv"], 10, "{sdn}");
    assert_eq!(sdn["unmatched_rows"]["alt.csv"], 7698);
    assert_eq!(sdn["unmatched_rows"]["add.csv"], 9121);
    let cons = kyb.json(&[
        "sanctions",
        "import",
        "--source",
        "ofac-consolidated",
        "--date",
        "2025-12-01",
        &format!("{DATA}/ofac-consolidated/2025-12"),
        "--json",
    ]);
    assert_eq!(cons["entry_count"], 442);
    let un = kyb.json(&[
        "sanctions",
        "import",
        "--source",
        "un-consolidated",
        &format!("{DATA}/un/consolidated-2026-02-27.xml"),
        "--json",
    ]);
    assert_eq!(un["entry_count"], 1003);
    assert_eq!(un["list_date"], "2026-02-27", "the XML's own date");
    // A folder without its main file, and a consolidated folder without a date, are refused.
    let out = kyb.run(&[
        "sanctions",
        "import",
        "--source",
        "ofac-consolidated",
        "--date",
        "2025-12-01",
        &format!("{DATA}/ofac/older-package"),
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("cons_prim.csv"));
    let out = kyb.run(&[
        "sanctions",
        "import",
        "--source",
        "ofac-consolidated",
        &format!("{DATA}/ofac-consolidated/2025-12"),
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--date"));
    // A broken companion file fails the whole import, naming the file and line.
    let broken = kyb.dir.path().join("broken-package");
    std::fs::create_dir_all(&broken).unwrap();
    for f in ["sdn.csv", "add.csv", "sdn_comments.csv"] {
        std::fs::copy(format!("{DATA}/ofac/older-package/{f}"), broken.join(f)).unwrap();
    }
    std::fs::write(
        broken.join("alt.csv"),
        "36,12,\"aka\",\"AERO-CARIBBEAN\",-0- \r\n36,13,\"alias\"\r\n",
    )
    .unwrap();
    let out = kyb.run(&[
        "sanctions",
        "import",
        "--source",
        "ofac-sdn",
        "--date",
        "2024-02-01",
        broken.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("alt.csv") && err.contains("line 2"),
        "{err}"
    );
    let broken_xml = kyb.dir.path().join("un.xml");
    std::fs::write(&broken_xml, "<CONSOLIDATED_LIST><INDIVIDUALS><INDIVIDUAL><FIRST_NAME>X</FIRST_NAME></INDIVIDUAL></INDIVIDUALS></CONSOLIDATED_LIST>").unwrap();
    let out = kyb.run(&[
        "sanctions",
        "import",
        "--source",
        "un-consolidated",
        "--date",
        "2026-03-01",
        broken_xml.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("INDIVIDUAL at line 1") && err.contains("REFERENCE_NUMBER"),
        "{err}"
    );
    let lists = kyb.json(&["sanctions", "lists", "--json"]);
    assert_eq!(
        lists.as_array().unwrap().len(),
        3,
        "nothing of the broken files was stored: {lists}"
    );

    // Screening uses every list; each hit names its list and the entry's own id.
    let names = kyb.dir.path().join("subjects.jsonl");
    std::fs::write(
        &names,
        concat!(
            "{\"name\": \"Saddam Hussein al-Tikriti\", \"kind\": \"person\", \"dob\": \"1937\", \"country\": \"IRQ\"}\n",
            "{\"name\": \"صدام حسين التكريتي\"}\n",
            "Ismail Haniya\n",
            "{\"name\": \"Saddam Hussein al-Tikriti\", \"dob\": \"1990-01-01\"}\n",
        ),
    )
    .unwrap();
    let out = kyb.run(&[
        "sanctions",
        "screen",
        "--file",
        names.to_str().unwrap(),
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let un_hit = lines[0]["hits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["list"] == "un-consolidated")
        .expect("a UN hit");
    assert_eq!(un_hit["entry_id"], "IQi.001");
    assert_eq!(un_hit["dob"]["verdict"], "agrees");
    assert_eq!(un_hit["country"]["verdict"], "agrees");
    assert!(un_hit["explanation"]["words"].as_array().unwrap().len() >= 3);
    assert!(
        lines[1]["hits"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["entry_id"] == "IQi.001"),
        "original script: {}",
        lines[1]
    );
    assert!(
        lines[2]["hits"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["list"] == "ofac-consolidated" && h["ent_num"].is_number()),
        "consolidated: {}",
        lines[2]
    );
    let young = lines[3]["hits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["entry_id"] == "IQi.001")
        .unwrap();
    assert_eq!(young["likely_false_positive"], true);
    assert_eq!(young["dob"]["verdict"], "contradicts");
    // The same from the command line, and its flags checked.
    let out = kyb.run(&[
        "sanctions",
        "screen",
        "Saddam Hussein al-Tikriti",
        "--dob",
        "1937",
        "--country",
        "IRQ",
        "--kind",
        "person",
    ]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("IQi.001"));
    let out = kyb.run(&[
        "sanctions",
        "screen",
        "Saddam Hussein",
        "--dob",
        "1937-13-01",
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--dob"));
    let out = kyb.run(&["sanctions", "screen", "Saddam Hussein", "--country", "Iraq"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("alpha-3"));
});

both_databases!(sanctions_import_and_screen, |kyb| async move {
    // Imported newest first: the current version is still the one with the later date.
    let newer = kyb.json(&[
        "sanctions",
        "import",
        "--source",
        "ofac-sdn",
        &format!("{OFAC}/sdn-2024-05-03.csv"),
        "--json",
    ]);
    assert_eq!(newer["list_date"], "2024-05-03");
    assert_eq!(newer["entry_count"], 14965);
    assert_eq!(newer["already_imported"], false);
    let older = kyb.json(&[
        "sanctions",
        "import",
        "--source",
        "ofac-sdn",
        &format!("{OFAC}/sdn-2024-04-26.csv"),
        "--json",
    ]);
    assert_eq!(older["entry_count"], 14668);
    let again = kyb.json(&[
        "sanctions",
        "import",
        "--source",
        "ofac-sdn",
        &format!("{OFAC}/sdn-2024-04-26.csv"),
        "--json",
    ]);
    assert_eq!(again["already_imported"], true);
    assert_eq!(again["id"], older["id"]);

    // A bad file names its line and changes nothing.
    let bad = kyb.dir.path().join("broken.csv");
    let good = std::fs::read_to_string(format!("{OFAC}/sdn-2024-05-03.csv")).unwrap();
    let mut lines: Vec<&str> = good.lines().take(100).collect();
    lines[41] = "9999999,\"HALF A ROW\",-0- ";
    std::fs::write(&bad, lines.join("\n")).unwrap();
    let out = kyb.run(&[
        "sanctions",
        "import",
        "--source",
        "ofac-sdn",
        "--date",
        "2024-06-01",
        bad.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("line 42") && err.contains("3 columns"),
        "{err}"
    );
    let out = kyb.run(&[
        "sanctions",
        "import",
        "--source",
        "ofac-sdn",
        bad.to_str().unwrap(),
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--date"));
    let out = kyb.run(&[
        "sanctions",
        "import",
        "--source",
        "un",
        "--date",
        "2024-06-01",
        bad.to_str().unwrap(),
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("ofac-sdn"));
    let lists = kyb.json(&["sanctions", "lists", "--json"]);
    assert_eq!(lists.as_array().unwrap().len(), 2, "{lists}");
    assert_eq!(lists[0]["list_date"], "2024-05-03");

    // Screening: one name, and a file of names as JSON lines.
    let out = kyb.run(&["sanctions", "screen", "Banco Nacionl de Cuba"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("#306 BANCO NACIONAL DE CUBA"), "{text}");
    let names = kyb.dir.path().join("names.txt");
    std::fs::write(&names, "BNC\n\nApple Inc.\nNasrallah, Hasan\n").unwrap();
    let out = kyb.run(&[
        "sanctions",
        "screen",
        "--file",
        names.to_str().unwrap(),
        "--json",
    ]);
    assert!(out.status.success());
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "one line per name, blank lines skipped");
    assert_eq!(lines[0]["name"], "BNC");
    let hit = &lines[0]["hits"][0];
    assert_eq!(hit["ent_num"], 306);
    assert_eq!(hit["matched"], "BNC");
    assert_eq!(hit["matched_kind"], "aka");
    assert_eq!(hit["entry_id"], "306");
    assert!(hit["explanation"]["words"].is_array());
    assert_eq!(hit["list"], "ofac-sdn");
    assert_eq!(hit["list_date"], "2024-05-03");
    assert_eq!(hit["score"], 1.0);
    assert_eq!(lines[1]["hits"], serde_json::json!([]));
    assert_eq!(lines[2]["hits"][0]["type"], "individual");
});

both_databases!(operator_accounts, |kyb| async move {
    let out = kyb.run(&[
        "operator",
        "create",
        "--email",
        "Ana@YourCo.example",
        "--role",
        "reviewer",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("operator ana@yourco.example (reviewer) created"),
        "{text}"
    );
    let password = text
        .lines()
        .find_map(|l| l.strip_prefix("password: "))
        .expect("a generated password, shown once");
    assert!(password.len() >= 12);
    let again = kyb.run(&[
        "operator",
        "create",
        "--email",
        "ana@yourco.example",
        "--role",
        "admin",
    ]);
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    let bad = kyb.run(&[
        "operator",
        "create",
        "--email",
        "not-an-address",
        "--role",
        "admin",
    ]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("not an e-mail address"));

    let listed = kyb.json(&["operator", "list", "--json"]);
    assert_eq!(listed[0]["email"], "ana@yourco.example");
    assert_eq!(listed[0]["disabled"], false);
    assert!(!listed.to_string().contains(password), "never the password");
    assert!(kyb
        .run(&["operator", "disable", "--email", "ana@yourco.example"])
        .status
        .success());
    assert_eq!(
        kyb.json(&["operator", "list", "--json"])[0]["disabled"],
        true
    );
    assert!(kyb
        .run(&["operator", "enable", "--email", "ana@yourco.example"])
        .status
        .success());
    assert_eq!(
        kyb.json(&["operator", "list", "--json"])[0]["disabled"],
        false
    );
    let missing = kyb.run(&["operator", "disable", "--email", "bo@yourco.example"]);
    assert!(String::from_utf8_lossy(&missing.stderr)
        .contains("no operator with e-mail bo@yourco.example"));

    // Accounts limited to some platforms: an unknown platform creates nothing.
    assert_eq!(listed[0]["platforms"], Value::Null, "every platform");
    let platform = kyb.json(&["platform", "create", "--name", "Acme", "--json"])["platform_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let unknown = kyb.run(&[
        "operator",
        "create",
        "--email",
        "cy@yourco.example",
        "--role",
        "reviewer",
        "--platform",
        "plat_doesnotexist",
    ]);
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("there is no platform"));
    assert_eq!(
        kyb.json(&["operator", "list", "--json"])
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert!(kyb
        .run(&[
            "operator",
            "create",
            "--email",
            "cy@yourco.example",
            "--role",
            "reviewer",
            "--platform",
            &platform,
        ])
        .status
        .success());
    let cy = kyb.json(&["operator", "list", "--json"]);
    let cy = cy
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["email"] == "cy@yourco.example")
        .unwrap();
    assert_eq!(cy["platforms"], serde_json::json!([platform]));
    let all = kyb.run(&["operator", "scope", "--email", "cy@yourco.example", "--all"]);
    assert!(String::from_utf8_lossy(&all.stdout).contains("sees every platform"));

    // A new password from the command line (the way to reset an admin's).
    let reset = kyb.run(&["operator", "password", "--email", "cy@yourco.example"]);
    let text = String::from_utf8_lossy(&reset.stdout);
    assert!(text.contains("has a new password"), "{text}");
    assert!(text.lines().any(|l| l.starts_with("password: ")));
    let missing = kyb.run(&["operator", "password", "--email", "nobody@yourco.example"]);
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no operator with e-mail"));

    // Role changes.
    let promoted = kyb.run(&[
        "operator",
        "role",
        "--email",
        "cy@yourco.example",
        "--role",
        "admin",
    ]);
    assert!(String::from_utf8_lossy(&promoted.stdout).contains("is an admin"));
    let nobody = kyb.run(&[
        "operator",
        "role",
        "--email",
        "nobody@yourco.example",
        "--role",
        "admin",
    ]);
    assert!(String::from_utf8_lossy(&nobody.stderr)
        .contains("no operator with e-mail nobody@yourco.example"));
    // The same role again changes nothing: no second audit row (counted below).
    let again = kyb.run(&[
        "operator",
        "role",
        "--email",
        "cy@yourco.example",
        "--role",
        "admin",
    ]);
    assert!(again.status.success());
    let cy = kyb.json(&["operator", "list", "--json"]);
    assert!(cy
        .as_array()
        .unwrap()
        .iter()
        .any(|o| o["email"] == "cy@yourco.example" && o["role"] == "admin"));

    // Every change to an account is a row of the installation's audit chain, which `kyb audit
    // verify` checks with the platforms' chains.
    let file = kyb.dir.path().join("installation.jsonl");
    let export = kyb.run(&[
        "audit",
        "export",
        "--platform",
        "installation",
        "--output",
        file.to_str().unwrap(),
    ]);
    assert!(
        export.status.success(),
        "{}",
        String::from_utf8_lossy(&export.stderr)
    );
    let rows: Vec<Value> = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let actions: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| {
            (
                r["action"].as_str().unwrap(),
                r["details"]["email"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        actions,
        [
            ("operator.created", "ana@yourco.example"),
            ("operator.disabled", "ana@yourco.example"),
            ("operator.enabled", "ana@yourco.example"),
            ("operator.created", "cy@yourco.example"),
            ("operator.platforms_changed", "cy@yourco.example"),
            ("operator.password_changed", "cy@yourco.example"),
            ("operator.role_changed", "cy@yourco.example"),
        ]
    );
    assert!(rows.iter().all(|r| r["platform_id"] == "installation"
        && r["actor_type"] == "operator"
        && r["actor_id"] == "cli"));
    assert_eq!(
        rows[3]["details"]["platforms"],
        serde_json::json!([platform])
    );
    assert_eq!(
        rows[4]["details"]["previous"],
        serde_json::json!([platform])
    );
    assert_eq!(rows[4]["details"]["platforms"], serde_json::json!([]));
    assert_eq!(rows[6]["details"]["previous"], "reviewer");
    assert_eq!(rows[6]["details"]["role"], "admin");
    assert!(!std::fs::read_to_string(&file).unwrap().contains(password));
    assert!(kyb.run(&["audit", "seal"]).status.success());
    let out = kyb.run(&["audit", "verify"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("installation: ok, 7 rows"), "{stdout}");

    // Rewriting who was made an admin, or deleting the newest row, is caught.
    tamper(
        &kyb,
        "UPDATE installation_audit_log SET target_id = 'op_eve' WHERE platform_seq = 7",
    )
    .await;
    let out = kyb.run(&["audit", "verify"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success());
    assert!(stdout.contains("installation: BROKEN: row 7 ("), "{stdout}");
    tamper(
        &kyb,
        "DELETE FROM installation_audit_log WHERE platform_seq = 7",
    )
    .await;
    let stdout = String::from_utf8_lossy(&kyb.run(&["audit", "verify"]).stdout).into_owned();
    assert!(
        stdout.contains("installation: BROKEN: the tree holds 7 rows but only 6 are left"),
        "{stdout}"
    );
});

both_databases!(platform_branding, |kyb| async move {
    let created = kyb.json(&["platform", "create", "--name", "Acme", "--json"]);
    let platform = created["platform_id"].as_str().unwrap().to_owned();
    let brand = kyb.json(&[
        "platform",
        "update",
        &platform,
        "--display-name",
        "Acme Pay",
        "--accent-color",
        "#1F3A5F",
        "--support-email",
        "help@acme.example",
        "--privacy-url",
        "https://acme.example/privacy",
    ]);
    assert_eq!(
        brand,
        serde_json::json!({
            "display_name": "Acme Pay", "accent_color": "#1f3a5f",
            "support_email": "help@acme.example", "privacy_url": "https://acme.example/privacy",
        })
    );
    // A colour white text cannot be read on is refused, naming the option and the rule;
    // nothing changes.
    let out = kyb.run(&["platform", "update", &platform, "--accent-color", "#f0b400"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--accent-color") && stderr.contains("4.5:1"),
        "{stderr}"
    );
    let out = kyb.run(&[
        "platform",
        "update",
        &platform,
        "--return-url",
        "http://acme.example",
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--return-url: must start with https://"));
    let out = kyb.run(&["platform", "update", &platform]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing to change"));
    let out = kyb.run(&[
        "platform",
        "update",
        "plat_doesnotexist",
        "--display-name",
        "X",
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no platform with id plat_doesnotexist"));
    // Only what is named changes; "" clears.
    let brand = kyb.json(&["platform", "update", &platform, "--support-email", ""]);
    assert_eq!(brand["accent_color"], "#1f3a5f");
    assert_eq!(brand.get("support_email"), None);
    // A logo (PNG or JPEG by its content) and the pages' default language; an SVG is refused
    // with nothing changed, and "" removes the logo.
    let testdata = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/brand");
    let brand = kyb.json(&[
        "platform",
        "update",
        &platform,
        "--logo",
        &format!("{testdata}/logo.png"),
        "--language",
        "fr",
    ]);
    assert_eq!(brand["language"], "fr");
    assert_eq!(
        brand["logo_sha256"].as_str().map(str::len),
        Some(64),
        "{brand}"
    );
    let out = kyb.run(&[
        "platform",
        "update",
        &platform,
        "--logo",
        &format!("{testdata}/logo.svg"),
        "--display-name",
        "Changed",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("nothing changed: --logo: must be a PNG or JPEG"),
        "{stderr}"
    );
    let out = kyb.run(&["platform", "update", &platform, "--language", "de"]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--language: must be one of en, fr, es, pt")
    );
    let brand = kyb.json(&["platform", "update", &platform, "--logo", ""]);
    assert_eq!(brand.get("logo_sha256"), None);
    assert_eq!(
        brand["display_name"], "Acme Pay",
        "the refused update changed nothing"
    );
    // Each change is an audit row of the platform's chain.
    let out = kyb.run(&["audit", "verify"]);
    assert!(out.status.success());
    let file = kyb.dir.path().join("audit.jsonl");
    kyb.run(&[
        "audit",
        "export",
        "--platform",
        &platform,
        "--output",
        file.to_str().unwrap(),
    ]);
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(
        text.matches("platform.branding_changed").count(),
        3,
        "{text}"
    );
    assert_eq!(
        text.matches("platform.logo_changed").count(),
        2,
        "set, then removed: {text}"
    );
});
