//! Throughput of `POST /v2/business_customer`: the release `kyb` binary in its own process,
//! driven over HTTP by N concurrent clients with unique idempotency keys; then the same work
//! (`create_customer`, the one transaction) run directly N-wide without HTTP, on a fresh database
//! of the same kind. The ratio service/raw is what the HTTP layer costs.
//!
//! cargo bench -p kyb --bench create_customer -- --db both --clients 32 --requests 20000

use clap::Parser;
use kyb_domain::{IdempotencyKey, Mode};
use kyb_server::api::business_customer::{create_customer, CreateBusinessCustomerRequest};
use kyb_server::auth::Authenticated;
use kyb_server::extract::RequestContext;
use kyb_server::{Application, Config, RawConfig};
use kyb_store::{secrets, AuditContext, Idempotent, Scope};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Parser, Debug)]
struct Args {
    /// sqlite, postgres or both.
    #[arg(long, default_value = "both")]
    db: String,
    /// Concurrent clients.
    #[arg(long, default_value_t = 32)]
    clients: usize,
    /// Measured requests per run (after a warm-up of 500).
    #[arg(long, default_value_t = 20_000)]
    requests: usize,
    /// Ignored: cargo bench passes it.
    #[arg(long, hide = true)]
    bench: bool,
}

struct Figures {
    rate: f64,
    p50: Duration,
    p99: Duration,
}

fn figures(mut latencies: Vec<Duration>, elapsed: Duration) -> Figures {
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    Figures {
        rate: latencies.len() as f64 / elapsed.as_secs_f64(),
        p50: at(0.50),
        p99: at(0.99),
    }
}

/// The request body, formatted directly: the load generator should spend its CPU on sending.
fn body(i: usize, run: &str) -> String {
    format!(
        r#"{{"business_name":"Bench Business {i} Ltd","business_email":"bench-{run}-{i}@example.com","phone_number":"+1-555-0123","registered_address":"123 Business Street, Suite 100, New York, NY 10001","registered_country":"USA"}}"#
    )
}

/// N tasks pull request numbers from one counter until `total`; returns per-request latencies.
async fn drive<F, Fut>(clients: usize, total: usize, one: F) -> (Vec<Duration>, Duration)
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let next = Arc::new(AtomicUsize::new(0));
    let one = Arc::new(one);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (next, one) = (next.clone(), one.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    break;
                }
                let t = Instant::now();
                one(i).await;
                latencies.push(t.elapsed());
            }
            latencies
        }));
    }
    let mut all = Vec::with_capacity(total);
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    (all, started.elapsed())
}

/// A fresh database URL of the kind asked for, kept alive by the returned guard.
async fn database(
    kind: &str,
    dir: &std::path::Path,
    name: &str,
) -> (String, Option<kyb_testkit::PgDatabase>) {
    match kind {
        "sqlite" => (
            format!("sqlite://{}", dir.join(format!("{name}.db")).display()),
            None,
        ),
        _ => {
            let pg = kyb_testkit::PgDatabase::create().await;
            (pg.url().to_owned(), Some(pg))
        }
    }
}

fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

async fn service(kind: &str, args: &Args, dir: &std::path::Path) -> (Figures, u64) {
    let (url, _pg) = database(kind, dir, "service").await;
    let kyb = env!("CARGO_BIN_EXE_kyb");
    let data_dir = dir.join("service-data");
    let base = |cmd: &mut Command| {
        cmd.arg("--data-dir")
            .arg(&data_dir)
            .arg("--database-url")
            .arg(&url);
    };
    let mut create = Command::new(kyb);
    base(&mut create);
    let out = create
        .args(["platform", "create", "--name", "Bench", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let key = serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()["api_key"]
        .as_str()
        .unwrap()
        .to_owned();

    let mut serve = Command::new(kyb);
    base(&mut serve);
    let mut child = serve
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        while stderr.read_line(&mut line).map(|n| n > 0).unwrap_or(false) {
            if let Some(rest) = line.split("address=").nth(1) {
                let _ = tx.send(
                    rest.split_whitespace()
                        .next()
                        .unwrap_or_default()
                        .to_owned(),
                );
                // Then only drain the log, so the service never blocks on a full pipe.
                let _ = std::io::copy(&mut stderr, &mut std::io::sink());
                return;
            }
            line.clear();
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("kyb serve reports its address");
    let endpoint: Arc<str> = format!("http://{addr}/v2/business_customer").into();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.clients)
        .build()
        .unwrap();

    let run = |tag: &'static str, total: usize| {
        let (client, endpoint, key) = (client.clone(), endpoint.clone(), key.clone());
        drive(args.clients, total, move |i| {
            let (client, endpoint, key) = (client.clone(), endpoint.clone(), key.clone());
            async move {
                let r = client
                    .post(&*endpoint)
                    .header("ngnc-sec-key", &key)
                    .header("idempotency-key", format!("{tag}-{i}"))
                    .header("content-type", "application/json")
                    .body(body(i, tag))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200);
                r.bytes().await.unwrap();
            }
        })
    };
    run("warm", 500).await;
    let (latencies, elapsed) = run("svc", args.requests).await;
    let peak = peak_rss_kib(child.id());
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
    (figures(latencies, elapsed), peak)
}

async fn raw(kind: &str, args: &Args, dir: &std::path::Path) -> Figures {
    let (url, _pg) = database(kind, dir, "raw").await;
    let raw = RawConfig {
        listen: "127.0.0.1:0".into(),
        data_dir: dir.join("raw-data"),
        database_url: Some(url),
        workers: false,
        ..RawConfig::default()
    };
    let app = Application::build(Config::try_from(raw).unwrap())
        .await
        .unwrap();
    let state = app.state().clone();
    let ctx = AuditContext::operator_cli(state.clock.now());
    let platform = state.store.create_platform("Bench", &ctx).await.unwrap();
    let secret = kyb_domain::ApiKeySecret::generate(Mode::Test);
    let key = state
        .store
        .create_key(
            &platform.id,
            Mode::Test,
            secret.lookup_prefix(),
            &secrets::hash_secret(secret.expose_secret()),
            None,
            &ctx,
        )
        .await
        .unwrap();
    let auth = Arc::new(Authenticated {
        scope: Scope {
            platform_id: platform.id,
            mode: Mode::Test,
        },
        key_id: key.id,
    });
    let run = |tag: &'static str, total: usize| {
        let (state, auth) = (state.clone(), auth.clone());
        drive(args.clients, total, move |i| {
            let (state, auth) = (state.clone(), auth.clone());
            async move {
                let raw_body: serde_json::Value = serde_json::from_str(&body(i, tag)).unwrap();
                let req: CreateBusinessCustomerRequest =
                    serde_json::from_value(raw_body.clone()).unwrap();
                let ctx = RequestContext {
                    request_id: None,
                    client_addr: None,
                };
                let key = IdempotencyKey::parse(&format!("{tag}-{i}")).unwrap();
                let outcome =
                    create_customer(&state, &auth, key, &req, Some(&raw_body), &ctx).await;
                assert!(matches!(outcome, Ok(Idempotent::Fresh(_))));
            }
        })
    };
    run("warm", 500).await;
    let (latencies, elapsed) = run("raw", args.requests).await;
    state.store.close().await;
    figures(latencies, elapsed)
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    format!("{cores} cores, {cpu}")
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let kinds: Vec<&str> = match args.db.as_str() {
        "both" => vec!["sqlite", "postgres"],
        one => vec![one],
    };
    println!("machine: {}", machine());
    println!(
        "clients: {}, measured requests per run: {}",
        args.clients, args.requests
    );
    println!();
    println!("| database | service req/s | p50 | p99 | peak RSS | raw tx/s | raw p50 | raw p99 | service/raw |");
    println!("|---|---|---|---|---|---|---|---|---|");
    for kind in kinds {
        let dir = tempfile::tempdir().unwrap();
        let (svc, peak) = service(kind, &args, dir.path()).await;
        let direct = raw(kind, &args, dir.path()).await;
        println!(
            "| {kind} | {:.0} | {:.2} ms | {:.2} ms | {:.1} MiB | {:.0} | {:.2} ms | {:.2} ms | {:.0} % |",
            svc.rate,
            svc.p50.as_secs_f64() * 1e3,
            svc.p99.as_secs_f64() * 1e3,
            peak as f64 / 1024.0,
            direct.rate,
            direct.p50.as_secs_f64() * 1e3,
            direct.p99.as_secs_f64() * 1e3,
            svc.rate / direct.rate * 100.0
        );
    }
}
