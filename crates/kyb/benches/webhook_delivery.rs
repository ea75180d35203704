//! Webhook delivery: the release `kyb` binary in its own process delivers to a real HTTP
//! receiver on this machine (answering 200 at once).
//!
//! - drain: N customers are created while the service runs without workers (`KYB_WORKERS=false`),
//!   so 2N deliveries queue up; the service restarts with its dispatcher, and the time until all
//!   2N have arrived gives deliveries/s.
//! - lag: customers are created at a steady rate; for each `business_customer.created` the
//!   time from the moment the API call was made to the webhook's arrival at the receiver (the
//!   event is committed in between, so this bounds the event-to-delivery lag from above).
//!
//! cargo bench -p kyb --bench webhook_delivery -- --db both --customers 2000 --rate 50 --seconds 20

use clap::Parser;
use kyb_testkit::receiver::Receiver;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Parser, Debug)]
struct Args {
    /// sqlite, postgres or both.
    #[arg(long, default_value = "both")]
    db: String,
    /// Customers created before the drain (two deliveries each).
    #[arg(long, default_value_t = 2_000)]
    customers: usize,
    /// Customers per second during the lag measurement.
    #[arg(long, default_value_t = 50)]
    rate: u64,
    /// Length of the lag measurement.
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// KYB_WEBHOOKS_CONCURRENCY of the service.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Ignored: cargo bench passes it.
    #[arg(long, hide = true)]
    bench: bool,
}

struct Service {
    child: Child,
    base: String,
    key: String,
    client: reqwest::Client,
}

/// A database and data folder that outlive one run of the service.
struct Place {
    dir: tempfile::TempDir,
    url: String,
    _pg: Option<kyb_testkit::PgDatabase>,
    key: Option<String>,
}

impl Place {
    async fn new(kind: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let (url, pg) = match kind {
            "sqlite" => (
                format!("sqlite://{}", dir.path().join("kyb.db").display()),
                None,
            ),
            _ => {
                let pg = kyb_testkit::PgDatabase::create().await;
                (pg.url().to_owned(), Some(pg))
            }
        };
        Self {
            dir,
            url,
            _pg: pg,
            key: None,
        }
    }
}

impl Service {
    async fn start(place: &mut Place, concurrency: usize, workers: bool) -> Self {
        let url = place.url.clone();
        let data_dir = place.dir.path().join("data");
        let command = || {
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_kyb"));
            cmd.arg("--data-dir")
                .arg(&data_dir)
                .arg("--database-url")
                .arg(&url)
                .env("KYB_WEBHOOKS_ALLOW_INSECURE", "true")
                .env("KYB_WEBHOOKS_CONCURRENCY", concurrency.to_string())
                .env("KYB_WORKERS", workers.to_string())
                // One key drives the whole load: the per-key rate limit would cap it.
                .env("KYB_API_RATE_LIMIT", "0");
            cmd
        };
        let key = match &place.key {
            Some(k) => k.clone(),
            None => {
                let out = command()
                    .args(["platform", "create", "--name", "Bench", "--json"])
                    .output()
                    .unwrap();
                assert!(out.status.success());
                let created: Value = serde_json::from_slice(&out.stdout).unwrap();
                let key = created["api_key"].as_str().unwrap().to_owned();
                place.key = Some(key.clone());
                key
            }
        };
        let mut child = command()
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
                    let _ = std::io::copy(&mut stderr, &mut std::io::sink());
                    return;
                }
                line.clear();
            }
        });
        let addr = rx.recv_timeout(Duration::from_secs(60)).unwrap();
        Self {
            child,
            base: format!("http://{addr}"),
            key,
            client: reqwest::Client::new(),
        }
    }

    async fn post(&self, path: &str, idem: &str, body: Value) -> Value {
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .header("ngnc-sec-key", &self.key)
            .header("idempotency-key", idem)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        r.json().await.unwrap()
    }

    async fn create_customer(&self, tag: &str, i: usize) -> String {
        create_customer(&self.client, &self.base, &self.key, tag, i).await
    }

    fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

async fn create_customer(
    client: &reqwest::Client,
    base: &str,
    key: &str,
    tag: &str,
    i: usize,
) -> String {
    let r = client
        .post(format!("{base}/v2/business_customer"))
        .header("ngnc-sec-key", key)
        .header("idempotency-key", format!("{tag}-{i}"))
        .json(&json!({
            "business_name": format!("Bench {i} Ltd"),
            "business_email": format!("{tag}-{i}@bench.example"),
            "phone_number": "+1-555-0123",
            "registered_address": "1 Main Street, New York",
            "registered_country": "USA"
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    v["customer_id"].as_str().unwrap().to_owned()
}

fn percentile(sorted: &[Duration], q: f64) -> Duration {
    sorted[((sorted.len() as f64 * q) as usize).min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let kinds: Vec<&str> = match args.db.as_str() {
        "both" => vec!["sqlite", "postgres"],
        one => vec![one],
    };
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    println!(
        "machine: {cores} cores; customers: {}, rate: {}/s for {} s, concurrency: {}",
        args.customers, args.rate, args.seconds, args.concurrency
    );
    let mut table = Vec::new();
    for kind in kinds {
        let mut place = Place::new(kind).await;
        let receiver = Receiver::start().await;

        // Drain: queue 2N deliveries with no dispatcher running, then start one.
        let service = Service::start(&mut place, args.concurrency, false).await;
        service
            .post(
                "/v2/webhook_endpoints",
                "endpoint",
                json!({ "url": receiver.url() }),
            )
            .await;
        let mut creators = tokio::task::JoinSet::new();
        for w in 0..8 {
            let (client, base, key, n) = (
                service.client.clone(),
                service.base.clone(),
                service.key.clone(),
                args.customers,
            );
            creators.spawn(async move {
                for i in (w..n).step_by(8) {
                    create_customer(&client, &base, &key, "drain", i).await;
                }
            });
        }
        creators.join_all().await;
        service.stop();
        let total = 2 * args.customers;
        let started = Instant::now();
        let service = Service::start(&mut place, args.concurrency, true).await;
        receiver
            .wait_for_hits(total, Duration::from_secs(600))
            .await;
        let drained_in = started.elapsed();
        let drain_rate = total as f64 / drained_in.as_secs_f64();
        println!(
            "{kind}: {total} queued deliveries arrived {:.2} s after the service started ({drain_rate:.0}/s, start-up included)",
            drained_in.as_secs_f64(),
        );

        // Lag at a steady rate.
        let before = receiver.hits().len();
        let mut sent: HashMap<String, Instant> = HashMap::new();
        let every = Duration::from_secs_f64(1.0 / args.rate as f64);
        let n = (args.rate * args.seconds) as usize;
        let mut tick = tokio::time::interval(every);
        for i in 0..n {
            tick.tick().await;
            let asked = Instant::now();
            let id = service.create_customer("lag", i).await;
            sent.insert(id, asked);
        }
        let hits = receiver
            .wait_for_hits(before + 2 * n, Duration::from_secs(600))
            .await;
        let mut lags: Vec<Duration> = hits[before..]
            .iter()
            .filter_map(|h| {
                let v = h.json();
                if v["type"] != "business_customer.created" {
                    return None;
                }
                let at = sent.get(v["data"]["object"]["customer_id"].as_str()?)?;
                Some(h.at.saturating_duration_since(*at))
            })
            .collect();
        lags.sort();
        println!(
            "{kind}: lag over {} events: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            lags.len(),
            ms(percentile(&lags, 0.5)),
            ms(percentile(&lags, 0.99)),
            ms(*lags.last().unwrap())
        );
        table.push(format!(
            "| {kind} | {total} | {:.0} | {} /s | {:.1} ms | {:.1} ms |",
            drain_rate,
            args.rate,
            ms(percentile(&lags, 0.5)),
            ms(percentile(&lags, 0.99))
        ));
        service.stop();
    }
    println!();
    println!(
        "| database | queued deliveries | drained per second | steady rate | lag p50 | lag p99 |"
    );
    println!("|---|---|---|---|---|---|");
    for row in table {
        println!("{row}");
    }
}
